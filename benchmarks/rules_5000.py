"""Facts and rules for a synthetic closure of 5,000 packages (part of `make bench`).

The packages are built from the recorded real project documents in fixtures/pypi/, each
one varied deterministically so that no two packages have the same facts: its name (the
first 4,000 take the names, and so the download ranks, of the top-packages dataset; the
rest are unranked internal-looking names), its version, every upload date (shifted), its
publishers (one to four accounts out of a few thousand, some shared), its organisation
and its repository URL. They are joined in a random dependency graph (fixed seed).

Timed in one process: building every package's facts, the blast radius over the graph,
and evaluating every shipped rule, with the rule engine's answer cache and without it
(each rule remembers its answer for the facts it sees; the share of evaluations it
answered is printed). Memory: the peak traced by tracemalloc from before the project
documents are built, so it includes them, and the process's peak RSS. The baseline,
measured in the same run, is the CEL floor: one execution of a constant condition per
(package, rule) pair, the least any rule engine on CEL could do. Target: facts + rules
under 2 s.
"""

from __future__ import annotations

import copy
import gzip
import json
import random
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner import graph as graph_stage  # noqa: E402
from scanner import rules as rules_stage  # noqa: E402
from scanner.facts.derive import build_facts  # noqa: E402
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


def _shift(stamp, delta: timedelta):
    if not isinstance(stamp, str) or not stamp:
        return stamp
    moved = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - delta
    return moved.isoformat().replace("+00:00", "Z")


def varied_project(template: dict, template_version: str, i: int, name: str) -> tuple:
    """A copy of a recorded project's extraction, made distinct by `i`: (version, project)."""
    project = copy.deepcopy(template)
    version = f"{1 + i % 9}.{i // 9 % 40}.{i}"
    delta = timedelta(days=i % 1800, minutes=i)
    releases = {}
    for old, (uploaded, yanked, reason) in project["releases"].items():
        releases[version if old == template_version else old] = [
            _shift(uploaded, delta),
            yanked,
            reason,
        ]
    project["releases"] = releases
    project["files"] = {
        (version if old == template_version else old): [
            [f"{name}-{version}.tar.gz", f"{i:064x}", entry[2], _shift(entry[3], delta), *entry[4:]]
            for entry in entries
        ]
        for old, entries in project["files"].items()
    }
    project["release_versions"] = [
        version if v == template_version else v for v in project["release_versions"]
    ]
    summary = project["release_summary"]
    project["release_summary"] = {
        "first": _shift(summary["first"], delta),
        "latest": _shift(summary["latest"], delta),
        "count": summary["count"] + i % 50,
    }
    project["name"] = name
    # Two packages in three are at their latest release, the others behind it.
    project["latest_version"] = version if i % 3 else f"{2 + i % 9}.0.0"
    publishers = [f"account-{(i * 7 + k * 131) % 3001}" for k in range(1 + i % 4)]
    project["ownership"] = {
        "organization": f"org-{i % 97}" if i % 5 == 0 else None,
        "roles": [
            {"user": user, "role": "Owner" if k == 0 else "Maintainer"}
            for k, user in enumerate(publishers)
        ],
    }
    project["project_urls"] = (
        {"Source": f"https://github.com/owner-{i % 1777}/{name}"} if i % 6 else {}
    )
    project["summary"] = f"{project.get('summary') or ''} ({i})"
    return version, project


def synthetic_closure(projects: list[tuple[str, dict]], top) -> tuple[Resolution, list]:
    rng = random.Random(5000)  # noqa: S311 - a reproducible graph, not a secret
    ranked = list(top.ranks)[:4000]
    names = ranked + [f"lab-internal-tool-{i:04d}" for i in range(PACKAGES - len(ranked))]
    packages, records = [], []
    for i in range(PACKAGES):
        template_version, template = projects[i % len(projects)]
        name = names[i]
        version, project = varied_project(template, template_version, i, name)
        packages.append(Package(name=name, version=version))
        record = IndexRecord(name, "found", project=project)
        record.version_vulnerabilities = project["latest_vulnerabilities"]
        records.append(record)
    edges = []
    for i in range(1, PACKAGES):  # each package depends on a few later ones: a deep DAG
        for child in rng.sample(range(i + 1, PACKAGES + 1), k=min(3, PACKAGES - i)):
            if child < PACKAGES:
                edges.append(Edge(names[i], names[child], ">=1"))
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


