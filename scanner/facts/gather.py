"""Fact gathering: asks the sources about every package of the closure (the index's
project JSON and provenance, other indexes a lockfile names, the usage dataset, the scan
history, and the sources of the registry's loop: `scanner.sources.interface`), and returns
what they said as `GatheredData`; `derive` turns it into facts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from scanner.endpoints import Endpoints, choose_endpoints
from scanner.facts.ownership import account_index
from scanner.model import Package
from scanner.names import is_project_name
from scanner.records import IndexRecord, OwnershipRecord, SourceAnswer, TopPackages
from scanner.sources.enrichment import enrichment_sources
from scanner.sources.http import PREFETCH_MINIMUM, Fetcher, redact
from scanner.sources.interface import Source, gather_all
from scanner.sources.other_index import lookup_other_indexes, not_asked, other_index_notes
from scanner.sources.provenance import ProvenanceSource, lookup_provenance
from scanner.sources.pypi import PyPISource, lookup_all, stale_notes
from scanner.sources.usage import load_top_packages, top_packages_within

__all__ = ["GatheredData", "account_index", "gather"]


@dataclass(frozen=True)
class GatheredData:
    """What the sources said, before it is turned into facts."""

    index: dict[str, IndexRecord]
    top_packages: TopPackages
    notes: tuple[str, ...]
    # The last scan's ownership of each package on this index (absent: first sighting);
    # None when no history was read.
    history: dict[str, OwnershipRecord] | None = None
    # account -> the packages of this closure it can publish
    accounts: dict[str, list[str]] = field(default_factory=dict)
    # package -> what the looped sources (enrichment) said of it
    answers: dict[str, SourceAnswer] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Short on purpose: asyncio.run formats its main task, result included, when
        # Python 3.11 looks up the SIGINT handler on the way out (enum's error message);
        # the default repr of every record of a 200-package closure costs 0.1 s there.
        return f"GatheredData({len(self.index)} packages)"


async def gather(
    packages: Iterable[Package],
    fetcher: Fetcher,
    source: PyPISource,
    on_done: Callable[[str], None] | None = None,
    *,
    record_history: bool = True,
    other_indexes: bool = True,
    sources: Sequence[Source] | None = None,
    endpoints: Endpoints | None = None,
) -> GatheredData:
    """Ask the sources about every package: the index (project JSON and the pinned
    file's PEP 740 provenance), the usage dataset, and the scan history, which then
    records this scan's ownership (`record_history`). A package a lockfile locked from
    another index is looked up on that index's simple API (`other_indexes`; else its
    index facts are unknown), never on the configured one. The `sources` of the registry's
    loop (default: the enrichment sources `endpoints` switch on, else as the environment
    says) are asked once the index has answered, beside the provenance."""
    packages = list(packages)
    usage_task = asyncio.create_task(load_top_packages(fetcher))
    switched_off: list[str] = []
    if sources is None:
        chosen = endpoints or choose_endpoints()
        sources = enrichment_sources(fetcher, chosen, source.index_url)
        switched_off = sorted(chosen.why_off)
    looped = list(sources)
    elsewhere = [p for p in packages if _from_other_index(p, source)]
    others = {p.name for p in elsewhere}
    provenance_source = ProvenanceSource(fetcher, source.index_url)
    # Whether the index serves provenance is asked while the project documents are
    # fetched in the background (the same page tells project status), not after them. A
    # scan too small to be fetched so asks after its lookups, of a project the index has.
    first = min((p.name for p in packages if p.name not in others and is_project_name(p.name)),
                default=None)  # fmt: skip
    probe = None
    if first and len(packages) >= PREFETCH_MINIMUM:
        probe = asyncio.create_task(provenance_source.capability(first, early=True))
    try:
        index = await lookup_all(
            source, ((p.name, p.version) for p in packages if p.name not in others), on_done
        )
    except BaseException:
        if probe is not None:
            probe.cancel()
        raise
    if probe is not None:
        await probe
    if other_indexes:
        found_elsewhere, sent = await lookup_other_indexes(
            fetcher, ((p.name, p.version, p.index_url or "") for p in elsewhere), on_done
        )
        fetcher.requests_sent += sent
    else:
        found_elsewhere = {p.name: not_asked(p.name, p.index_url or "") for p in elsewhere}
        for name in found_elsewhere:
            if on_done:
                on_done(name)
    index.update(found_elsewhere)
    answers_task = asyncio.create_task(gather_all(looped, packages, dict(index)))
    # Provenance is the configured index's word about its own files only.
    provenance = await lookup_provenance(
        provenance_source,
        index,
        ((p.name, p.version, p.wheel_tags) for p in packages if p.name not in others),
    )
    for name, found in provenance.items():
        index[name] = replace(index[name], provenance=found)
    top, usage_note = await top_packages_within(usage_task, fetcher)
    notes = [f"usage: top-PyPI-packages dataset of {top.snapshot_date} ({top.origin})"]
    if usage_note:
        notes.append(usage_note)
    notes.extend(other_index_notes(found_elsewhere))
    notes.extend(stale_notes(index))
    unknown = {p.reason for p in provenance.values() if p.status == "unknown"}
    if provenance and len(unknown) == 1 and len(provenance) > 1:
        notes.append(f"provenance: {unknown.pop()}")
    history = _history(fetcher, source, index, record_history)
    answers = await answers_task
    for looped_source in looped:
        notes.extend(getattr(looped_source, "notes", ()))
    notes.extend(unreachable_notes(fetcher.unreachable_hosts(), answers))
    if switched_off:
        # Said once, so that a reader of the report knows which services were never asked.
        notes.append(f"switched off: {', '.join(switched_off)} (their facts are unknown)")
    return GatheredData(
        index=index,
        top_packages=top,
        notes=tuple(notes),
        history=history,
        accounts=account_index(index),
        answers=answers,
    )


def unreachable_notes(hosts: dict[str, str], answers: dict[str, SourceAnswer]) -> list[str]:
    """One warning per enrichment host whose circuit breaker opened: the host, why, and
    how many facts are unknown because of it."""
    notes = []
    for host, why in sorted(hosts.items()):
        unknown = sum(
            1 for answer in answers.values() for reason in answer.unknown.values() if host in reason
        )
        notes.append(f"unreachable: {why}; not asked again in this scan: {unknown} facts unknown")
    return notes


def _from_other_index(package: Package, source: PyPISource) -> bool:
    return bool(package.index_url) and package.index_url.rstrip("/") != source.index_url


def _history(
    fetcher: Fetcher, source: PyPISource, index: dict[str, IndexRecord], record: bool
) -> dict[str, OwnershipRecord]:
    """The last scan's ownership of these packages, then this scan's recorded."""
    key = redact(source.index_url)
    previous = fetcher.store.last_ownership(key, sorted(index))
    if record:
        observed = {}
        for name, found in index.items():
            ownership = found.ownership
            if ownership is not None:
                observed[name] = (ownership.publishers, ownership.organization)
        fetcher.store.record_ownership(key, observed, previous)
    return previous
