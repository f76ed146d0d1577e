"""`--format markdown`: a pull-request comment or job summary (see scanner.report.markdown)."""

from __future__ import annotations

from scanner.model import ScanResult
from scanner.report.interface import OutputFormat, register


def render(result: ScanResult, *, verbose: bool, version: str) -> str:
    from scanner.report.markdown import render_markdown

    return render_markdown(result, version)  # long lists fold into <details>: no verbose mode


register(OutputFormat(name="markdown", position=50, draws=False, render=render))