def accounts_of(resolution, records) -> dict[str, list[str]]:
    accounts: dict[str, list[str]] = {}
    for package, record in zip(resolution.packages, records, strict=True):
        for role in (record.project.get("ownership") or {}).get("roles", []):
            accounts.setdefault(role["user"], []).append(package.name)
    return accounts


def rule_cache_share(rules, facts) -> float:
    """The share of (package, rule) evaluations the rule engine's answer cache answers:
    1 - distinct visible-fact tuples / evaluations, rule by rule."""
    evaluations = distinct = 0
    for rule in rules.enabled():
        plan = rules_stage._plan(rules, rule)
        named, sees_all = plan.named_facts, plan.sees_all_facts
        keys = set()
        for package_facts in facts.values():
            values = package_facts.values
            visible = {f: values.get(f) for f in (rules_stage.FACT_NAMES if sees_all else named)}
            keys.add(rules_stage._key(visible) if not sees_all else object())
        evaluations += len(facts)
        distinct += len(keys)
    return 1 - distinct / evaluations


def distinct_fact_sets(facts) -> int:
    return len({json.dumps(f.values, sort_keys=True, default=str) for f in facts.values()})


def main() -> dict:
    top = bundled_top_packages()
    rules = load_rules()
    # Memory first, in a pass of its own (tracemalloc slows Python down several times
    # over): from before the documents are built, so that the peak includes them.
    tracemalloc.start()
    projects = recorded_projects()
    resolution, records = synthetic_closure(projects, top)
    run_pipeline(resolution, records, top, rules, accounts_of(resolution, records))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    accounts = accounts_of(resolution, records)
    # This machine is noisy: repeat, and report the median with its spread.
    runs = [run_pipeline(resolution, records, top, rules, accounts) for _ in range(REPEATS)]
    graph_times = [r[0] for r in runs]
    facts_times = [r[1] for r in runs]
    rules_times = [r[2] for r in runs]
    totals = [f + r for f, r in zip(facts_times, rules_times, strict=True)]
    _, _, _, facts, findings, undetermined = runs[0]
    graph_time = statistics.median(graph_times)
    facts_time = statistics.median(facts_times)
    rules_time = statistics.median(rules_times)

    # The same evaluation with the answer cache off: no key, so nothing is remembered.
    real_key = rules_stage._key
    rules_stage._key = lambda visible: None
    try:
        uncached = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            evaluate(rules, facts)
            uncached.append(time.perf_counter() - start)
    finally:
        rules_stage._key = real_key
    uncached_time = statistics.median(uncached)

    floor_program = _cel.compile("true")
    start = time.perf_counter()
    for _ in range(len(facts) * len(rules.enabled())):
        floor_program.execute({})
    floor_time = time.perf_counter() - start

    total = statistics.median(totals)
    share = rule_cache_share(rules, facts)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"packages: {len(facts)}, distinct fact sets: {distinct_fact_sets(facts)}, "
          f"edges: {len(resolution.edges)}, rules: {len(rules.enabled())}")  # fmt: skip
    print(f"graph + blast radius: {graph_time:.2f} s")
    print(f"facts: {facts_time:.2f} s; rules: {rules_time:.2f} s; facts + rules: {total:.2f} s "
          f"(median of {REPEATS}, {min(totals):.2f}..{max(totals):.2f}; target < 2 s) "
          f"{'ok' if total < 2 else 'OVER TARGET'}")  # fmt: skip
    print(f"rule answer cache: answers {share:.0%} of evaluations; rules without it: "
          f"{uncached_time:.2f} s ({uncached_time / rules_time:.1f}x with it)")  # fmt: skip
    print(f"CEL floor ({len(facts) * len(rules.enabled())} constant evaluations): "
          f"{floor_time:.2f} s; rules / floor: {rules_time / floor_time:.1f}x, "
          f"uncached rules / floor: {uncached_time / floor_time:.1f}x")  # fmt: skip
    print(f"findings: {len(findings)}, undetermined: {len(undetermined)}")
    print(f"peak traced memory, documents included: {peak / 1e6:.0f} MB; "
          f"peak RSS of the process: {rss:.0f} MB")  # fmt: skip
    return {"facts_s": facts_time, "rules_s": rules_time, "rules_uncached_s": uncached_time,
            "graph_s": graph_time, "cel_floor_s": floor_time, "rule_cache_share": share,
            "peak_mb": peak / 1e6, "peak_rss_mb": rss}  # fmt: skip


if __name__ == "__main__":
    main()
