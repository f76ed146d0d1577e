"""The dependency graph: networkx, built from a Resolution.

Nodes are canonical package names with a `package` attribute (model.Package) and a
`top_level` flag; an edge parent -> child carries `edge` (model.Edge).
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from scanner.model import Resolution


def build_graph(resolution: Resolution) -> nx.DiGraph:
    graph = nx.DiGraph()
    for package in resolution.packages:
        graph.add_node(package.name, package=package)
    for edge in resolution.edges:
        if edge.parent in graph and edge.child in graph:
            graph.add_edge(edge.parent, edge.child, edge=edge)
    for name in _top_level(graph, resolution.roots):
        graph.nodes[name]["top_level"] = True
    for name in graph:
        graph.nodes[name].setdefault("top_level", False)
    return graph


def _top_level(graph: nx.DiGraph, roots: tuple[str, ...] | None) -> set[str]:
    """Packages required by nothing. When the input names its direct requirements, those.

    A cycle that nothing outside requires (a <-> b, both installed by hand) has no
    member of in-degree 0; every member of such a cycle counts as top-level, or nothing
    in it could be reached."""
    if roots is not None:
        return {name for name in roots if name in graph}
    condensed = nx.condensation(graph)
    top: set[str] = set()
    for component, degree in condensed.in_degree():
        if degree == 0:
            top.update(condensed.nodes[component]["members"])
    return top


def top_level(graph: nx.DiGraph) -> list[str]:
    return sorted(name for name, data in graph.nodes(data=True) if data.get("top_level"))


def path_from_top(graph: nx.DiGraph, name: str) -> list[str]:
    """The shortest path from any top-level package to `name` (just [name] if it is one)."""
    if graph.nodes[name].get("top_level"):
        return [name]
    reverse = graph.reverse(copy=False)
    lengths, paths = nx.single_source_dijkstra(reverse, name)
    best = min(
        (n for n in lengths if graph.nodes[n].get("top_level")),
        key=lambda n: (lengths[n], n),
        default=None,
    )
    return list(reversed(paths[best])) if best is not None else [name]


def all_paths_from_top(graph: nx.DiGraph, name: str, limit: int = 50) -> Iterator[list[str]]:
    """Every simple path from a top-level package to `name`, up to `limit` of them."""
    count = 0
    for root in top_level(graph):
        if root == name:
            yield [name]
            count += 1
            continue
        for path in nx.all_simple_paths(graph, root, name):
            yield path
            count += 1
            if count >= limit:
                return


def dependents(graph: nx.DiGraph, name: str) -> set[str]:
    """Every package that depends on `name`, directly or not: its blast radius."""
    return nx.ancestors(graph, name)
