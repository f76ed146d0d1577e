"""Enrichment sources: services beyond the index that say more about a package (its
vulnerabilities from OSV, its repository from GitHub, ...). Each is optional: it can be
switched off (`--no-osv`, config `sources`, `TRUSTMAP_OSV_API_URL=off`), and one that
does not answer costs little (the fetcher's circuit breaker, `scanner.sources.http`). By
the source contract (`scanner.sources.interface`) each answers every fact it provides,
known or unknown with why.

Where each is asked: a base URL per source, from the command line (off only), then the
environment (`TRUSTMAP_<NAME>_API_URL`: a URL, or `off`), then the config file, then the
public service.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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

# name (as in --no-NAME, config `sources.NAME` and TRUSTMAP_<NAME>_API_URL) -> public URL
PUBLIC_URLS: dict[str, str] = {
    "osv": "https://api.osv.dev",
    "github": "https://api.github.com",
    "depsdev": "https://api.deps.dev",
    "scorecard": "https://api.securityscorecards.dev",
    "pypistats": "https://pypistats.org",
}
_OFF = ("off", "", "0", "false", "no")


@dataclass(frozen=True)
class Endpoints:
    """Per enrichment source: its API's base URL, or None when switched off, and then
    by what (`why_off`)."""

    urls: Mapping[str, str | None] = field(default_factory=lambda: dict(PUBLIC_URLS))
    why_off: Mapping[str, str] = field(default_factory=dict)

    def url(self, name: str) -> str | None:
        return self.urls.get(name)


def environment_variable(name: str) -> str:
    return f"TRUSTMAP_{name.upper()}_API_URL"


def choose_endpoints(
    switched_off: Sequence[str] = (),
    configured: Mapping[str, bool | str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Endpoints:
    """Each source's base URL: off on the command line (`switched_off`), else the
    environment's, else the config's (`configured`: true, false or a URL), else the
    public service's."""
    environ = os.environ if environ is None else environ
    configured = configured or {}
    urls: dict[str, str | None] = {}
    why_off: dict[str, str] = {}
    for name, public in PUBLIC_URLS.items():
        variable = environment_variable(name)
        from_environment = environ.get(variable)
        setting = configured.get(name, True)
        if name in switched_off:
            urls[name], why_off[name] = None, f"switched off (--no-{name})"
        elif from_environment is not None:
            value = from_environment.strip()
            if value.lower() in _OFF:
                urls[name], why_off[name] = None, f"switched off ({variable}={value})"
            else:
                urls[name] = value.rstrip("/")
        elif setting is False:
            urls[name], why_off[name] = None, f"switched off (config sources.{name} = false)"
        elif isinstance(setting, str):
            urls[name] = setting.strip().rstrip("/")
        else:
            urls[name] = public
    return Endpoints(urls, why_off)


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
