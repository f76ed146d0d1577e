"""Three enrichment services asked with one cached GET each, behind the fetcher's
circuit breaker (`Fetcher.call`):

- deps.dev (v3): a version's facts (`GET /v3/systems/pypi/packages/NAME/versions/V`:
  published at, deprecated, advisory keys, attestations and SLSA provenance with their
  verified flag) and how many packages depend on it (`GET /v3alpha/.../versions/V:dependents`);
- the OpenSSF Scorecard API (`GET /projects/github.com/OWNER/REPO`): the overall score and
  each check's (Maintained, Code-Review, Contributors, Signed-Releases,
  Branch-Protection, Dangerous-Workflow, ...), for a package whose repository is on GitHub;
- pypistats (`GET /api/packages/NAME/recent`): downloads over the last month, with the
  source and the date it was asked, as every usage fact records.

A 404 is the service's "nothing known about it": unknown, with that reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from scanner.model import Package
from scanner.records import IndexRecord, SourceAnswer
from scanner.sources.github import repository_of
from scanner.sources.http import DEFAULT_TTL, Fetcher, decode_json
from scanner.sources.interface import DEPENDENCY_GRAPH, DOWNLOAD_STATS, SCORECARD, SourceInfo

CONCURRENCY = 8


async def cached_get(
    fetcher: Fetcher, url: str, kind: str, extract: Callable[[Any], Any], service: str
) -> tuple[Any, str]:
    """(extraction, "") from the cache (within its time-to-live, or any age offline) or
    the service, else (None, why). Stored with the time it was asked."""
    cached = fetcher.store.get(url, kind)
    if cached is not None and (
        fetcher.offline or (cached.age() < DEFAULT_TTL and not fetcher.refresh)
    ):
        return cached.data, ""
    if fetcher.offline:
        return None, "offline, and not in the cache"
    try:
        answer = await fetcher.call(url, headers={"Accept": "application/json"})
    except OSError as exc:
        return (cached.data, "") if cached is not None else (None, f"{service}: {exc}")
    if answer.status_code == 404:
        return None, f"{service} knows nothing of it (HTTP 404)"
    if answer.status_code != 200:
        why = f"{service} answered HTTP {answer.status_code} from {answer.url}"
        return (cached.data, "") if cached is not None else (None, why)
    try:
        data = extract(decode_json(answer.body))
    except (ValueError, LookupError, TypeError, AttributeError) as exc:
        return None, f"{service}: unexpected answer from {answer.url} ({exc!r:.100})"
    fetcher.store.put(url, kind, data, answer.headers.get("etag"), None)
    return data, ""


class _ServiceSource:
    """One cached GET per package (or per repository): `_url` says where, `_extract`
    what is kept of the answer, `_values` the facts it gives."""

    info: SourceInfo
    kind: str
    service: str

    def __init__(self, fetcher: Fetcher, base_url: str) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self._semaphore = asyncio.Semaphore(CONCURRENCY)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def facts_provided(self) -> tuple[str, ...]:
        return self.info.facts_provided

    async def gather(
        self, packages: Sequence[Package], index: Mapping[str, IndexRecord]
    ) -> dict[str, SourceAnswer]:
        async def one(package: Package) -> SourceAnswer:
            target = self._url(package, index.get(package.name))
            if target.startswith("!"):
                return SourceAnswer({}, dict.fromkeys(self.facts_provided, target[1:]))
            async with self._semaphore:
                data, why = await cached_get(
                    self.fetcher, target, self.kind, self._extract, self.service
                )
            if data is None:
                return SourceAnswer({}, dict.fromkeys(self.facts_provided, why))
            return SourceAnswer(self._values(data, package), {})

        answers = await asyncio.gather(*(one(p) for p in packages))
        return {p.name: a for p, a in zip(packages, answers, strict=True)}

    def _url(self, package: Package, record: IndexRecord | None) -> str:
        """Where to ask, or "!" and why it is not asked."""
        raise NotImplementedError

    def _extract(self, document: Any) -> Any:
        raise NotImplementedError

    def _values(self, data: Any, package: Package) -> dict[str, Any]:
        return dict(data)


def _known_to_index(package: Package, record: IndexRecord | None) -> str:
    """Why a package is not asked about by name ("" when it may be): a name the index
    does not know may be an internal one, and is never sent."""
    if record is not None and record.status == "not-found":
        return "the index does not know it: its name is not sent"
    if record is not None and record.other_index:
        return f"locked from {record.other_index}, not PyPI: not asked"
    return ""


class ScorecardSource(_ServiceSource):
    info = SCORECARD
    kind = "scorecard-v1"
    service = "the Scorecard API"

    def _url(self, package: Package, record: IndexRecord | None) -> str:
        repository = repository_of(package, record)
        if repository is None:
            return "!it links no GitHub repository"
        owner, name = repository
        return f"{self.base_url}/projects/github.com/{quote(owner)}/{quote(name)}"

    def _extract(self, document: Any) -> Any:
        checks = {
            str(c["name"])[:60]: int(c["score"])
            for c in document.get("checks") or []
            if isinstance(c, dict) and isinstance(c.get("score"), int | float)
        }
        return {
            "scorecard_score": float(document["score"]),
            "scorecard_checks": checks,
            "scorecard_date": str(document.get("date") or "")[:30],
        }


class PyPIStatsSource(_ServiceSource):
    info = DOWNLOAD_STATS
    kind = "pypistats-recent-v1"
    service = "pypistats"

    def _url(self, package: Package, record: IndexRecord | None) -> str:
        why = _known_to_index(package, record)
        if why:
            return "!" + why
        return f"{self.base_url}/api/packages/{quote(package.name)}/recent"

    def _extract(self, document: Any) -> Any:
        month = document["data"]["last_month"]
        if not isinstance(month, int):
            raise ValueError("last_month is not a number")
        return {"downloads_last_month": month, "asked": time.time()}

    def _values(self, data: Any, package: Package) -> dict[str, Any]:
        asked = datetime.fromtimestamp(float(data["asked"]), UTC)
        host = self.base_url.split("://", 1)[-1]
        return {
            "downloads_last_month": data["downloads_last_month"],
            "downloads_last_month_source": f"{host}, asked {asked:%Y-%m-%d}",
        }


class DepsDevSource(_ServiceSource):
    info = DEPENDENCY_GRAPH
    kind = "depsdev-version-v1"
    service = "deps.dev"

    def _url(self, package: Package, record: IndexRecord | None) -> str:
        why = _known_to_index(package, record)
        if why or not package.version:
            return "!" + (why or "no pinned version to ask deps.dev about")
        name, version = quote(package.name, safe=""), quote(package.version, safe="")
        return f"{self.base_url}/v3/systems/pypi/packages/{name}/versions/{version}"

    def _extract(self, document: Any) -> Any:
        proofs = [*(document.get("attestations") or []), *(document.get("slsaProvenances") or [])]
        return {
            "depsdev_published_at": str(document.get("publishedAt") or "")[:40],
            "depsdev_deprecated": bool(document.get("isDeprecated")),
            "depsdev_advisories": [
                str(a.get("id"))[:100]
                for a in document.get("advisoryKeys") or []
                if isinstance(a, dict)
            ][:200],
            "depsdev_attested": any(isinstance(p, dict) and p.get("verified") for p in proofs),
        }

    async def gather(
        self, packages: Sequence[Package], index: Mapping[str, IndexRecord]
    ) -> dict[str, SourceAnswer]:
        answers = await super().gather(packages, index)

        async def dependents(package: Package) -> None:
            target = self._url(package, index.get(package.name))
            answer = answers[package.name]
            if target.startswith("!"):
                return
            url = target.replace("/v3/", "/v3alpha/", 1) + ":dependents"
            async with self._semaphore:
                data, why = await cached_get(
                    self.fetcher, url, "depsdev-dependents-v1", _dependent_count, self.service
                )
            if data is None:
                answers[package.name] = SourceAnswer(
                    answer.values, {**answer.unknown, "dependent_packages": why}
                )
            else:
                answers[package.name] = SourceAnswer(
                    {**answer.values, "dependent_packages": data}, answer.unknown
                )

        await asyncio.gather(*(dependents(p) for p in packages))
        return answers


def _dependent_count(document: Any) -> int:
    count = document["dependentCount"]
    if not isinstance(count, int):
        raise ValueError("dependentCount is not a number")
    return count
