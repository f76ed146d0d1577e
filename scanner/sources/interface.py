"""The interface of a fact source, and the registry of sources.

A source has a `name` (as the fact schema's source column names it), the facts it
provides (`facts_provided`, names in `scanner.facts.schema.FACTS`) and an async
`gather(packages, index)` that returns, per package, a `SourceAnswer`: the facts it knows, and
for every other fact it provides, why it is unknown. The contract: every fact a source
provides is answered, known or unknown with a reason, for every package; a source that is
switched off or cannot be reached answers every fact it provides as unknown, with why
(`unavailable`). `gather_all` holds the sources to it.

`REGISTRY` lists every source, with the facts it provides: the index's JSON API, its
integrity API (PEP 740), other indexes a lockfile names, the usage dataset and the scan
history stay special in the gather stage (they give typed records that the facts stage
derives many facts from, across sources); the enrichment sources are looped over, after
the index has answered (`index`: its record per package, for the sources that need a
project's links or whether the index served its vulnerabilities). This module imports no
network code, so that `fact_sources()` is cheap to call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from scanner.model import Package
from scanner.records import HISTORY_FACTS, IndexRecord, SourceAnswer


@dataclass(frozen=True)
class SourceInfo:
    """A source's name and the facts it provides."""

    name: str
    facts_provided: tuple[str, ...]


class Source(Protocol):
    """A source the gather stage loops over."""

    @property
    def name(self) -> str: ...

    @property
    def facts_provided(self) -> tuple[str, ...]: ...

    async def gather(
        self, packages: Sequence[Package], index: Mapping[str, IndexRecord]
    ) -> Mapping[str, SourceAnswer]:
        """Per package name, what the source says (`index`: the index's record per
        package name, where it has one). May raise `SourceUnavailable`."""
        ...


class SourceUnavailable(Exception):
    """The source is switched off or cannot be reached: all its facts are unknown."""


INDEX = SourceInfo(
    "index",
    (
        "known_to_index",
        "publishers",
        "publisher_roles",
        "publisher_count",
        "organization",
        "first_release",
        "latest_release",
        "latest_version",
        "release_count",
        "days_since_first_release",
        "days_since_latest_release",
        "version_upload_time",
        "days_since_version_upload",
        "version_yanked",
        "yanked_reason",
        "source_repository",
        "homepage",
        "license",
        "vulnerabilities",
        "vulnerability_count",
        "vulnerability_ids",
        "fixed_versions",
        "file_hashes",
        "has_wheel",
        "file_types",
        "repository_slug",
        "repository_names_package",
    ),
)
PROVENANCE = SourceInfo(
    "index integrity API (PEP 740)",
    (
        "has_provenance",
        "provenance_file",
        "provenance_publisher",
        "provenance_repository",
        "provenance_workflow",
        "provenance_environment",
        "previous_provenance",
        "provenance_changed",
        "provenance_served",
    ),
)
USAGE = SourceInfo(
    "top-PyPI-packages dataset",
    ("in_top_packages", "download_rank", "downloads_30d", "top_packages_size", "lookalike_rank"),
)
HISTORY = SourceInfo("scan history", HISTORY_FACTS)
REPOSITORY_HOST = SourceInfo(
    "repository host (GitHub)",
    (
        "repository_stars",
        "repository_forks",
        "repository_archived",
        "repository_pushed_at",
        "repository_created_at",
        "repository_owner_type",
        "repository_license",
        "contributor_commits",
    ),
)
DEPENDENCY_GRAPH = SourceInfo(
    "dependency graph service (deps.dev)",
    (
        "dependent_packages",
        "depsdev_published_at",
        "depsdev_deprecated",
        "depsdev_advisories",
        "depsdev_attested",
    ),
)
SCORECARD = SourceInfo(
    "OpenSSF Scorecard API", ("scorecard_score", "scorecard_checks", "scorecard_date")
)
DOWNLOAD_STATS = SourceInfo(
    "download statistics (pypistats)", ("downloads_last_month", "downloads_last_month_source")
)
VULNERABILITY_DATABASE = SourceInfo("vulnerability database (OSV)", ("osv_vulnerabilities",))
PROJECT_STATUS = SourceInfo(
    "index simple API (PEP 792 status)",
    ("project_status_served", "project_status", "project_status_reason"),
)

REGISTRY: tuple[SourceInfo, ...] = (
    INDEX,
    PROVENANCE,
    USAGE,
    HISTORY,
    REPOSITORY_HOST,
    DEPENDENCY_GRAPH,
    VULNERABILITY_DATABASE,
    PROJECT_STATUS,
    SCORECARD,
    DOWNLOAD_STATS,
)


def fact_sources() -> dict[str, str]:
    """fact -> the name of the source that provides it, from the registry."""
    sources: dict[str, str] = {}
    for info in REGISTRY:
        for fact in info.facts_provided:
            if fact in sources:
                raise ValueError(f"{fact} is provided by both {sources[fact]} and {info.name}")
            sources[fact] = info.name
    return sources


def unavailable(
    facts_provided: Sequence[str], packages: Sequence[Package], reason: str
) -> dict[str, SourceAnswer]:
    """Every fact provided unknown, with `reason`, for every package."""
    answer = SourceAnswer({}, {fact: reason for fact in facts_provided})
    return {p.name: answer for p in packages}


def _held_to_contract(
    source: Source, packages: Sequence[Package], answers: Mapping[str, SourceAnswer]
) -> dict[str, SourceAnswer]:
    """Only the facts the source provides, each known or unknown with a reason."""
    provided = set(source.facts_provided)
    kept: dict[str, SourceAnswer] = {}
    for package in packages:
        answer = answers.get(package.name, SourceAnswer())
        values = {k: v for k, v in answer.values.items() if k in provided and v is not None}
        unknown = {
            fact: answer.unknown.get(fact) or f"{source.name} gave no answer for it"
            for fact in source.facts_provided
            if fact not in values
        }
        kept[package.name] = SourceAnswer(values, unknown)
    return kept


async def gather_all(
    sources: Sequence[Source],
    packages: Sequence[Package],
    index: Mapping[str, IndexRecord] | None = None,
) -> dict[str, SourceAnswer]:
    """Ask every source about every package, concurrently, and merge their answers per
    package (`index`: what the index said of them, for the sources that read it). A
    source that raises `SourceUnavailable` or fails on the network answers every fact it
    provides as unknown, with why; the scan goes on."""
    packages = list(packages)

    async def one(source: Source) -> dict[str, SourceAnswer]:
        try:
            answers = await source.gather(packages, index or {})
        except SourceUnavailable as exc:
            return unavailable(source.facts_provided, packages, str(exc))
        except (OSError, TimeoutError) as exc:
            reason = f"{source.name} could not be reached: {exc or type(exc).__name__}"
            return unavailable(source.facts_provided, packages, reason)
        return _held_to_contract(source, packages, answers)

    results = await asyncio.gather(*(one(s) for s in sources))
    merged = {p.name: SourceAnswer() for p in packages}
    for answers in results:
        for name, answer in answers.items():
            merged[name] = merged[name].merged(answer)
    return merged
