"""Enrichment sources: a repository host (stars, archived) and a dependency-graph
service (how many packages depend on a project). Neither is reachable from this network
(only the package index is), so both are switched off: by the source contract
(`scanner.sources.interface`) each answers every fact it provides as unknown, with why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from scanner.model import Package
from scanner.records import NOT_GATHERED, SourceAnswer
from scanner.sources.interface import (
    DEPENDENCY_GRAPH,
    REPOSITORY_HOST,
    SourceInfo,
    SourceUnavailable,
)


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

    async def gather(self, packages: Sequence[Package]) -> Mapping[str, SourceAnswer]:
        raise SourceUnavailable(self.reason)


def enrichment_sources() -> tuple[SwitchedOffSource, ...]:
    """The enrichment sources the gather stage loops over."""
    return (SwitchedOffSource(REPOSITORY_HOST), SwitchedOffSource(DEPENDENCY_GRAPH))
