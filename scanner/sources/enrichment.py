"""Enrichment sources: services beyond the index that say more about a package (its
vulnerabilities from OSV, its repository from GitHub, ...). Each is optional: it can be
switched off (`--no-osv`, config `sources`, `TRUSTMAP_OSV_API_URL=off`), and one that
does not answer costs little (the fetcher's circuit breaker, `scanner.sources.http`). By
the source contract (`scanner.sources.interface`) each answers every fact it provides,
known or unknown with why.

Where each is asked (`Endpoints`) is chosen in scanner.endpoints, which the
configuration reads without importing the sources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from scanner.endpoints import Endpoints
from scanner.model import Package
from scanner.records import NOT_GATHERED, IndexRecord, SourceAnswer
from scanner.sources.interface import (
    DEPENDENCY_GRAPH,
    DOWNLOAD_STATS,
    PROJECT_STATUS,
    REPOSITORY_HOST,
    SCORECARD,
    VULNERABILITY_DATABASE,
    Source,
    SourceInfo,
    SourceUnavailable,
)

if TYPE_CHECKING:
    from scanner.sources.http import Fetcher


class SwitchedOffSource:
    """A source that is not asked: every fact it provides is unknown with `reason`."""

    def __init__(self, info: SourceInfo, reason: str = NOT_GATHERED) -> None:
        self.info = info
        self.reason = reason

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def facts_provided(self) -> tuple[str, ...]:
        return self.info.facts_provided

    async def gather(
        self, packages: Sequence[Package], index: Mapping[str, IndexRecord]
    ) -> Mapping[str, SourceAnswer]:
        raise SourceUnavailable(self.reason)


def enrichment_sources(
    fetcher: Fetcher | None = None, endpoints: Endpoints | None = None, index_url: str = ""
) -> tuple[Source, ...]:
    """The sources the gather stage loops over: the enrichment services as `endpoints`
    switch them (default: all off, as without a fetcher nothing can be asked), and the
    index's PEP 792 project status (`index_url`: the configured index)."""
    from scanner.sources.github import GitHubSource
    from scanner.sources.osv import OSVSource
    from scanner.sources.project_status import ProjectStatusSource
    from scanner.sources.services import DepsDevSource, PyPIStatsSource, ScorecardSource

    if fetcher is None or endpoints is None:
        return (
            SwitchedOffSource(REPOSITORY_HOST),
            SwitchedOffSource(DEPENDENCY_GRAPH),
            SwitchedOffSource(VULNERABILITY_DATABASE, "not gathered"),
            SwitchedOffSource(PROJECT_STATUS, "not gathered"),
            SwitchedOffSource(SCORECARD, "not gathered"),
            SwitchedOffSource(DOWNLOAD_STATS, "not gathered"),
        )

    def built(name: str, info: SourceInfo, make) -> Source:
        url = endpoints.url(name)
        if url is None:
            return SwitchedOffSource(info, f"{info.name}: {endpoints.why_off.get(name, 'off')}")
        return make(fetcher, url)

    return (
        built("github", REPOSITORY_HOST, GitHubSource),
        built("depsdev", DEPENDENCY_GRAPH, DepsDevSource),
        built("osv", VULNERABILITY_DATABASE, OSVSource),
        built("scorecard", SCORECARD, ScorecardSource),
        built("pypistats", DOWNLOAD_STATS, PyPIStatsSource),
        ProjectStatusSource(fetcher, index_url)
        if index_url
        else SwitchedOffSource(PROJECT_STATUS, "no index to ask"),
    )
