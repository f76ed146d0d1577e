"""The dependency graph: top-level packages, paths, dependents, blast radius."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.graph import (
    BlastRadius,
    all_paths_from_top,
    blast_radius,
    build_graph,
    dependents,
    path_from_top,
    paths_from_top,
    shortest_paths_from_top,
    top_level,
)
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


# --- blast radius, shortest paths, every path ------------------------------------------


def test_blast_radius_counts_packages_and_top_level_requirements():
    graph = build_graph(
        resolution(
            ["app", "web", "lib", "base", "tool"],
            [("app", "lib"), ("web", "lib"), ("lib", "base")],
        )
    )
    radius = blast_radius(graph)
    assert radius["base"] == BlastRadius(dependents=3, top_level=2)
    assert radius["lib"] == BlastRadius(dependents=2, top_level=2)
    # A top-level package is in its own closure.
    assert radius["app"] == BlastRadius(dependents=0, top_level=1)
    assert radius["tool"] == BlastRadius(dependents=0, top_level=1)


def test_blast_radius_of_a_cycle_counts_the_other_members():
    graph = build_graph(
        resolution(["app", "a", "b", "leaf"], [("app", "a"), ("a", "b"), ("b", "a"), ("b", "leaf")])
    )
    radius = blast_radius(graph)
    assert radius["a"] == BlastRadius(dependents=2, top_level=1)  # app and b
    assert radius["b"] == BlastRadius(dependents=2, top_level=1)  # app and a
    assert radius["leaf"] == BlastRadius(dependents=3, top_level=1)


def test_blast_radius_with_declared_roots_that_depend_on_each_other():
    graph = build_graph(resolution(["a", "b", "c"], [("a", "b"), ("b", "c")], roots=("a", "b")))
    radius = blast_radius(graph)
    assert radius["c"] == BlastRadius(dependents=2, top_level=2)
    assert radius["b"] == BlastRadius(dependents=1, top_level=2)


@st.composite
def random_graphs(draw):
    size = draw(st.integers(min_value=1, max_value=14))
    names = [f"p{i}" for i in range(size)]
    pairs = st.tuples(st.sampled_from(names), st.sampled_from(names))
    edges = draw(st.lists(pairs, max_size=size * 3))
    roots = draw(st.one_of(st.none(), st.lists(st.sampled_from(names), unique=True)))
    edges = [(a, b) for a, b in edges if a != b]
    return build_graph(resolution(names, edges, roots=tuple(roots) if roots is not None else None))


@settings(max_examples=150, deadline=None)
@given(random_graphs())
def test_blast_radius_agrees_with_ancestors(graph):
    radius = blast_radius(graph)
    tops = set(top_level(graph))
    for name in graph:
        above = nx.ancestors(graph, name)
        assert radius[name].dependents == len(above)
        assert radius[name].top_level == len((above | {name}) & tops)


@settings(max_examples=150, deadline=None)
@given(random_graphs())
def test_shortest_paths_agree_with_path_from_top(graph):
    paths = shortest_paths_from_top(graph)
    for name in graph:
        expected = path_from_top(graph, name)
        assert len(paths[name]) == len(expected)
        assert paths[name][0] == expected[0] and paths[name][-1] == name
        if len(paths[name]) > 1:
            assert all(
                graph.has_edge(a, b) for a, b in zip(paths[name], paths[name][1:], strict=False)
            )


@settings(max_examples=150, deadline=None)
@given(random_graphs())
def test_paths_from_top_lists_and_counts_every_simple_path(graph):
    tops = top_level(graph)
    for name in graph:
        expected = set()
        for root in tops:
            if root == name:
                expected.add((name,))
            else:
                expected.update(map(tuple, nx.all_simple_paths(graph, root, name)))
        found = paths_from_top(graph, name, limit=1000)
        assert found.exact
        assert found.total == len(expected)
        assert set(map(tuple, found.paths)) == expected
        assert found.paths == sorted(found.paths, key=lambda p: (len(p), p))


def test_paths_from_top_caps_the_list_and_counts_the_rest_exactly():
    # A ladder of diamonds: 2**12 paths from the root to the bottom.
    names, edges = ["n0"], []
    for level in range(12):
        left, right, below = f"l{level}", f"r{level}", f"n{level + 1}"
        names += [left, right, below]
        edges += [(f"n{level}", left), (f"n{level}", right), (left, below), (right, below)]
    graph = build_graph(resolution(names, edges))
    found = paths_from_top(graph, "n12", limit=5)
    assert found.total == 2**12 and found.exact
    assert len(found.paths) == 5
    assert all(path[0] == "n0" and path[-1] == "n12" and len(path) == 25 for path in found.paths)


def test_paths_from_top_for_an_unreached_package():
    # Declared roots: an installed package nothing declared reaches has no path.
    graph = build_graph(resolution(["app", "stray"], [], roots=("app",)))
    found = paths_from_top(graph, "stray")
    assert found.paths == [] and found.total == 0
    assert paths_from_top(graph, "app").paths == [["app"]]


# --- pinned by mutation testing (tests/MUTATION.md) ---------------------------------------


def test_build_graph_keeps_each_package_and_drops_edges_to_packages_not_in_it():
    graph = build_graph(
        resolution(["app", "lib"], [("app", "lib"), ("app", "missing"), ("ghost", "lib")])
    )
    assert graph.nodes["lib"]["package"] == Package("lib", "1")
    assert set(graph.edges) == {("app", "lib")}
    assert set(graph) == {"app", "lib"}
    assert graph.nodes["lib"]["top_level"] is False and graph.nodes["app"]["top_level"] is True


def test_all_paths_from_top_stops_at_the_limit_counting_every_root():
    # Two roots reach "base" by two paths each, and "base" is not a root itself.
    graph = build_graph(
        resolution(
            ["r1", "r2", "a", "b", "base"],
            [("r1", "a"), ("r1", "b"), ("r2", "a"), ("r2", "b"), ("a", "base"), ("b", "base")],
        )
    )
    assert len(list(all_paths_from_top(graph, "base"))) == 4
    for limit in (1, 2, 3):
        assert len(list(all_paths_from_top(graph, "base", limit=limit))) == limit
    # A top-level package is its own path, counted towards the limit; the others follow.
    tool = build_graph(
        resolution(["atool", "other"], [("other", "atool")], roots=("atool", "other"))
    )
    assert list(all_paths_from_top(tool, "atool")) == [["atool"], ["other", "atool"]]
    assert list(all_paths_from_top(tool, "atool", limit=1)) == [["atool"]]


def test_all_paths_from_top_lists_fifty_paths_by_default():
    middles = [f"m{i:02}" for i in range(51)]
    graph = build_graph(
        resolution(
            ["root", "base", *middles], [e for m in middles for e in [("root", m), (m, "base")]]
        )
    )
    assert len(list(all_paths_from_top(graph, "base", limit=100))) == 51
    assert len(list(all_paths_from_top(graph, "base"))) == 50


def test_all_paths_from_top_lists_a_top_level_package_whatever_networkx_does_for_it(
    monkeypatch,
):
    # networkx 3.2 (the floor in pyproject.toml) yields no path from a node to itself;
    # newer versions yield [node]. The package's own path must not depend on which.
    simple_paths = nx.all_simple_paths

    def like_networkx_3_2(graph, source, target, cutoff=None):
        return iter(()) if source == target else simple_paths(graph, source, target, cutoff)

    monkeypatch.setattr(nx, "all_simple_paths", like_networkx_3_2)
    tool = build_graph(
        resolution(["atool", "other"], [("other", "atool")], roots=("atool", "other"))
    )
    assert list(all_paths_from_top(tool, "atool")) == [["atool"], ["other", "atool"]]


def diamond_ladder(levels: int) -> tuple[list[str], list[tuple[str, str]]]:
    """n0 -> (l_i | r_i) -> n_{i+1}: 2**levels paths from n0 to n{levels}, all of one length."""
    names, edges = ["n0"], []
    for level in range(levels):
        left, right, below = f"l{level}", f"r{level}", f"n{level + 1}"
        names += [left, right, below]
        edges += [(f"n{level}", left), (f"n{level}", right), (left, below), (right, below)]
    return names, edges


def test_paths_from_top_counts_a_graph_without_cycles_exactly_whatever_the_count_limit():
    names, edges = diamond_ladder(3)
    # A cycle the top-level package also reaches, that does not lead to n3: it is not
    # walked, and does not turn the exact count into an enumeration.
    names += ["c1", "c2"]
    edges += [("n0", "c1"), ("c1", "c2"), ("c2", "c1")]
    # And a cycle above n3 that no top-level package reaches (declared roots).
    names += ["s1", "s2"]
    edges += [("s1", "s2"), ("s2", "s1"), ("s1", "n3")]
    graph = build_graph(resolution(names, edges, roots=("n0",)))
    found = paths_from_top(graph, "n3", limit=2, count_limit=3)
    assert (found.total, found.exact) == (8, True)
    assert len(found.paths) == 2


def test_paths_from_top_counts_paths_of_different_lengths():
    # root -> x, root -> a -> x, root -> a -> b -> x: three paths, one listed.
    graph = build_graph(
        resolution(
            ["root", "a", "b", "x"],
            [("root", "x"), ("root", "a"), ("a", "x"), ("a", "b"), ("b", "x")],
        )
    )
    found = paths_from_top(graph, "x", limit=1)
    assert found.paths == [["root", "x"]]
    assert (found.total, found.exact) == (3, True)


def cyclic_fan(width: int) -> nx.DiGraph:
    """root -> m_i -> x for `width` middles, and a cycle x <-> y: `width` paths to x."""
    middles = [f"m{i}" for i in range(width)]
    edges = [e for m in middles for e in [("root", m), (m, "x")]] + [("x", "y"), ("y", "x")]
    return build_graph(resolution(["root", "x", "y", *middles], edges, roots=("root",)))


def test_paths_from_top_with_a_cycle_counts_by_enumeration_up_to_the_count_limit():
    graph = cyclic_fan(5)
    everything = paths_from_top(graph, "x", limit=1)
    assert (everything.total, everything.exact) == (5, True)
    assert everything.paths == [["root", "m0", "x"]]
    capped = paths_from_top(graph, "x", limit=1, count_limit=3)
    assert (capped.total, capped.exact) == (3, False)
    assert capped.paths == [["root", "m0", "x"]]
    # Five paths, a count limit of five: counting stopped at the limit, so "at least 5".
    assert paths_from_top(graph, "x", limit=1, count_limit=5).exact is False
    assert paths_from_top(graph, "x", limit=1, count_limit=6).exact is True


def test_paths_from_top_lists_the_shortest_path_then_the_first_others_by_name():
    # Three paths of one length, room for two: path_from_top's, then the first other by name.
    middles = ["c", "a", "b"]
    graph = build_graph(
        resolution(["root", "x", *middles], [e for m in middles for e in [("root", m), (m, "x")]])
    )
    shortest = path_from_top(graph, "x")
    first_other = min(p for p in (["root", m, "x"] for m in middles) if p != shortest)
    assert paths_from_top(graph, "x", limit=2).paths == sorted([shortest, first_other])
    cyclic = cyclic_fan(3)
    shortest = path_from_top(cyclic, "x")
    first_other = min(p for p in (["root", f"m{i}", "x"] for i in range(3)) if p != shortest)
    assert paths_from_top(cyclic, "x", limit=2).paths == sorted([shortest, first_other])


def test_paths_from_top_with_room_for_one_lists_the_shortest_path():
    # Two shortest paths; path_from_top's choice is the one listed (explain shows it).
    for edges in (
        [("root", "b"), ("b", "x"), ("root", "a"), ("a", "x")],
        [("root", "a"), ("a", "x"), ("root", "b"), ("b", "x")],
    ):
        graph = build_graph(resolution(["root", "a", "b", "x"], edges))
        assert paths_from_top(graph, "x", limit=1).paths == [path_from_top(graph, "x")]
