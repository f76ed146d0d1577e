"""`trustmap explain`: the Explanation scanner.explain builds and scanner.report.explain
draws (paths from top-level packages, dependents, unknown names, the --paths limit)."""

from __future__ import annotations

import dataclasses
import io
import json

import networkx as nx
import pytest
from rich.console import Console

from scanner.explain import explain
from scanner.model import (
    Edge,
    Facts,
    Finding,
    InputError,
    Package,
    Resolution,
    ScanResult,
    TargetEnvironment,
)
from scanner.report.explain import render_explain_json, render_explain_terminal
from scanner.summary import with_summary

# Top-level a and b; d is reached three ways: a>d, a>c>d, b>c>d.
EDGES = (("a", "c"), ("b", "c"), ("c", "d"), ("a", "d"))


def diamond() -> ScanResult:
    packages = tuple(Package(name=n, version="1.0") for n in ("a", "b", "c", "d"))
    edges = tuple(Edge(parent=p, child=c) for p, c in EDGES)
    graph = nx.DiGraph()
    for package in packages:
        graph.add_node(package.name, package=package, top_level=package.name in {"a", "b"})
    for edge in edges:
        graph.add_edge(edge.parent, edge.child, edge=edge)
    target = TargetEnvironment(markers={"python_version": "3.11"}, description="")
    return with_summary(
        ScanResult(
            resolution=Resolution(
                packages=packages, edges=edges, target=target, source="lab", roots=("a", "b")
            ),
            graph=graph,
            facts={
                "d": Facts(values={"publishers": ["solo"]}, unknown={"download_rank": "offline"})
            },
            findings=(Finding("solo-maintainer", "d", "high", "One account can publish", {}),),
            undetermined=(),
        )
    )


def drawn(result: ScanResult, name: str, max_paths: int = 20) -> str:
    console = Console(width=120, record=True, file=io.StringIO(), color_system=None)
    render_explain_terminal(result, explain(result, name, max_paths), console)
    return console.export_text()


def test_every_path_from_a_top_level_package_is_listed_shortest_first():
    result = diamond()
    explanation = explain(result, "d")
    assert explanation.paths.paths == [["a", "d"], ["a", "c", "d"], ["b", "c", "d"]]
    assert (explanation.paths.total, explanation.paths.exact) == (3, True)
    assert explanation.dependents == ["a", "b", "c"]
    assert explanation.required_by == ["a", "c"] and explanation.requires == []
    text = drawn(result, "d")
    assert "Paths from top-level packages (3)" in text
    for shown in ("a → d", "a → c → d", "b → c → d"):
        assert shown in text, text
    assert "solo-maintainer" in text and "download_rank" in text and "unknown: offline" in text


def test_max_paths_lists_that_many_and_counts_the_rest():
    result = diamond()
    explanation = explain(result, "d", max_paths=1)
    assert explanation.paths.paths == [["a", "d"]] and explanation.paths.total == 3
    text = drawn(result, "d", max_paths=1)
    assert "Paths from top-level packages (3)" in text
    assert "… and 2 more (--paths N shows more)" in text
    assert "b → c → d" not in text
    doc = json.loads(render_explain_json(result, explanation, "0.1.0"))
    assert doc["package"]["paths"] == {"total": 3, "exact": True, "shown": [["a", "d"]]}
    assert doc["package"]["dependents"] == {
        "count": 3,
        "names": ["a", "b", "c"],
        "direct": ["a", "c"],
    }


def test_a_top_level_package_with_no_dependents():
    text = drawn(diamond(), "b")
    assert "top-level: yes" in text and "depended on by: 0 packages" in text
    assert "b → c" not in text  # paths lead to the package, not from it


def test_the_name_is_matched_in_any_spelling():
    assert explain(diamond(), "D").package.name == "d"


def test_an_unknown_package_is_an_input_error_naming_the_closure():
    with pytest.raises(InputError, match=r"nope: not in this closure \(4 packages from lab\)"):
        explain(diamond(), "nope")


def test_a_long_finding_title_wraps_under_itself_at_80_columns():
    result = diamond()
    long_title = "One account alone publishes a package few people use, " * 2
    finding = Finding("solo-and-little-used", "d", "high", long_title.strip(), {"x": 1})
    result = dataclasses.replace(result, findings=(finding,))
    console = Console(width=80, record=True, file=io.StringIO(), color_system=None)
    render_explain_terminal(result, explain(result, "d", 20), console)
    out = console.export_text()
    lines = out[out.index("Findings (1)") :].splitlines()[1:4]
    assert lines[0].startswith("  HIGH     solo-and-little-used: One account"), lines
    assert lines[1].startswith(" " * 11) and lines[1].strip(), lines  # under the title
