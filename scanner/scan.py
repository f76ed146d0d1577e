"""The pipeline: input -> graph -> facts -> rules -> summary -> ScanResult. Each step is a
call into its own module; this file only wires them in order. Its options are
scanner.options.ScanOptions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from scanner import graph as graph_stage
from scanner import rules as rules_stage
from scanner import summary as summary_stage
from scanner.facts import derive as facts_stage
from scanner.facts import gather as gather_stage
from scanner.inputs.select import InputSet, read_inputs
from scanner.inputs.target import target_environment
from scanner.model import (
    Facts,
    NetworkError,
    Package,
    Problem,
    Resolution,
    RuleInfo,
    ScanResult,
)
from scanner.options import ScanOptions
from scanner.sources.http import Prefetch
from scanner.sources.pypi import PyPISource, index_url_from_environment
from scanner.store import Store


def read_targets(targets: tuple[str, ...], options: ScanOptions) -> Resolution:
    """Read every target; resolve what is declared but not pinned; merge it all."""
    target = target_environment(options.python_version, options.platform, options.all_platforms)
    inputs = read_inputs(targets, options.declared, target)
    resolutions = list(inputs.pinned)
    if inputs.declared:
        resolutions.append(_resolve_declared(inputs, options))
    return _merge(resolutions, inputs, options)


def _resolve_declared(inputs: InputSet, options: ScanOptions) -> Resolution:
    target = target_environment(options.python_version, options.platform, options.all_platforms)
    index_url = index_url_from_environment(options.index_url or inputs.index_url)
    from scanner import resolve as resolve_stage  # only declared inputs need resolving

    store = Store(options.cache_path)
    try:
        git = asyncio.run(_git_dependencies(inputs, options, store))
        resolved = resolve_stage.resolve(
            [*inputs.declared, *git.requirements],
            target,
            lambda: options.fetcher(store),
            index_url,
            constraints=inputs.constraints,
            allow_prereleases=options.prereleases,
            source=inputs.source,
        )
    finally:
        store.close()
    # Requirements that name a URL, a VCS checkout or a local path do not come from the
    # index: they are kept, unresolved, so that a rule can say so.
    direct = [
        Package(
            name=r.name,
            version="",
            display_name=r.name,
            direct_url=r.url or "",
            editable=r.editable,
            declared_at=(r.location,) if r.location else (),
        )
        for r in inputs.declared
        if r.url or r.editable
    ]
    # A GitHub requirement's dependencies were resolved as roots: they hang from it.
    pulled_in = {e.child for e in git.edges}
    resolved_names = {p.name for p in resolved.packages}
    return Resolution(
        packages=resolved.packages + tuple(direct),
        edges=resolved.edges + tuple(e for e in git.edges if e.child in resolved_names),
        target=resolved.target,
        source=resolved.source,
        roots=(
            *(r for r in resolved.roots or () if r not in pulled_in or _declared(r, inputs)),
            *(p.name for p in direct),
        ),
        problems=resolved.problems + tuple(git.problems),
        requests_sent=resolved.requests_sent,
        notes=resolved.notes + tuple(git.notes),
    )


def _declared(name: str, inputs: InputSet) -> bool:
    return any(r.name == name and not r.url for r in inputs.declared)


async def _git_dependencies(inputs: InputSet, options: ScanOptions, store: Store):
    """The declared dependencies of the requirements that name a GitHub repository."""
    from scanner.endpoints import choose_endpoints
    from scanner.sources import git_requirements

    if not any(git_requirements.github_reference(r.url or "") for r in inputs.declared):
        return git_requirements.Expansion()
    endpoints = options.endpoints or choose_endpoints()
    fetcher = options.fetcher(store)
    try:
        return await git_requirements.expand(inputs.declared, fetcher, endpoints.url("github"))
    finally:
        await fetcher.aclose()


def _merge(resolutions: list[Resolution], inputs: InputSet, options: ScanOptions) -> Resolution:
    if not resolutions:
        # Only manifests that declare nothing (an empty requirements file, a pyproject.toml
        # without dependencies): an empty closure, reported as such.
        target = target_environment(options.python_version, options.platform, options.all_platforms)
        notes = (*target.notes, "the inputs declare no requirements: nothing to scan")
        return Resolution(
            packages=(),
            edges=(),
            target=replace(target, notes=notes),
            source=inputs.source,
            roots=(),
            problems=tuple(inputs.problems),
            document=inputs.sbom,
        )
    if len(resolutions) == 1 and not inputs.problems:
        only = resolutions[0]
        if inputs.sbom is None:
            return only
        return Resolution(**{**only.__dict__, "document": inputs.sbom})
    packages: dict[str, Package] = {}
    problems: list[Problem] = list(inputs.problems)
    for resolution in resolutions:
        for package in resolution.packages:
            kept = packages.setdefault(package.name, package)
            if kept.version != package.version:
                problems.append(
                    Problem(
                        "conflicting-versions",
                        f"{package.name}: {kept.version} and {package.version} in different "
                        f"inputs; {kept.version} is scanned",
                        package=package.name,
                    )
                )
        problems.extend(resolution.problems)
    edges = {(e.parent, e.child): e for r in resolutions for e in r.edges}
    roots = None
    if all(r.roots is not None for r in resolutions):
        roots = tuple(dict.fromkeys(name for r in resolutions for name in r.roots or ()))
    return Resolution(
        packages=tuple(sorted(packages.values(), key=lambda p: p.name)),
        edges=tuple(edges[k] for k in sorted(edges)),
        target=resolutions[0].target,
        source=inputs.source,
        roots=roots,
        problems=tuple(problems),
        document=inputs.sbom,
        requests_sent=sum(r.requests_sent for r in resolutions),
        notes=tuple(note for r in resolutions for note in r.notes),
    )


def scan(
    resolution: Resolution,
    options: ScanOptions,
    on_start: Callable[..., None] | None = None,
    on_done: Callable[[str], None] | None = None,
    ahead: Prefetch | None = None,
) -> ScanResult:
    # Rules load before any network traffic: a broken rule file fails fast. Loaded once:
    # scanner.configured.scan_options has already loaded them when it built the options.
    rule_set = options.rules
    if rule_set is None:
        rule_set = rules_stage.load_rules(options.rules_dirs, options.rule_overrides)
    graph = graph_stage.build_graph(resolution)
    store = Store(options.cache_path)
    try:
        gathered, index_display, requests = _run(
            _gather(resolution, options, store, on_start, on_done, ahead)
        )
    finally:
        store.close()
    _fail_if_index_unreachable(gathered, index_display, options)
    package_facts: dict[str, Facts] = {}
    radius = graph_stage.blast_radius(graph)  # one pass, not one graph walk per package
    facts_stage.prepare_name_facts(gathered.top_packages, (p.name for p in resolution.packages))
    for package in resolution.packages:
        graph_facts = {
            "top_level": bool(graph.nodes[package.name].get("top_level")),
            "dependents": radius[package.name].dependents,
        }
        package_facts[package.name] = facts_stage.build_facts(
            package,
            gathered.index.get(package.name),
            gathered.top_packages,
            graph_facts,
            history=gathered.history,
            accounts=gathered.accounts,
            enrichment=gathered.answers.get(package.name),
            internal_patterns=options.internal_patterns,
        )
    package_facts = facts_stage.add_requirer_facts(
        package_facts, {name: list(graph.predecessors(name)) for name in graph}
    )
    findings, undetermined = rules_stage.evaluate(rule_set, package_facts)
    notes = [f"index: {index_display}", *resolution.notes, *gathered.notes]
    if options.offline:
        notes.append("offline: answered from the cache alone")
    notes.append(f"requests sent: {requests + resolution.requests_sent}")
    result = ScanResult(
        resolution=resolution,
        graph=graph,
        facts=package_facts,
        findings=findings,
        undetermined=undetermined,
        notes=tuple(notes),
        rules={rule.id: _rule_info(rule) for rule in rule_set.enabled()},
    )
    return summary_stage.with_summary(result, radius, gathered.accounts)


def saved_result(path: str) -> ScanResult:
    """A ScanResult from a saved JSON report (`trustmap report`): what the scan found, read
    back, with its graph and summary computed from it as a scan computes them. Nothing is
    fetched."""
    from pathlib import Path

    from scanner.inputs.saved_result import read_saved_result

    saved = read_saved_result(Path(path))
    graph = graph_stage.build_graph(saved.resolution)
    result = ScanResult(
        resolution=saved.resolution,
        graph=graph,
        facts=saved.facts,
        findings=saved.findings,
        undetermined=saved.undetermined,
        notes=saved.notes,
        rules=saved.rules,
        verdict=saved.verdict,
    )
    return summary_stage.with_summary(result)


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run, with the result kept out of the task: on its way out, asyncio.run
    (Python 3.11 and 3.12) puts back the SIGINT handler it replaced, and the signal module
    formats the repr of its own handler, which holds the task and so its result, every
    package's records in full (some 60 ms for 200 packages)."""
    outcome = []

    async def kept() -> None:
        outcome.append(await coroutine)

    asyncio.run(kept())
    return outcome[0]


