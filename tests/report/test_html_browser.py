"""The HTML report as a person sees it: headless Chromium (Debian's `chromium`) opens the
report of a real 277-package scan into which a hostile package was slipped, draws it,
runs its script and dumps the DOM. One browser launch for the whole module.

Skipped, with the reason, where Chromium is not installed or cannot start. Chromium runs
with every background service off and with name resolution mapped to nothing, so that
neither it nor the report can reach any host."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from scanner.cli import main
from tests.conftest import FIXTURES

SAVED_SCAN = FIXTURES / "scans" / "llm-app.json.gz"
INJECTED = "document.title='pwned'"
HOSTILE_NAME = f"<script>{INJECTED}</script>"
WIDTH, HEIGHT = 1280, 1600


@dataclass(frozen=True)
class BrowserView:
    html: str  # the file as written
    dom: str  # the DOM after the report's script ran
    png: bytes
    console: list[str]  # console messages (CSP violations are among them)
    packages: int
    findings: int


def _chromium() -> str | None:
    return shutil.which("chromium")


def _with_hostile_package(saved: dict) -> dict:
    """A package whose name, summary, URLs, publisher and finding carry HTML and script,
    required by a real top-level package of the scan."""
    top = next(p["name"] for p in saved["packages"] if p["top_level"])
    saved["packages"].append(
        {
            "name": HOSTILE_NAME,
            "version": "6.6.6",
            "summary": f'"onload={INJECTED} x="<img src=x onerror="{INJECTED}">',
            "top_level": False,
            "direct_url": f"javascript:{INJECTED}",
            "facts": {
                "publishers": [f"<svg onload={INJECTED}>"],
                "organization": "",
                "homepage": f"javascript:{INJECTED}",
                "source_repository": f'https://example.org/"><script>{INJECTED}</script>',
            },
            "unknown_facts": {"has_provenance": f"<iframe srcdoc='<script>{INJECTED}'>"},
            "findings": [
                {
                    "rule": "solo-maintainer",
                    "severity": "critical",
                    "title": f"<img src=x onerror={INJECTED}>",
                    "evidence": {"homepage": f"javascript:{INJECTED}"},
                }
            ],
        }
    )
    saved["edges"].append({"from": top, "to": HOSTILE_NAME})
    return saved


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> BrowserView:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run does)")
    folder = tmp_path_factory.mktemp("html-report")
    saved = _with_hostile_package(json.loads(gzip.decompress(SAVED_SCAN.read_bytes())))
    (folder / "result.json").write_text(json.dumps(saved))
    report = folder / "report.html"
    outcome = CliRunner().invoke(
        main, ["report", str(folder / "result.json"), "-f", "html", "-o", str(report)]
    )
    assert outcome.exit_code == 0, outcome.output
    screenshot = folder / "report.png"
    command = [
        chromium,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-pings",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={folder / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
        f"--screenshot={screenshot}",
        "--dump-dom",
        report.as_uri(),
    ]
    if os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium's sandbox refuses to run as root
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"chromium cannot run here: {exc}")
    if done.returncode != 0 or "<html" not in done.stdout or not screenshot.exists():
        tail = " / ".join(done.stderr.strip().splitlines()[-3:])
        pytest.skip(f"chromium cannot run here (exit {done.returncode}): {tail}")
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    findings = sum(len(p.get("findings", [])) for p in saved["packages"])
    return BrowserView(
        report.read_text(), done.stdout, screenshot.read_bytes(), console, len(saved["packages"]),
        findings,
    )  # fmt: skip


def _element(dom: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}".*?</\1>', dom, re.S)
    assert found, f"no #{element_id} in the DOM"
    return found.group(0)


def test_no_console_message_and_no_policy_violation(view: BrowserView):
    """The report's own script and style run under its policy, and log nothing."""
    assert view.console == []


def test_the_reports_script_ran(view: BrowserView):
    count = re.search(r'id="findings-count"[^>]*>([^<]*)<', view.dom)[1]
    assert count == f"{view.findings} of {view.findings} shown"
    assert re.search(r'id="graph-box" style="height: \d+px;"', view.dom)


def test_the_graph_the_chart_and_the_table_are_drawn(view: BrowserView):
    graph = _element(view.dom, "graph-svg")
    assert graph.count("<circle") == view.packages
    assert graph.count("<path") > view.packages  # the dependency edges
    chart = _element(view.dom, "accounts-chart")
    assert chart.count("<rect") == 15
    table = _element(view.dom, "findings-table")
    assert table.count("<tr data-rank=") == view.findings
    assert view.dom.count('<details class="package"') == view.packages


def test_no_injected_script_ran_and_the_hostile_package_shows_as_text(view: BrowserView):
    title = re.search(r"<title>(.*?)</title>", view.dom, re.S)[1]
    assert title == "trustmap report: benchmarks/llm-app/pyproject.toml (pyproject)"
    assert "pwned" not in title
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in view.dom
    tags = re.findall(r"<[a-zA-Z][^>]*>", view.dom)
    # Attribute names, with the (quoted) values left out: text in a value is not markup.
    names = [re.sub(r'"[^"]*"', '""', t) for t in tags]
    assert not [t for t in names if re.search(r"\son\w+=|\ssrc=|\ssrcdoc=", t)]
    assert not [t for t in tags if re.search(r'href="\s*javascript:', t, re.I)]
    assert sum(t.startswith("<script") for t in tags) == 2


def test_the_screenshot_is_a_drawn_page(view: BrowserView):
    assert view.png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", view.png[16:24])
    assert (width, height) == (WIDTH, HEIGHT)
    # A blank page of this size compresses to a few kilobytes; text and a graph do not.
    assert len(view.png) > 60_000


def test_200_packages_stay_a_reasonable_file(view: BrowserView):
    assert view.packages > 200
    assert len(view.html.encode()) < 1_500_000
