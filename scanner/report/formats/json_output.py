"""`--format json`: one JSON document for scripts (its shape is in the README)."""

from __future__ import annotations

from scanner.model import ScanResult
from scanner.report.interface import OutputFormat, register


def render(result: ScanResult, *, verbose: bool, version: str) -> str:
    from scanner.report.json_report import render_json

    return render_json(result, version)  # every package and fact is in it: no verbose mode


register(OutputFormat(name="json", position=10, draws=False, render=render))
