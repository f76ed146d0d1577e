"""`trustmap explain NAME`, after the pipeline: the one package asked about, found in the
closure, with what the graph says about it beyond the summary (every path from a top-level
package, every dependent). scanner.report.explain draws the Explanation."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from scanner.graph import dependents, paths_from_top
from scanner.model import Explanation, InputError, Package, ScanResult

MAX_PATHS = 20


def find_package(result: ScanResult, name: str) -> Package:
    packages = result.packages
    wanted = canonicalize_name(name)
    if wanted not in packages:
        raise InputError(
            f"{name}: not in this closure ({len(packages)} packages from "
            f"{result.resolution.source}); `trustmap scan` lists them"
        )
    return packages[wanted]


def explain(result: ScanResult, name: str, max_paths: int = MAX_PATHS) -> Explanation:
    """What to show about package `name` (any spelling); InputError when the closure does
    not hold it. At most `max_paths` paths are listed (all are counted)."""
    if result.summary is None:
        raise ValueError("ScanResult.summary is not set: scanner.summary.with_summary adds it")
    package = find_package(result, name)
    graph = result.graph
    return Explanation(
        package=package,
        summary=result.summary,
        paths=paths_from_top(graph, package.name, limit=max_paths),
        dependents=sorted(dependents(graph, package.name)),
        required_by=sorted(graph.predecessors(package.name)),
        requires=sorted(graph.successors(package.name)),
    )