def _rule_info(rule: rules_stage.Rule) -> RuleInfo:
    return RuleInfo(
        id=rule.id,
        title=rule.title,
        severity=rule.severity,
        category=rule.category,
        motivation=rule.motivation,
        remediation=rule.remediation,
        references=tuple(rule.references),
    )


async def _gather(resolution, options, store, on_start, on_done, ahead):
    fetcher = options.fetcher(store)
    # What scanner.fetch_ahead started is collected, not fetched again.
    fetcher.adopt(ahead)
    source = PyPISource(fetcher, index_url_from_environment(options.index_url))
    if on_start:
        on_start(len(resolution.packages), [p.name for p in resolution.packages])
    try:
        gathered = await gather_stage.gather(
            resolution.packages,
            fetcher,
            source,
            on_done,
            other_indexes=options.other_indexes,
            endpoints=options.endpoints,
        )
    finally:
        await fetcher.aclose()
    return gathered, source.display_index, fetcher.requests_sent


def _fail_if_index_unreachable(gathered, index_display: str, options: ScanOptions) -> None:
    """Every lookup failed on the network: the index is down or the URL is wrong. Facts
    would all be unknown, so say that plainly instead of printing an empty report."""
    # Another index the lockfile names may be down: that is its packages' unknown facts,
    # not the configured index being unreachable.
    records = [r for r in gathered.index.values() if not r.other_index]
    if options.offline or not records:
        return
    # The scan's own time limit running out says nothing about the index (its cause is not
    # an index failure): those facts are unknown with that reason, and the report says so.
    failed = [r for r in records if r.cause is not None and r.cause.index_failed]
    if len(failed) == len(records):
        raise NetworkError(f"cannot reach the index at {index_display}: {failed[0].reason}")
