"""Facts and rules for a synthetic closure of 5,000 packages (part of `make bench`).

The packages are built from the recorded real project documents in fixtures/pypi/
(cycled, each under a distinct name), joined in a random dependency graph (fixed seed).
Timed in one process: building every package's facts, the blast radius over the graph,
and evaluating every shipped rule; memory is the peak traced by tracemalloc. The
baseline, measured in the same run, is the CEL floor: one execution of a constant
condition per (package, rule) pair, the least any rule engine on CEL could do.
Target: facts + rules under 2 s.
"""

from __future__ import annotations

import gzip
import json
import random
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner import graph as graph_stage  # noqa: E402
from scanner.facts import build_facts  # noqa: E402
from scanner.model import Edge, Package, Resolution, TargetEnvironment  # noqa: E402
from scanner.rules import _cel, evaluate, load_rules  # noqa: E402
from scanner.sources.pypi import IndexRecord, extract_project  # noqa: E402
from scanner.sources.usage import bundled_top_packages  # noqa: E402

PACKAGES = 5000
REPEATS = 5
NOW = datetime(2026, 11, 24, tzinfo=UTC)


def recorded_projects() -> list[tuple[str, dict]]:
    projects = []
    for path in sorted((ROOT / "fixtures" / "pypi").glob("*.json.gz")):
        document = json.loads(gzip.decompress(path.read_bytes()))
        version = document["info"]["version"]
        projects.append((version, extract_project(document, "https://pypi.org/x", {version})))
    return projects


def synthetic_closure(projects: list[tuple[str, dict]]) -> tuple[Resolution, list]:
    rng = random.Random(5000)  # noqa: S311 - a reproducible graph, not a secret
    packages, records = [], []
    for i in range(PACKAGES):
        version, project = projects[i % len(projects)]
        name = f"pkg-{i:04d}"
        packages.append(Package(name=name, version=version))
        record = IndexRecord(name, "found", project=project)
        record.version_vulnerabilities = project["latest_vulnerabilities"]
        records.append(record)
    edges = []
    for i in range(1, PACKAGES):  # each package depends on a few later ones: a deep DAG
        for child in rng.sample(range(i + 1, PACKAGES + 1), k=min(3, PACKAGES - i)):
            if child < PACKAGES:
                edges.append(Edge(f"pkg-{i:04d}", f"pkg-{child:04d}", ">=1"))
    target = TargetEnvironment({}, "synthetic")
    return Resolution(tuple(packages), tuple(edges), target, "synthetic"), records


def run_pipeline(resolution, records, top, rules, accounts):
    start = time.perf_counter()
    graph = graph_stage.build_graph(resolution)
    radius = graph_stage.blast_radius(graph)
    graph_time = time.perf_counter() - start
    start = time.perf_counter()
    facts = {}
    for package, record in zip(resolution.packages, records, strict=True):
        reach = radius[package.name]
        graph_facts = {"top_level": graph.nodes[package.name]["top_level"],
                       "dependents": reach.dependents}  # fmt: skip
        facts[package.name] = build_facts(
            package, record, top, graph_facts, now=NOW, history={}, accounts=accounts
        )
    facts_time = time.perf_counter() - start
    start = time.perf_counter()
    findings, undetermined = evaluate(rules, facts)
    rules_time = time.perf_counter() - start
    return graph_time, facts_time, rules_time, facts, findings, undetermined


def main() -> dict:
    projects = recorded_projects()
    resolution, records = synthetic_closure(projects)
    top = bundled_top_packages()
    rules = load_rules()
    accounts: dict[str, list[str]] = {}
    for package, record in zip(resolution.packages, records, strict=True):
        for role in (record.project.get("ownership") or {}).get("roles", []):
            accounts.setdefault(role["user"], []).append(package.name)

    # This machine is noisy: repeat, and report the median with its spread.
    runs = [run_pipeline(resolution, records, top, rules, accounts) for _ in range(REPEATS)]
    graph_times = [r[0] for r in runs]
    facts_times = [r[1] for r in runs]
    rules_times = [r[2] for r in runs]
    totals = [f + r for f, r in zip(facts_times, rules_times, strict=True)]
    timings = runs[0]
    # Memory in a second pass: tracemalloc slows Python down several times over.
    tracemalloc.start()
    run_pipeline(resolution, records, top, rules, accounts)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    _, _, _, facts, findings, undetermined = timings
    graph_time = statistics.median(graph_times)
    facts_time = statistics.median(facts_times)
    rules_time = statistics.median(rules_times)

    floor_program = _cel.compile("true")
    start = time.perf_counter()
    for _ in range(len(facts) * len(rules.enabled())):
        floor_program.execute({})
    floor_time = time.perf_counter() - start

    total = statistics.median(totals)
    print(f"packages: {len(facts)}, edges: {len(resolution.edges)}, rules: {len(rules.enabled())}")
    print(f"graph + blast radius: {graph_time:.2f} s")
    print(f"facts: {facts_time:.2f} s; rules: {rules_time:.2f} s; facts + rules: {total:.2f} s "
          f"(median of {REPEATS}, {min(totals):.2f}..{max(totals):.2f}; target < 2 s) "
          f"{'ok' if total < 2 else 'OVER TARGET'}")  # fmt: skip
    print(f"CEL floor ({len(facts) * len(rules.enabled())} constant evaluations): "
          f"{floor_time:.2f} s; rules / floor: {rules_time / floor_time:.1f}x")  # fmt: skip
    print(f"findings: {len(findings)}, undetermined: {len(undetermined)}")
    print(f"peak traced memory: {peak / 1e6:.0f} MB")
    return {"facts_s": facts_time, "rules_s": rules_time, "graph_s": graph_time,
            "cel_floor_s": floor_time, "peak_mb": peak / 1e6}  # fmt: skip


if __name__ == "__main__":
    main()
