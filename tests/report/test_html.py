"""`--format html`: one self-contained file, every string from metadata shown as text,
the graph laid out with every edge running rightwards. (How a browser draws it:
tests/report/test_html_browser.py.)"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re

import networkx as nx

from scanner.graph import build_graph
from scanner.model import (
    Edge,
    Facts,
    Finding,
    Package,
    Resolution,
    ScanResult,
    TargetEnvironment,
    Undetermined,
)
from scanner.report.html import json_for_script, link, render_html
from scanner.report.html_graph import _layers, _ordered_columns
from scanner.report.interface import format_names
from scanner.summary import with_summary

INJECTED = "document.title='pwned'"
HOSTILE_NAME = f"<script>{INJECTED}</script>"
HOSTILE_SUMMARY = f'"onload={INJECTED} x="<img src=x onerror="{INJECTED}"> </script><!--'
HOSTILE_URL = f"javascript:{INJECTED}"
HOSTILE_ACCOUNT = f"<svg onload={INJECTED}>"


def hostile_result() -> ScanResult:
    """A scan in which one package's name, summary, URLs, account and a finding's evidence
    carry HTML and script, as a package on the index may."""
    packages = (
        Package("app", "1.0", summary="the project"),
        Package(HOSTILE_NAME, "6.6.6", summary=HOSTILE_SUMMARY, direct_url=HOSTILE_URL),
        Package("requests", "2.32.3", summary="HTTP for Humans."),
    )
    edges = (Edge("app", HOSTILE_NAME), Edge("app", "requests"), Edge(HOSTILE_NAME, "requests"))
    resolution = Resolution(
        packages, edges, TargetEnvironment({"python_version": "3.11"}, "test"), "hostile"
    )
    facts = {
        "app": Facts({"publishers": ["ann"], "organization": ""}),
        HOSTILE_NAME: Facts(
            {
                "publishers": [HOSTILE_ACCOUNT, "ann"],
                "organization": "",
                "homepage": HOSTILE_URL,
                "source_repository": f'https://example.org/"><script>{INJECTED}</script>',
            },
            unknown={"has_provenance": f"<marquee>{INJECTED}</marquee>"},
        ),
        "requests": Facts({"publishers": ["ann"], "organization": ""}),
    }
    findings = (
        Finding(
            "solo-maintainer",
            HOSTILE_NAME,
            "high",
            f"<i>{INJECTED}</i>",
            {"homepage": HOSTILE_URL, "summary": HOSTILE_SUMMARY},
        ),
    )
    undetermined = (
        Undetermined("no-provenance", HOSTILE_NAME, "low", ("has_provenance",), ("<u>x</u>",)),
    )
    result = ScanResult(
        resolution,
        build_graph(resolution),
        facts,
        findings,
        undetermined,
        notes=("<marquee>n</marquee>",),
    )
    return with_summary(result)


def inline_blocks(document: str, tag: str) -> list[tuple[str, str]]:
    return re.findall(rf"<{tag}([^>]*)>(.*?)</{tag}>", document, re.S)


def test_html_is_a_registered_format():
    assert "html" in format_names()


def test_metadata_renders_as_text_and_no_markup_of_its_own_gets_through():
    document = render_html(hostile_result(), "1.2.3")
    # The only script elements are the report's own: its code and its JSON data.
    scripts = inline_blocks(document, "script")
    assert [attrs for attrs, _ in scripts] == [' type="application/json" id="report-data"', ""]
    assert document.count("<script") == 2
    # No element or attribute from the metadata: each hostile string is there escaped.
    for raw in (HOSTILE_NAME, "<img src=x", HOSTILE_ACCOUNT, "<i>", "<marquee>", "<u>", "<!--"):
        assert raw not in document.replace(scripts[1][1], "")
    assert html.escape(HOSTILE_NAME, quote=False) in document
    assert "&lt;img src=x onerror=" in document
    # javascript: never becomes a link; an http URL with a quote in it cannot end its href.
    assert not re.search(r"href=\"\s*javascript", document, re.I)
    assert "javascript:document.title=&#x27;pwned&#x27;" in document or (
        "javascript:document.title='pwned'" in document
    )
    assert 'href="https://example.org/&quot;&gt;&lt;script&gt;' in document
    tags = re.findall(r"<[a-zA-Z][^>]*>", document.replace(scripts[1][1], ""))
    assert not [t for t in tags if re.search(r"\son\w+\s*=", t)]


def test_script_data_cannot_close_its_script_element():
    document = render_html(hostile_result(), "1.2.3")
    data = inline_blocks(document, "script")[0][1]
    assert not set(data) & set("<>&")
    packages = json.loads(data)["packages"]
    assert HOSTILE_NAME + "==6.6.6" in {p["label"] for p in packages}
    assert json_for_script({"a": "</script><!--&"}) == (
        '{"a":"\\u003c/script\\u003e\\u003c!--\\u0026"}'
    )


def test_the_policy_allows_only_the_reports_own_script_and_style_by_hash():
    document = render_html(hostile_result(), "1.2.3")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', document)[1]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    script = inline_blocks(document, "script")[1][1]
    style = inline_blocks(document, "style")[0][1]

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert directives["script-src"] == digest(script)
    assert directives["style-src"] == digest(style)
    assert "unsafe" not in policy


def test_nothing_is_loaded_from_anywhere():
    document = render_html(hostile_result(), "1.2.3")
    tags = re.findall(r"<[a-zA-Z][^>]*>", document)
    assert not [t for t in tags if re.search(r"\ssrc=|^<(link|img|iframe|object|embed)", t)]
    assert not re.search(r"@import|url\(", inline_blocks(document, "style")[0][1])
    # Links (to a package's repository) are followed only when clicked, and say nothing.
    for anchor in re.findall(r"<a [^>]*>", document):
        assert 'href="#' in anchor or 'rel="noopener noreferrer nofollow"' in anchor


def test_only_http_urls_become_links():
    assert link("https://example.org/x").startswith('<a href="https://example.org/x"')
    for url in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "file:///etc",
                "https://", "https://exa\u202emple.org/", " javascript:x",
                "javascript://example.org/%0aalert(1)"):  # fmt: skip
        assert "<a" not in link(url), url


def test_the_report_shows_summary_graph_chart_table_and_a_panel_per_package():
    result = hostile_result()
    document = render_html(result, "1.2.3")
    for section in ("summary", "graph", "accounts", "findings", "packages", "notes"):
        assert f'<section id="{section}">' in document
    assert document.count('<g class="node ') == 3
    assert document.count('<details class="package"') == 3
    assert re.search(r'<svg id="accounts-chart".*<rect', document, re.S)
    rows = re.search(r'<table id="findings-table">.*?<tbody>(.*?)</tbody>', document, re.S)[1]
    assert rows.count("<tr") == 1
    # The hostile package: blast radius 1 (app depends on it), high finding, red.
    assert 'class="node sev-high"' in document


def make_chain_graph() -> nx.DiGraph:
    packages = tuple(Package(n, "1") for n in "abcdefg")
    edges = tuple(
        Edge(p, c) for p, c in ("ab", "ac", "bd", "cd", "de", "ef", "fd", "ag", "gd")
    )  # d -> e -> f -> d is a cycle
    return build_graph(Resolution(packages, edges, TargetEnvironment({}, "t"), "t"))


def test_layers_put_every_package_right_of_what_requires_it():
    graph = make_chain_graph()
    layers = _layers(graph)
    assert layers["a"] == 0
    cycle = {"d", "e", "f"}
    for parent, child in graph.edges():
        if {parent, child} <= cycle:
            assert layers[parent] == layers[child]  # a cycle shares a column
        else:
            assert layers[parent] < layers[child], (parent, child)
    columns = _ordered_columns(graph, layers)
    assert sorted(n for column in columns for n in column) == sorted(graph)


def test_tall_layers_wrap_into_columns():
    packages = (Package("root", "1"), *(Package(f"p{i}", "1") for i in range(100)))
    edges = tuple(Edge("root", f"p{i}") for i in range(100))
    graph = build_graph(Resolution(packages, edges, TargetEnvironment({}, "t"), "t"))
    columns = _ordered_columns(graph, _layers(graph))
    assert columns[0] == ["root"]
    assert len(columns) == 4 and all(len(c) <= 36 for c in columns)


def test_a_gate_report_leads_with_its_outcome():
    from tests.report.test_markdown import gated
    from tests.report.test_sarif import make_result

    document = render_html(gated(make_result()), "1.2.3")
    summary = document[document.index('<section id="summary">') :]
    assert summary.index("<b>Gate: fail</b>") < summary.index('<div class="cards">')


def test_a_source_not_asked_is_said_in_the_summary_not_only_in_the_notes():
    import dataclasses

    note = "unreachable: api.github.com could not be reached (ConnectError); not asked again"
    result = dataclasses.replace(hostile_result(), notes=(note, "index: test"))
    document = render_html(result, "1.2.3")
    summary = document[document.index('<section id="summary">') : document.index('id="graph"')]
    assert html.escape(note, quote=False) in summary
    assert "index: test" not in summary
