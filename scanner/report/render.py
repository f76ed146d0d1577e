"""Choosing and writing an output: one place that maps `-f/--format` to a report module,
writes it to stdout or a file, and draws the progress bar while facts are fetched."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.model import InputError, ScanResult
from scanner.report.text import safe_text

if TYPE_CHECKING:
    from rich.console import Console

# rich is imported where it is used: machine formats (JSON for scripts, CI) never need it.

_MACHINE_FORMATS = {
    "json": ("scanner.report.json_report", "render_json"),
}


def write(
    result: ScanResult, output_format: str, output: str | None, verbose: bool, version: str
) -> None:
    from rich.console import Console

    if output_format == "table":
        if output:
            with _open_output(output) as fh:
                render_table(result, Console(file=fh, no_color=True, width=160), verbose, version)
        else:
            render_table(result, Console(highlight=False), verbose, version)
        return
    if output_format == "json":
        from scanner.report.json_report import render_json

        text = render_json(result, version)
    elif output_format.startswith("cyclonedx-") and result.resolution.document is not None:
        # The input was an SBOM: annotate the user's own document rather than replace it.
        from scanner.report.cyclonedx import annotate_sbom

        text = annotate_sbom(
            result.resolution.document, result, version, output_format.removeprefix("cyclonedx-")
        )
    elif output_format in ("cyclonedx-json", "cyclonedx-xml"):
        from scanner.report.cyclonedx import render_cyclonedx

        text = render_cyclonedx(result, output_format.removeprefix("cyclonedx-"), version)
    else:  # click's Choice keeps this from happening
        raise InputError(f"unknown format {output_format!r}")
    if output:
        with _open_output(output) as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


def render_table(result: ScanResult, console: Console, verbose: bool, version: str) -> None:
    from scanner.report.terminal import render_terminal

    render_terminal(result, console, verbose=verbose, version=version)


@contextlib.contextmanager
def _open_output(path: str):
    """Write next to the target and move into place, so an interrupted run never leaves
    half a report where a whole one was."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fh = temporary.open("w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with fh:
            yield fh
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def progress_bar() -> Iterator[tuple[Callable[[int], None], Callable[[str], None]]]:
    """A progress bar on stderr while facts are fetched; nothing when stderr is not a
    terminal (CI logs, pipes)."""
    if not sys.stderr.isatty():
        yield (lambda total: None), (lambda name: None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("Fetching facts", total=None)
    with progress:
        yield (
            lambda total: progress.update(task, total=total),
            lambda name: progress.advance(task),
        )


# --- rules commands --------------------------------------------------------------------


def rules_list(rules_dirs: tuple[str, ...], config_path: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from scanner.config import load_config, load_rules

    table = Table(show_lines=False)
    table.add_column("id", no_wrap=True)  # ids are copied into configuration
    for column in ("severity", "category", "enabled", "title"):
        table.add_column(column)
    for rule in load_rules(load_config(config_path), rules_dirs).rules:
        table.add_row(
            Text(safe_text(rule.id, 80)),
            Text(rule.severity),
            Text(safe_text(rule.category, 40)),
            Text("yes" if rule.enabled else "no"),
            Text(safe_text(rule.title, 200)),
        )
    Console().print(table)


def rule_show(rule_id: str, rules_dirs: tuple[str, ...], config_path: str | None = None) -> None:
    from rich.console import Console
    from rich.text import Text

    from scanner.config import load_config, load_rules

    rule = load_rules(load_config(config_path), rules_dirs).get(rule_id)
    if rule is None:
        raise InputError(f"no rule {rule_id!r}; `trustmap rules list` shows them")
    console = Console()
    console.print(Text(safe_text(f"{rule.id}: {rule.title}"), style="bold"))
    for label, value in (
        ("severity", rule.severity),
        ("enabled", "yes" if rule.enabled else "no"),
        ("category", rule.category),
        ("file", rule.path),
        ("condition", rule.condition),
        ("params", ", ".join(f"{k} = {v!r}" for k, v in rule.params.items()) or "none"),
        ("facts used", ", ".join(rule.facts_used)),
    ):
        console.print(Text(f"{label}: ", style="bold") + Text(safe_text(value, 2000)))
    console.print(Text("why it matters:", style="bold"))
    console.print(Text(safe_text(rule.motivation, 4000)))
    console.print(Text("what to do:", style="bold"))
    console.print(Text(safe_text(rule.remediation, 4000)))
    if rule.references:
        console.print(Text("references:", style="bold"))
        for reference in rule.references:
            console.print(Text(f"  {safe_text(reference)}"))


# --- explain -----------------------------------------------------------------------------


def explain(
    result: ScanResult,
    name: str,
    output_format: str,
    output: str | None,
    max_paths: int,
    version: str,
) -> None:
    from rich.console import Console

    from scanner.report.explain import explain as explain_package
    from scanner.report.explain import render_explain_json, render_explain_terminal

    explanation = explain_package(result, name, max_paths)
    if output_format == "json":
        text = render_explain_json(result, explanation, version)
        if output:
            with _open_output(output) as fh:
                fh.write(text)
        else:
            sys.stdout.write(text)
        return
    if output:
        with _open_output(output) as fh:
            render_explain_terminal(result, explanation, Console(file=fh, no_color=True, width=160))
    else:
        render_explain_terminal(result, explanation, Console(highlight=False))


def facts_list() -> None:
    from rich.console import Console
    from rich.table import Table

    from scanner.facts import FACTS

    table = Table()
    # Names are copied into rule conditions: never broken across lines, in a pipe either.
    table.add_column("fact", no_wrap=True)
    for column in ("type", "source", "meaning"):
        table.add_column(column)
    for spec in FACTS:
        table.add_row(spec.name, spec.type, spec.source, spec.description)
    Console().print(table)
