"""The HTML report as a person sees it: headless Chromium (Debian's `chromium`) opens the
report of a real 277-package scan into which a hostile package was slipped, draws it,
runs its script and dumps the DOM. One browser launch for the whole module.

Skipped, with the reason, where Chromium is not installed or cannot start. Chromium runs
with every background service off and with name resolution mapped to nothing, so that
neither it nor the report can reach any host."""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

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
    path: Path  # the file as written
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


def _open(chromium: str, page: Path, profile: Path, screenshot: Path | None = None):
    """Chromium opens `page` once: the DOM after its scripts ran, and a screenshot."""
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
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
        *([f"--screenshot={screenshot}"] if screenshot else []),
        "--dump-dom",
        page.as_uri(),
    ]
    if os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium's sandbox refuses to run as root
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"chromium cannot run here: {exc}")
    if done.returncode != 0 or "<html" not in done.stdout:
        tail = " / ".join(done.stderr.strip().splitlines()[-3:])
        pytest.skip(f"chromium cannot run here (exit {done.returncode}): {tail}")
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


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
    dom, console = _open(chromium, report, folder / "profile", screenshot)
    findings = sum(len(p.get("findings", [])) for p in saved["packages"])
    return BrowserView(
        report, dom, screenshot.read_bytes(), console, len(saved["packages"]), findings
    )


# Played in the page after the report's own script, as a person would: sort the table by
# reach (twice), filter it, pick a severity, click a package in the graph, zoom in. What
# it saw goes into the DOM as JSON.
DRIVER = """
(function () {
  var seen = {};
  var table = document.getElementById("findings-table");
  var rows = function () { return Array.prototype.slice.call(table.tBodies[0].rows); };
  var reach = function () {
    return rows().map(function (r) { return +r.cells[4].getAttribute("data-v"); });
  };
  var header = table.tHead.rows[0].cells[4];
  header.click(); seen.ascending = reach();
  header.click(); seen.descending = reach();
  var text = document.getElementById("findings-filter");
  text.value = "fresh-release"; text.dispatchEvent(new Event("input"));
  seen.filtered = rows().filter(function (r) { return !r.hidden; }).map(function (r) {
    return r.cells[2].textContent; });
  seen.count = document.getElementById("findings-count").textContent;
  text.value = ""; text.dispatchEvent(new Event("input"));
  var severity = document.getElementById("findings-severity");
  severity.value = "3"; severity.dispatchEvent(new Event("change"));
  seen.severe = rows().filter(function (r) { return !r.hidden; }).map(function (r) {
    return r.getAttribute("data-rank"); });
  var svg = document.getElementById("graph-svg");
  var target = svg.querySelector('#graph-edges path').getAttribute("data-to");
  var node = svg.querySelector('.node[data-i="' + target + '"] text');
  node.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  var info = document.getElementById("node-info");
  seen.info = info.hidden ? null : info.textContent;
  seen.label = svg.querySelector('.node[data-i="' + target + '"] title').textContent;
  seen.up = svg.querySelectorAll("#graph-edges path.up").length;
  seen.down = svg.querySelectorAll("#graph-edges path.down").length;
  var before = svg.getAttribute("viewBox");
  document.getElementById("zoom-in").click();
  seen.zoomed = [before, svg.getAttribute("viewBox")];
  var out = document.createElement("pre");
  out.id = "driver-result";
  out.textContent = JSON.stringify(seen);
  document.body.appendChild(out);
})();
"""


@pytest.fixture(scope="module")
def driven(view: BrowserView, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The report with DRIVER added after its script (and allowed by the policy)."""
    folder = tmp_path_factory.mktemp("html-driven")
    digest = base64.b64encode(hashlib.sha256(DRIVER.encode()).digest()).decode()
    page = (
        view.path.read_text()
        .replace("script-src '", f"script-src 'sha256-{digest}' '", 1)
        .replace("</body>", f"<script>{DRIVER}</script></body>")
    )
    (folder / "driven.html").write_text(page)
    dom, console = _open(_chromium() or "chromium", folder / "driven.html", folder / "profile")
    assert console == []
    return json.loads(html.unescape(re.search(r'<pre id="driver-result">(.*?)</pre>', dom)[1]))


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
    assert view.path.stat().st_size < 1_500_000


def test_the_table_sorts_and_filters_and_the_graph_answers_a_click(driven: dict):
    assert driven["ascending"] == sorted(driven["ascending"])
    assert driven["descending"] == sorted(driven["ascending"], reverse=True)
    assert driven["filtered"] and set(driven["filtered"]) == {"fresh-release"}
    assert driven["count"] == f"{len(driven['filtered'])} of {len(driven['ascending'])} shown"
    assert driven["severe"] and all(int(rank) >= 3 for rank in driven["severe"])
    # The clicked package: its name in the box, what requires it lit up.
    assert driven["info"] and driven["label"].split("==")[0] in driven["info"]
    assert driven["up"] >= 1
    before, after = (list(map(float, box.split())) for box in driven["zoomed"])
    assert after[2] < before[2] and after[3] < before[3]
