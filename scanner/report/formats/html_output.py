"""`--format html`: one self-contained HTML file (see scanner.report.html)."""

from __future__ import annotations

from scanner.model import ScanResult
from scanner.report.interface import OutputFormat, register


def render(result: ScanResult, *, verbose: bool, version: str) -> str:
    from scanner.report.html import render_html

    return render_html(result, version)  # every package has its panel: no verbose mode


register(OutputFormat(name="html", position=60, draws=False, render=render))
