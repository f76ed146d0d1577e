"""The HTML report's picture of the dependency graph: a layered drawing laid out when the
report is written, as inline SVG.

Layered, left to right: top-level packages in the first column, every package one column
right of the deepest package that requires it, so that every edge runs rightwards and a
path from a top-level package reads left to right. A column taller than MAX_ROWS wraps
into several, which keeps 200+ packages near a screen's proportions. Within a column the
order follows the barycentre of the neighbours (a few sweeps), which untangles most
crossings. A force-directed layout was not chosen: without numpy (not a dependency) it is
quadratic in pure Python, and its hairball shows no direction. Colour is the most severe
finding, size the blast radius (how many packages depend on the package).

Everything written into the SVG from metadata goes through `esc` (html.escape of
safe_text)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import networkx as nx

MAX_ROWS = 36  # packages per column before it wraps
ROW_GAP = 6  # pixels between two nodes of a column
COLUMN_GAP = 56
LABEL_CHARS = 30  # a longer name is cut in the picture (whole in its panel)
CHAR_WIDTH = 6.4  # pixels per character at the label's font size, roughly
MIN_RADIUS = 4.0
MAX_RADIUS = 18.0
SWEEPS = 4


@dataclass(frozen=True)
class Node:
    index: int  # the package's number in the report (ids, JSON data)
    name: str
    label: str
    colour: str
    radius: float
    title: str  # the tooltip, plain text (escaped when written)
    css: str  # class for the severity


def radius_for(dependents: int) -> float:
    """Area grows with the blast radius, capped so that one hub cannot cover a column."""
    return min(MAX_RADIUS, MIN_RADIUS + 2.2 * math.sqrt(dependents))


def _layers(graph: nx.DiGraph) -> dict[str, int]:
    """Longest-path layering over the condensation: a cycle's members share a layer."""
    condensed = nx.condensation(graph)
    layer_of: dict[int, int] = {}
    for component in nx.topological_sort(condensed):
        parents = list(condensed.predecessors(component))
        layer_of[component] = max((layer_of[p] + 1 for p in parents), default=0)
    mapping = condensed.graph["mapping"]
    return {name: layer_of[mapping[name]] for name in graph}


def _ordered_columns(graph: nx.DiGraph, layers: Mapping[str, int]) -> list[list[str]]:
    depth = max(layers.values(), default=-1) + 1
    columns: list[list[str]] = [[] for _ in range(depth)]
    for name in sorted(graph):
        columns[layers[name]].append(name)
    position = {name: i for column in columns for i, name in enumerate(column)}

    def sweep(order: range, neighbours: Callable[[str], list[str]]) -> None:
        for layer in order:

            def key(name: str, layer: int = layer) -> tuple[float, str]:
                placed = [position[n] for n in neighbours(name) if layers[n] != layer]
                mean = sum(placed) / len(placed) if placed else position[name]
                return (mean, name)

            columns[layer].sort(key=key)
            for i, name in enumerate(columns[layer]):
                position[name] = i

    for _ in range(SWEEPS):
        sweep(range(1, depth), lambda n: list(graph.predecessors(n)))
        sweep(range(depth - 2, -1, -1), lambda n: list(graph.successors(n)))
    # Wrap tall columns: a layer of n packages becomes ceil(n / MAX_ROWS) columns.
    wrapped: list[list[str]] = []
    for column in columns:
        parts = max(1, math.ceil(len(column) / MAX_ROWS))
        size = math.ceil(len(column) / parts) if column else 0
        wrapped.extend(column[i * size : (i + 1) * size] for i in range(parts))
    return wrapped


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def render_graph_svg(
    graph: nx.DiGraph, nodes: Mapping[str, Node], esc: Callable[[object], str]
) -> str:
    """The SVG element (id `graph-svg`) drawing `graph` with `nodes` as drawn."""
    if not nodes:
        return '<p class="empty">No packages.</p>'
    columns = _ordered_columns(graph, _layers(graph))
    where: dict[str, tuple[float, float]] = {}
    label_end: dict[str, float] = {}
    x = MAX_RADIUS + 8
    height = 0.0
    heights = []
    for column in columns:
        column_height = sum(2 * nodes[n].radius + ROW_GAP for n in column)
        heights.append(column_height)
        height = max(height, column_height)
    for column, column_height in zip(columns, heights, strict=True):
        y = (height - column_height) / 2 + 20
        widest = 0.0
        for name in column:
            node = nodes[name]
            y += node.radius
            where[name] = (x, y)
            text_width = len(_cut(node.label)) * CHAR_WIDTH
            label_end[name] = x + node.radius + 4 + text_width
            widest = max(widest, node.radius + 4 + text_width)
            y += node.radius + ROW_GAP
        x += widest + COLUMN_GAP + MAX_RADIUS
    width = x
    height += 40
    parts = [
        f'<svg id="graph-svg" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="dependency graph" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'data-width="{width:.0f}" data-height="{height:.0f}">',
        '<g id="graph-edges">',
    ]
    for parent, child in graph.edges():
        if parent not in where or child not in where:
            continue
        (x1, y1), (x2, y2) = where[parent], where[child]
        start = label_end[parent] + 3
        end = x2 - nodes[child].radius - 2
        if end > start:
            middle = (start + end) / 2
            d = (
                f"M{start:.0f} {y1:.0f}"
                f"C{middle:.0f} {y1:.0f} {middle:.0f} {y2:.0f} {end:.0f} {y2:.0f}"
            )
        else:  # within a cycle (same column): an arc on the left
            bend = x1 - 30 - abs(y2 - y1) / 4
            d = f"M{x1:.0f} {y1:.0f}Q{bend:.0f} {(y1 + y2) / 2:.0f} {x2:.0f} {y2:.0f}"
        parts.append(
            f'<path d="{d}" data-from="{nodes[parent].index}" data-to="{nodes[child].index}"/>'
        )
    parts.append('</g><g id="graph-nodes">')
    for name, (cx, cy) in where.items():
        node = nodes[name]
        parts.append(
            f'<g class="node {node.css}" data-i="{node.index}" tabindex="0">'
            f"<title>{esc(node.title)}</title>"
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{node.radius:.1f}" fill="{node.colour}"/>'
            f'<text x="{cx + node.radius + 4:.1f}" y="{cy + 4:.1f}">{esc(_cut(node.label))}</text>'
            "</g>"
        )
    parts.append("</g></svg>")
    return "".join(parts)
