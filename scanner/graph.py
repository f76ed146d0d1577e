"""The dependency graph: networkx, built from a Resolution.

Nodes are canonical package names with a `package` attribute (model.Package) and a
`top_level` flag; an edge parent -> child carries `edge` (model.Edge).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import networkx as nx

from scanner.model import BlastRadius, PathsFromTop, Resolution


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
        paths = [[name]] if root == name else nx.all_simple_paths(graph, root, name)
        for path in paths:
            yield path
            count += 1
            if count >= limit:  # the package's own path counts too
                return


def dependents(graph: nx.DiGraph, name: str) -> set[str]:
    """Every package that depends on `name`, directly or not (for one package; for all of
    them at once, blast_radius)."""
    return nx.ancestors(graph, name)


def blast_radius(graph: nx.DiGraph) -> dict[str, BlastRadius]:
    """The blast radius of every package, in one pass over the condensation DAG.

    Each strongly connected component gets the set of packages above it (its ancestors
    and its own members) as a bit set, an int with one bit per package, built from its
    parents' sets in topological order: every edge is walked once, and a union of two sets
    is one big-int OR. A set is dropped once every child has used it, so memory follows
    the width of the graph, not its square. Members of a cycle depend on one another, so
    each counts the others of its cycle as dependents."""
    index = {name: i for i, name in enumerate(graph)}
    component: dict[str, int] = {}
    own: list[int] = []
    for number, members in enumerate(nx.strongly_connected_components(graph)):
        bits = 0
        for name in members:
            component[name] = number
            bits |= 1 << index[name]
        own.append(bits)
    parents: list[set[int]] = [set() for _ in own]
    children: list[list[int]] = [[] for _ in own]
    for parent, child in graph.edges():
        above_parent, below = component[parent], component[child]
        if above_parent != below and above_parent not in parents[below]:
            parents[below].add(above_parent)
            children[above_parent].append(below)
    top_mask = 0
    for name, top in graph.nodes(data="top_level"):
        if top:
            top_mask |= 1 << index[name]
    waiting = [len(p) for p in parents]  # parents not yet done
    unused = [len(c) for c in children]  # children that have yet to read this set
    above: dict[int, int] = {}
    counts: list[tuple[int, int]] = [(0, 0)] * len(own)
    ready = deque(number for number, count in enumerate(waiting) if count == 0)
    while ready:
        number = ready.popleft()
        bits = own[number]
        for parent in parents[number]:
            bits |= above[parent]
            unused[parent] -= 1
            if unused[parent] == 0:
                del above[parent]
        counts[number] = (bits.bit_count() - 1, (bits & top_mask).bit_count())
        if children[number]:
            above[number] = bits
        for child in children[number]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return {name: BlastRadius(*counts[component[name]]) for name in graph}


def shortest_paths_from_top(graph: nx.DiGraph) -> dict[str, list[str]]:
    """For every package reachable from a top-level one, the shortest path that pulls it in,
    in one breadth-first walk from all top-level packages at once.

    Ties go to the path whose packages come first by name, root first, as path_from_top.
    A package no top-level package reaches maps to [itself]."""
    roots = top_level(graph)
    parent: dict[str, str | None] = dict.fromkeys(roots)
    queue = deque(roots)
    while queue:
        node = queue.popleft()
        for child in sorted(graph.successors(node)):
            if child not in parent:
                parent[child] = node
                queue.append(child)
    paths: dict[str, list[str]] = {}
    for name in graph:
        if name not in parent:
            paths[name] = [name]
            continue
        path = [name]
        step = parent[name]
        while step is not None:
            path.append(step)
            step = parent[step]
        paths[name] = path[::-1]
    return paths


def paths_from_top(
    graph: nx.DiGraph, name: str, limit: int = 20, count_limit: int = 10_000
) -> PathsFromTop:
    """Every path from a top-level package to `name`, the first `limit` of them listed.

    Only packages that are both reached from a top-level package and lead to `name` are
    walked. Where that part of the graph has no cycle, the paths are counted exactly by
    dynamic programming (their number can be exponential); with a cycle, they are counted
    by enumeration up to `count_limit`. A path may pass through another top-level package
    (a direct requirement that another one also requires): both paths are listed."""
    tops = {n for n, top in graph.nodes(data="top_level") if top}
    from_top = _reached_from(graph, tops)
    relevant = (nx.ancestors(graph, name) | {name}) & from_top
    if name not in relevant:
        return PathsFromTop([], 0, True)
    sub = graph.subgraph(relevant)
    shortest = path_from_top(graph, name)
    listed: list[list[str]] = [shortest] if shortest[0] in tops else []
    seen = {tuple(shortest)}
    acyclic = nx.is_directed_acyclic_graph(sub)
    enumerated = 0
    stopped = False
    # Walk backwards from `name`, predecessors in name order; every partial path is a
    # suffix, and a top-level node ends one path (and the walk may go on above it).
    stack: list[tuple[str, list[str], set[str]]] = [(name, [name], {name})]
    while stack:
        node, suffix, on_path = stack.pop()
        if node in tops:
            enumerated += 1
            path = suffix[::-1]
            if len(listed) < limit and tuple(path) not in seen:
                listed.append(path)
                seen.add(tuple(path))
            if acyclic and len(listed) >= limit:
                break
            if enumerated >= count_limit:
                stopped = True
                break
        for parent in sorted(sub.predecessors(node), reverse=True):
            if parent not in on_path:
                stack.append((parent, [*suffix, parent], on_path | {parent}))
    if acyclic:
        counts: dict[str, int] = {}
        for node in nx.topological_sort(sub):
            counts[node] = (1 if node in tops else 0) + sum(
                counts[p] for p in sub.predecessors(node)
            )
        total, exact = counts[name], True
    else:
        total, exact = enumerated, not stopped
    listed.sort(key=lambda p: (len(p), p))
    return PathsFromTop(listed[:limit], max(total, len(listed)), exact)


def _reached_from(graph: nx.DiGraph, sources: set[str]) -> set[str]:
    seen = set(sources)
    queue = deque(sources)
    while queue:
        for child in graph.successors(queue.popleft()):
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return seen
