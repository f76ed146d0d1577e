"""`--format sarif`: SARIF 2.1.0 for code scanning (see scanner.report.sarif)."""

from __future__ import annotations

from scanner.model import ScanResult
from scanner.report.interface import OutputFormat, register


def render(result: ScanResult, *, verbose: bool, version: str) -> str:
    from scanner.report.sarif import render_sarif

    return render_sarif(result, version)  # results are what they are: no verbose mode


register(OutputFormat(name="sarif", position=40, draws=False, render=render))
