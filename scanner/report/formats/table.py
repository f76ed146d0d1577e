"""`--format table` (the default): the terminal report, drawn with rich."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanner.model import ScanResult
from scanner.report.interface import OutputFormat, register

if TYPE_CHECKING:
    from rich.console import Console


def render(result: ScanResult, console: Console, *, verbose: bool, version: str) -> None:
    from scanner.report.terminal import render_terminal

    if result.verdict is None:
        render_terminal(result, console, verbose=verbose, version=version)
        return
    # The gate: its verdict is the report (-v adds the whole scan before it).
    from scanner.report.verdict import render_gate

    if verbose:
        render_terminal(result, console, verbose=True, version=version)
        console.print()
    # The scan above, when shown, has said its notes already.
    render_gate(result, console, verbose=verbose, version=version, notes=not verbose)


register(OutputFormat(name="table", position=0, draws=True, render=render))
