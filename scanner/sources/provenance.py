"""PEP 740 provenance: the index's integrity API,
`GET <host>/integrity/<project>/<version>/<filename>/provenance`, beside the simple index.

The integrity API answers 404 both for a file without attestations and on an index that
does not serve the API at all (most mirrors), so a 404 alone says nothing. Whether the
index serves provenance is learnt once per index (remembered for a day): an index that
implements PEP 740 says so in its simple API (PEP 691 JSON `api-version` 1.3 or later,
whose files carry a `provenance` key). On an index that does not, every file's provenance
is unknown, with that reason, and no integrity request is sent; it is never "false".

From a provenance object only the publisher identity is kept: the kind of trusted
publisher (GitHub, GitLab, ...), the repository and the workflow. The attestations'
signatures are not verified here.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from scanner.records import IndexRecord, Project, Provenance
from scanner.sources.http import Fetcher, redact
from scanner.sources.project_status import ACCEPT as PAGE_ACCEPT
from scanner.sources.project_status import PAGE_KIND, extract_page_meta, parse_page
from scanner.wheels import WHEEL_SUFFIX, matches_tags

PROVENANCE_KIND = "pep740-provenance-v1"
PROVENANCE_ACCEPT = "application/vnd.pypi.integrity.v1+json, application/json;q=0.9"
# A file's attestations never change once uploaded: keep them as long as the HTTP cache.
FIRST_PEP740_API_VERSION = (1, 3)


def integrity_base(index_url: str) -> str:
    """`https://host/simple` -> `https://host/integrity`, as PyPI serves it."""
    parts = urlsplit(index_url.rstrip("/"))
    path = re.sub(r"/\+?simple$", "", parts.path)
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/") + "/integrity", "", ""))


def extract_provenance(doc: dict[str, Any], url: str = "") -> dict[str, Any]:
    """The publisher identities of a PEP 740 provenance object (`attestation_bundles`,
    each with its `publisher`), and how many attestations it holds."""
    bundles = doc["attestation_bundles"]
    if not isinstance(bundles, list):
        raise ValueError("attestation_bundles is not a list")
    publishers = []
    attestations = 0
    for bundle in bundles:
        if not isinstance(bundle, dict):
            continue
        attestations += len(bundle.get("attestations") or [])
        publisher = bundle.get("publisher")
        if isinstance(publisher, dict):
            publishers.append(
                {
                    "kind": _text(publisher.get("kind")),
                    "repository": _text(publisher.get("repository")),
                    # GitHub names the workflow file `workflow`, GitLab `workflow_filepath`.
                    "workflow": _text(
                        publisher.get("workflow") or publisher.get("workflow_filepath")
                    ),
                    "environment": _text(publisher.get("environment")),
                }
            )
    return {"publishers": publishers, "attestations": attestations}


def serves_provenance(api: dict[str, Any]) -> bool:
    if api.get("provenance_key"):
        return True
    try:
        parsed = tuple(int(p) for p in str(api.get("api_version", "")).split(".")[:2])
    except ValueError:
        return False
    return parsed >= FIRST_PEP740_API_VERSION


def _text(value: Any, limit: int = 300) -> str:
    return value[:limit] if isinstance(value, str) else ""


def pinned_file(project: Project, version: str, wheel_tags: tuple[str, ...] = ()) -> str:
    """The file whose provenance is asked for: the installed wheel when it can be told,
    else the first wheel, else the first file."""
    names = [f.filename for f in project.files_of(version) if f.filename]
    if not names:
        return ""
    for filename in names:
        if matches_tags(filename, wheel_tags):
            return filename
    return next((n for n in names if n.endswith(WHEEL_SUFFIX)), names[0])


class ProvenanceSource:
    def __init__(self, fetcher: Fetcher, index_url: str) -> None:
        self.fetcher = fetcher
        self.index_url = index_url.rstrip("/")
        self.base = integrity_base(self.index_url)
        self._capability_key = f"integrity-api {redact(self.base)}"
        self._served: bool | None = fetcher.store.remembered_capability(self._capability_key)
        self._reason = (
            "the index does not serve PEP 740 provenance (its simple API predates "
            "api-version 1.3 and offers no integrity API), so whether the file is "
            "attested cannot be told here"
        )
        self._lock = asyncio.Lock()
        self._probe_failed = ""  # asked once per scan; a failure is not asked again

    async def capability(self, probe_name: str, early: bool = False) -> tuple[bool | None, str]:
        """(served, reason): whether the index serves provenance, learnt from one simple
        page; None with the reason when that could not be found out. `early`: asked
        while the project documents are fetched, of a project the index may not have,
        so a failure is not kept (the probe after the lookups asks again)."""
        async with self._lock:
            if self._served is not None:
                return self._served, "" if self._served else self._reason
            if self._probe_failed:
                return None, self._probe_failed
            # The page's cache entry is shared with project status (one fetch for both).
            result = await self.fetcher.get_json(
                f"{self.index_url}/{canonicalize_name(probe_name)}/",
                PAGE_KIND,
                extract_page_meta,
                accept=PAGE_ACCEPT,
                parse=parse_page,
            )
            if result.status != "ok":
                why = result.error or result.status
                reason = f"could not tell whether the index serves provenance: {why}"
                if not early:
                    self._probe_failed = reason
                return None, reason
            self._served = serves_provenance(result.data)
            if not self.fetcher.offline:
                self.fetcher.store.remember_capability(self._capability_key, self._served)
            return self._served, "" if self._served else self._reason

    async def lookup(self, name: str, version: str, filename: str) -> Provenance:
        served, reason = await self.capability(name)
        if not served:
            return Provenance(filename, "unknown", reason=reason, served=served)
        url = f"{self.base}/{canonicalize_name(name)}/{quote(version)}/{quote(filename)}/provenance"
        result = await self.fetcher.get_json(
            url, PROVENANCE_KIND, extract_provenance, accept=PROVENANCE_ACCEPT
        )
        if result.status == "not-found":
            return Provenance(filename, "none", served=True)
        if result.status != "ok":
            why = result.error or result.status
            reason = f"the integrity API failed: {why}"
            return Provenance(filename, "unknown", reason=reason, served=True)
        publishers = tuple(result.data.get("publishers") or ())
        if not result.data.get("attestations"):
            return Provenance(filename, "none", served=True)
        return Provenance(filename, "attested", publishers, served=True)


async def lookup_provenance(
    source: ProvenanceSource,
    records: dict[str, IndexRecord],
    packages: Iterable[tuple[str, str, tuple[str, ...]]],
) -> dict[str, Provenance]:
    """The provenance of each (name, version, wheel tags) whose pinned file the index
    lists; packages the index does not know are left out."""
    wanted: list[tuple[str, str, str, str, str]] = []
    for name, version, tags in packages:
        record = records.get(name)
        if record is None or record.status != "found" or not record.project:
            continue
        filename = pinned_file(record.project, version, tags)
        if filename:
            before = version_before(record.project, version)
            earlier = pinned_file(record.project, before, tags) if before else ""
            wanted.append((name, version, filename, before, earlier))
    if not wanted:
        return {}
    # Learn the capability once, before asking for any file.
    await source.capability(wanted[0][0])

    async def both(name: str, version: str, filename: str, before: str, earlier: str):
        if not earlier:
            return await source.lookup(name, version, filename)
        found, previous = await asyncio.gather(
            source.lookup(name, version, filename), source.lookup(name, before, earlier)
        )
        return replace(found, previous=previous, previous_version=before)

    results = await asyncio.gather(*(both(*w) for w in wanted))
    return {w[0]: result for w, result in zip(wanted, results, strict=True)}


def version_before(project: Project, version: str) -> str:
    """The highest version below `version` whose files the project record keeps (the
    index's record keeps the release before each pinned one); "" when there is none."""
    from packaging.version import InvalidVersion, Version

    try:
        pinned = Version(version)
    except InvalidVersion:
        return ""
    earlier = []
    for candidate, files in project.files.items():
        try:
            parsed = Version(candidate)
        except InvalidVersion:
            continue
        if files and parsed < pinned:
            earlier.append((parsed, candidate))
    return max(earlier)[1] if earlier else ""
