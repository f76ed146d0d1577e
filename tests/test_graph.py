"""The dependency graph: top-level packages, paths, dependents."""

from __future__ import annotations

from scanner.graph import all_paths_from_top, build_graph, dependents, path_from_top, top_level
from scanner.model import Edge, Package, Resolution, TargetEnvironment


def resolution(names: list[str], edges: list[tuple[str, str]], roots=None) -> Resolution:
    return Resolution(
        packages=tuple(Package(n, "1") for n in names),
        edges=tuple(Edge(a, b, specifier=">=1") for a, b in edges),
        target=TargetEnvironment({}, "test"),
        source="test",
        roots=roots,
    )


def test_top_level_packages_are_required_by_nothing():
    graph = build_graph(
        resolution(["app", "lib", "base", "tool"], [("app", "lib"), ("lib", "base")])
    )
    assert top_level(graph) == ["app", "tool"]
    assert graph.edges["app", "lib"]["edge"].specifier == ">=1"


def test_a_cycle_nothing_requires_counts_as_top_level():
    graph = build_graph(resolution(["a", "b", "c"], [("a", "b"), ("b", "a"), ("b", "c")]))
    assert top_level(graph) == ["a", "b"]


def test_declared_roots_win_over_in_degree():
    graph = build_graph(resolution(["a", "b"], [("a", "b")], roots=("b",)))
    assert top_level(graph) == ["b"]


def test_paths_and_dependents():
    graph = build_graph(
        resolution(["app", "web", "lib", "base"], [("app", "lib"), ("web", "lib"), ("lib", "base")])
    )
    assert path_from_top(graph, "base") == ["app", "lib", "base"]
    assert path_from_top(graph, "app") == ["app"]
    assert sorted(map(tuple, all_paths_from_top(graph, "base"))) == [
        ("app", "lib", "base"),
        ("web", "lib", "base"),
    ]
    assert dependents(graph, "base") == {"app", "web", "lib"}
