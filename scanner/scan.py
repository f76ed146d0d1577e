"""The pipeline: input -> graph -> facts -> rules -> ScanResult. Each step is a call into
its own module; this file only wires them in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scanner import facts as facts_stage
from scanner import graph as graph_stage
from scanner import rules as rules_stage
from scanner.inputs.environment import read_environment
from scanner.model import Facts, NetworkError, Resolution, ScanResult
from scanner.sources.http import DEFAULT_TTL, Fetcher
from scanner.sources.pypi import PyPISource, index_url_from_environment
from scanner.store import Store


@dataclass
class ScanOptions:
    index_url: str | None = None
    offline: bool = False
    refresh: bool = False
    ttl: float = DEFAULT_TTL
    cache_path: Path | None = None
    rules_dirs: tuple[str, ...] = ()
    rule_overrides: dict = field(default_factory=dict)
    concurrency: int = 24
    transport: object = None  # an httpx transport, for tests


def read_target(target: str | None) -> Resolution:
    return read_environment(target)


def scan(
    resolution: Resolution,
    options: ScanOptions,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[str], None] | None = None,
) -> ScanResult:
    # Rules load before any network traffic: a broken rule file fails fast.
    rule_set = rules_stage.load_rules(options.rules_dirs, options.rule_overrides)
    graph = graph_stage.build_graph(resolution)
    store = Store(options.cache_path)
    try:
        gathered, index_display, requests = asyncio.run(
            _gather(resolution, options, store, on_start, on_done)
        )
    finally:
        store.close()
    _fail_if_index_unreachable(gathered, index_display, options)
    package_facts: dict[str, Facts] = {}
    for package in resolution.packages:
        graph_facts = {
            "top_level": bool(graph.nodes[package.name].get("top_level")),
            "dependents": len(graph_stage.dependents(graph, package.name)),
        }
        package_facts[package.name] = facts_stage.build_facts(
            package,
            gathered.index.get(package.name),
            gathered.top_packages,
            graph_facts,
        )
    findings, undetermined = rules_stage.evaluate(rule_set, package_facts)
    notes = [f"index: {index_display}", *gathered.notes]
    if options.offline:
        notes.append("offline: answered from the cache alone")
    notes.append(f"requests sent: {requests}")
    return ScanResult(
        resolution=resolution,
        graph=graph,
        facts=package_facts,
        findings=findings,
        undetermined=undetermined,
        notes=tuple(notes),
    )


async def _gather(resolution, options, store, on_start, on_done):
    fetcher = Fetcher(
        store,
        offline=options.offline,
        refresh=options.refresh,
        ttl=options.ttl,
        concurrency=options.concurrency,
        transport=options.transport,
    )
    source = PyPISource(fetcher, index_url_from_environment(options.index_url))
    if on_start:
        on_start(len(resolution.packages))
    try:
        gathered = await facts_stage.gather(resolution.packages, fetcher, source, on_done)
    finally:
        await fetcher.aclose()
    return gathered, source.display_index, fetcher.requests_sent


def _fail_if_index_unreachable(gathered, index_display: str, options: ScanOptions) -> None:
    """Every lookup failed on the network: the index is down or the URL is wrong. Facts
    would all be unknown, so say that plainly instead of printing an empty report."""
    records = list(gathered.index.values())
    if options.offline or not records:
        return
    failed = [r for r in records if r.status == "unknown" and "could not be read" in r.reason]
    if len(failed) == len(records):
        raise NetworkError(f"cannot reach the index at {index_display}: {failed[0].reason}")
