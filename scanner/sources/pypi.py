"""The package index: the JSON API `/pypi/<name>/json` beside the simple index, with the
simple API (PEP 691) as the fallback that tells whether the index knows a project at all.

Only small extractions of each document are kept (see scanner.store). File URLs in a
response may be relative; they are resolved against the URL that answered.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from scanner.model import InputError
from scanner.names import invalid_name_reason, is_project_name
from scanner.records import (
    FailureCause,
    IndexRecord,
    Ownership,
    Project,
    Release,
    ReleaseFile,
    ReleaseSummary,
    Role,
    Vulnerability,
)
from scanner.sources.http import (
    PREFETCH_MINIMUM,
    AccessDenied,
    DecodeShaped,
    Fetcher,
    FetchResult,
    Prefetch,
    redact,
)
from scanner.urls import index_url_problem, without_credentials
from scanner.wording import counted, some_of

DEFAULT_INDEX_URL = "https://pypi.org/simple"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
# Bump when the extraction changes: older cache entries then simply miss.
PROJECT_KIND = "pypi-project-v5"
VERSION_KIND = "pypi-version-v2"
SIMPLE_KIND = "pypi-simple-exists-v1"
MAX_TEXT = 2000


def index_url_from_environment(explicit: str | None = None) -> str:
    """The index URL to use: `explicit` (checked where it was given), else PIP_INDEX_URL,
    else PyPI."""
    if explicit:
        return explicit.rstrip("/")
    from_environment = os.environ.get("PIP_INDEX_URL", "").strip()
    if not from_environment:
        return DEFAULT_INDEX_URL
    problem = index_url_problem(from_environment)
    if problem:
        shown = without_credentials(from_environment)
        raise InputError(f"PIP_INDEX_URL {shown!r} {problem}")
    return from_environment.rstrip("/")


def segment(value: str) -> str:
    """One URL path segment built from data (a name, a version): "/", "#" and "?" are
    quoted, and "." or ".." too, which a client would otherwise resolve away."""
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


def json_api_base(index_url: str) -> str:
    """Where the JSON API lives for a simple-index URL: `https://host/simple` ->
    `https://host/pypi`, as PyPI, devpi-style and common mirrors serve it."""
    parts = urlsplit(index_url.rstrip("/"))
    path = re.sub(r"/\+?simple$", "", parts.path)
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/") + "/pypi", "", ""))


class PyPISource:
    def __init__(self, fetcher: Fetcher, index_url: str) -> None:
        self.fetcher = fetcher
        # Credentials stay with the fetcher, for the index's origin only.
        self.index_url = fetcher.use_index(index_url).rstrip("/")
        self.json_base = json_api_base(self.index_url)
        # Whether the index serves /pypi/<name>/<version>/json: learnt from the first
        # answer and remembered for a day, so that mirrors without it cost no requests.
        self._capability_key = f"per-version-json {redact(self.json_base)}"
        self._per_version_json = fetcher.store.remembered_capability(self._capability_key)

    def _learn_capability(self, served: bool) -> None:
        if self._per_version_json is None:
            self.fetcher.store.remember_capability(self._capability_key, served)
        self._per_version_json = served

    @property
    def display_index(self) -> str:
        return redact(self.index_url)

    def project_url(self, name: str) -> str:
        return f"{self.json_base}/{segment(canonicalize_name(name))}/json"

    def prime(self, names: Iterable[str]) -> None:
        urls = [self.project_url(n) for n in names if is_project_name(n)]
        self.fetcher.prime(urls, PROJECT_KIND)

    def kept(self, name: str, version: str) -> IndexRecord | None:
        """The record the command's other scan found for this version (`Fetcher.shared`),
        if it was fresh; None when there is none to reuse."""
        shared = self.fetcher.shared
        if shared is None or not is_project_name(name):
            return None
        return shared.get(PROJECT_KIND, (self.fetcher.cache_key(self.project_url(name)), version))

    async def lookup(self, name: str, version: str) -> IndexRecord:
        """The project document for `name`, and the vulnerabilities of `version` (as the
        command's other scan found them, when it did from fresh answers)."""
        record = self.kept(name, version)
        if record is None:
            record = await self._lookup(name, version)
            shared = self.fetcher.shared
            # A failure (the record's, or its version's vulnerabilities') is asked again.
            fresh = record.status == "found" and not record.stale
            if shared is not None and fresh and _vulnerabilities_answered(record):
                key = (self.fetcher.cache_key(self.project_url(name)), version)
                shared.keep(PROJECT_KIND, key, record)
        return record

    async def _lookup(self, name: str, version: str) -> IndexRecord:
        if not is_project_name(name):
            return IndexRecord(
                name, "unknown", reason=invalid_name_reason(name), cause=FailureCause.INVALID_NAME
            )
        result = await self.fetcher.get_json(
            self.project_url(name),
            PROJECT_KIND,
            functools.partial(extract_project, wanted=frozenset({version})),
            parse=decode_project,
            offload=True,
        )
        if result.status == "ok" and version not in result.data.get("releases", {}):
            if version in result.data.get("release_versions", ()) and result.from_cache:
                # The cached extraction was made for another version: fetch afresh.
                refetched = await self._refetch_with_version(name, version, result)
                if refetched is not None:
                    result = refetched
        if result.status == "not-found":
            return await self._not_in_json_api(name)
        _refuse_unauthenticated(result)
        if result.status != "ok":
            return IndexRecord(name, "unknown", reason=_reason(result), cause=result.cause)
        project = Project.from_dict(result.data)
        vulnerabilities, vulnerabilities_unknown = await self._vulnerabilities(
            project, name, version
        )
        notes = (f"index unreachable, cached answer used ({result.error})",) * result.stale
        return IndexRecord(
            name,
            "found",
            project=project,
            version_vulnerabilities=vulnerabilities,
            vulnerabilities_unknown=vulnerabilities_unknown,
            stale=result.stale,
            stale_because=result.error,
            notes=notes,
        )

    async def _refetch_with_version(
        self, name: str, version: str, cached: FetchResult
    ) -> FetchResult | None:
        previous = cached.data
        wanted = frozenset({version})

        def merge(doc: Any, url: str) -> dict[str, Any]:
            # Keep what was stored for the versions asked about before.
            data = extract_project(doc, url, wanted)
            data["files"] = {**previous.get("files", {}), **data["files"]}
            data["releases"] = {**previous.get("releases", {}), **data["releases"]}
            return data

        if self.fetcher.offline:
            return None
        result = await self.fetcher.get_json(
            self.project_url(name), PROJECT_KIND, merge, force=True, parse=decode_project
        )
        return result if result.status == "ok" else None

    async def _not_in_json_api(self, name: str) -> IndexRecord:
        """The JSON API has no such project. Some indexes serve no JSON API at all, so ask
        the simple API before saying the index does not know the project."""
        simple = await self.fetcher.get_json(
            f"{self.index_url}/{segment(canonicalize_name(name))}/",
            SIMPLE_KIND,
            extract_simple_existence,
            accept=SIMPLE_JSON,
        )
        if simple.status == "not-found":
            return IndexRecord(
                name,
                "not-found",
                reason="the index has no project of this name",
                cause=FailureCause.NOT_FOUND,
            )
        if simple.status == "ok":
            return IndexRecord(
                name,
                "unknown",
                reason="the index lists the project but serves no JSON API document for it",
                cause=FailureCause.NOT_SERVED,
            )
        return IndexRecord(name, "unknown", reason=_reason(simple), cause=simple.cause)

    async def probe_per_version(self, name: str, version: str) -> bool:
        """Ask one per-version document (`name` `version`) while the project documents
        are being fetched, so that whether the index serves them is known before the
        lookups that need them: otherwise each of those asks at once, after the prefetch,
        on the scan's critical path (on a mirror without them, some twenty 404s). True
        when the answer was a 404: `settle_per_version` decides it once the project's
        document says whether the index has that version."""
        if self._per_version_json is not None or not is_project_name(name):
            return False
        result = await self.fetcher.get_json(
            self._version_url(name, version), VERSION_KIND, extract_version_vulnerabilities
        )
        if result.status == "ok":
            self._learn_capability(True)
        return result.status == "not-found"

    def settle_per_version(self, name: str, version: str) -> None:
        """A probe answered 404: if the project's document (in the cache by now) lists
        that version, the index has the release but no page for it, so it serves none."""
        key = self.fetcher.cache_key(self.project_url(name))
        cached = self.fetcher.store.get(key, PROJECT_KIND)
        data = cached.data if cached is not None else None
        if isinstance(data, dict) and version in data.get("release_versions", ()):
            self._learn_capability(False)

    def _version_url(self, name: str, version: str) -> str:
        return f"{self.json_base}/{segment(canonicalize_name(name))}/{segment(version)}/json"

    async def _vulnerabilities(
        self, project: Project, name: str, version: str
    ) -> tuple[tuple[Vulnerability, ...] | None, str]:
        """The vulnerabilities of `version`, or None and why they are unknown."""
        if project.latest_version == version:
            return project.latest_vulnerabilities, ""
        if self._per_version_json is False:
            return None, _NO_PER_VERSION_JSON
        result = await self.fetcher.get_json(
            self._version_url(name, version),
            VERSION_KIND,
            extract_version_vulnerabilities,
        )
        if result.status == "ok":
            self._learn_capability(True)
            return tuple(result.data["vulnerabilities"]), ""
        if result.status == "not-found" and version in project.release_versions:
            # The index knows the release yet has no page for it: it does not serve them.
            self._learn_capability(False)
            return None, _NO_PER_VERSION_JSON
        return None, _reason(result)


_NO_PER_VERSION_JSON = (
    "the index serves vulnerabilities of the latest release only, and no "
    "per-version JSON for older ones"
)


def _vulnerabilities_answered(record: IndexRecord) -> bool:
    """The version's vulnerabilities are known, or known not to be served."""
    return record.vulnerabilities_unknown in ("", _NO_PER_VERSION_JSON)


def _reason(result: FetchResult) -> str:
    return result.describe("the index has no such page")


def stale_notes(records: Mapping[str, IndexRecord], shown: int = 5) -> list[str]:
    """What the report says about answers taken from expired cache entries: how many
    packages, which, and why (the index failed, or the scan was offline)."""
    notes = []
    failed = sorted(n for n, r in records.items() if r.stale and r.stale_because)
    offline = sorted(n for n, r in records.items() if r.stale and not r.stale_because)
    for names, why in (
        (failed, "because the index failed"),
        (offline, "because the scan was offline"),
    ):
        if not names:
            continue
        count = counted(len(names), "package")
        listed = some_of(names, shown)
        cause = f" ({records[names[0]].stale_because[:200]})" if names is failed else ""
        notes.append(
            f"stale: {count} answered from a cache entry older than its time-to-live "
            f"{why}{cause}: {listed}"
        )
    return notes


def _refuse_unauthenticated(result: FetchResult) -> None:
    """HTTP 401: the index wants credentials it was not given, or not these. Every
    answer would be missing, so the scan ends saying so. (A 403 is left to the package:
    static indexes on object stores answer 403 for any path they do not hold.)"""
    if result.status == "denied" and result.http_status == 401:
        raise AccessDenied(result.error)


# --- extraction: pure functions of a response document ------------------------------------


# Decoded into the fields extract_project reads, and no more (scanner.sources.pypi_document).
decode_project = DecodeShaped("scanner.sources.pypi_document:ProjectDocument")


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def extract_project(
    doc: Any,
    url: str,
    wanted: frozenset[str],
    wanted_by_project: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, Any]:
    """The facts-sized part of a project document, as the cache stores it
    (`Project.to_dict`). `wanted`: the versions whose files and release details are kept
    (or, from `wanted_by_project`, those of this project)."""
    return project_of(doc, url, wanted, wanted_by_project).to_dict()


def release_before(releases: Mapping[str, Any], version: str) -> str:
    """The highest version below `version` that has files, not all of them yanked; ""
    when there is none (or `version` is not a valid version). `releases`: version -> its
    files (pypi_document.File)."""
    from packaging.version import InvalidVersion, Version

    try:
        pinned = Version(version)
    except InvalidVersion:
        return ""
    best: tuple[Any, str] | None = None
    for candidate, candidate_files in releases.items():
        if not candidate_files or all(f.yanked for f in candidate_files):
            continue
        try:
            parsed = Version(candidate)
        except InvalidVersion:
            continue
        if parsed < pinned and (best is None or parsed > best[0]):
            best = (parsed, candidate)
    return best[1] if best else ""


def project_of(
    doc: Any,
    url: str,
    wanted: frozenset[str],
    wanted_by_project: Mapping[str, frozenset[str]] | None = None,
) -> Project:
    """The facts-sized part of a project document (see `extract_project`): as
    decode_project gives it, or decoded whole (a dict)."""
    from scanner.sources.pypi_document import as_document

    doc = as_document(doc)
    info = doc.info
    if wanted_by_project is not None:
        wanted = wanted_by_project.get(canonicalize_name(str(info.name)), wanted)
    all_releases = doc.releases or {}
    releases: dict[str, Release] = {}
    files: dict[str, tuple[ReleaseFile, ...]] = {}
    # The release before each wanted one keeps its files too: its provenance is what
    # the wanted one's is compared with (provenance-change).
    asked = wanted
    wanted = wanted | {v for v in (release_before(all_releases, w) for w in wanted) if v}
    for version, version_files in all_releases.items():
        uploads = [f.upload_time_iso_8601 or f.upload_time for f in version_files]
        uploads = [u for u in uploads if isinstance(u, str)]
        yanked = bool(version_files) and all(f.yanked for f in version_files)
        reason = next((f.yanked_reason for f in version_files if f.yanked), None)
        releases[version] = Release(min(uploads) if uploads else None, yanked, _text(reason, 300))
        if version in wanted:
            files[version] = tuple(_release_file(f) for f in version_files)
    # Kept whole only for the versions asked about: boto3 has thousands of releases, and a
    # warm scan should read a few kilobytes per package, not every release's details.
    # Indexes that list no releases (some mirrors) still give the current version's files.
    if info.version in wanted and info.version not in files:
        files[info.version] = tuple(_release_file(f) for f in doc.urls or [])
    ownership = doc.ownership
    project_urls = info.project_urls or {}
    return Project(
        name=_text(info.name, 200),
        summary=_text(info.summary, 500),
        license=_text(info.license, 500),
        license_expression=_text(info.license_expression, 500),
        classifiers=tuple(c for c in info.classifiers or [] if str(c).startswith("License")),
        home_page=_text(info.home_page, 500),
        project_urls={
            _text(k, 100): _text(v, 500)
            for k, v in list(project_urls.items())[:50]
            if isinstance(v, str)
        },
        latest_version=_text(info.version, 100),
        latest_yanked=bool(info.yanked),
        releases={v: r for v, r in releases.items() if v in asked},
        release_versions=tuple(releases),
        release_summary=ReleaseSummary.of(releases),
        files=files,
        ownership=_ownership(ownership) if isinstance(ownership, dict) else None,
        latest_vulnerabilities=tuple(_vulnerability(v) for v in doc.vulnerabilities or []),
    )


def _ownership(ownership: dict[str, Any]) -> Ownership:
    return Ownership(
        organization=_text(ownership.get("organization"), 200),
        roles=tuple(
            Role(_text(r.get("user"), 200), _text(r.get("role"), 50))
            for r in ownership.get("roles") or []
            if isinstance(r, dict) and r.get("user")
        ),
    )


def _release_file(entry: Any) -> ReleaseFile:
    upload = entry.upload_time_iso_8601 or entry.upload_time
    return ReleaseFile(
        filename=_text(entry.filename, 300),
        sha256=_text(entry.digests.sha256 if entry.digests else None, 64),
        packagetype=_text(entry.packagetype, 30),
        upload_time=upload if isinstance(upload, str) else None,
        yanked=bool(entry.yanked),
    )


def _vulnerability(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _text(entry.get("id"), 100),
        "aliases": [_text(a, 100) for a in entry.get("aliases") or []][:20],
        "fixed_in": [_text(v, 100) for v in entry.get("fixed_in") or []][:20],
        "link": _text(entry.get("link"), 500),
        "summary": _text(entry.get("summary") or entry.get("details"), 300),
        "withdrawn": entry.get("withdrawn"),
    }


def extract_version_vulnerabilities(doc: dict[str, Any], url: str) -> dict[str, Any]:
    return {"vulnerabilities": [_vulnerability(v) for v in doc.get("vulnerabilities") or []]}


def extract_simple_existence(doc: dict[str, Any], url: str) -> dict[str, Any]:
    return {"name": _text(doc.get("name"), 200), "files": len(doc.get("files") or [])}


def start_lookups(source: PyPISource, packages: Iterable[tuple[str, str]]) -> Prefetch | None:
    """Start fetching the project documents of (name, version) pairs in forked workers,
    before the scan knows its packages for sure (an environment's dist-info folder names
    say them before any METADATA is read): `lookup_all`, given the handle, collects what
    they fetched. None when there is not enough to fetch for that to pay."""
    urls, extract = _project_batch(source, list(packages))
    return source.fetcher.start_prefetch(urls, PROJECT_KIND, extract, parse=decode_project)


def _project_batch(
    source: PyPISource, pairs: list[tuple[str, str]]
) -> tuple[list[str], Callable[[Any, str], Any]]:
    """The project URLs of `pairs`, and the extraction that keeps each project's files
    for the versions asked."""
    by_project: dict[str, set[str]] = {}
    for name, version in pairs:
        by_project.setdefault(canonicalize_name(name), set()).add(version)
    # Once each: an environment can hold a project in two site folders.
    urls = list(dict.fromkeys(source.project_url(n) for n, _ in pairs if is_project_name(n)))
    extract = functools.partial(
        extract_project,
        wanted=frozenset(),
        wanted_by_project={n: frozenset(v) for n, v in by_project.items()},
    )
    return urls, extract


async def lookup_all(
    source: PyPISource,
    packages: Iterable[tuple[str, str]],
    on_done: Callable[[str], None] | None = None,
) -> dict[str, IndexRecord]:
    """Look up every (name, version) concurrently; the fetcher bounds the concurrency."""
    pairs = list(packages)
    # What the command's other scan found already is neither read nor fetched again.
    todo = [(name, version) for name, version in pairs if source.kept(name, version) is None]
    source.prime(name for name, _ in todo)
    urls, extract = _project_batch(source, todo)
    # A scan too small to be fetched in the background asks as before, after the lookups.
    probe = min(todo) if len(todo) >= PREFETCH_MINIMUM else None
    probing = asyncio.ensure_future(source.probe_per_version(*probe)) if probe else None
    try:
        await source.fetcher.prefetch(urls, PROJECT_KIND, extract, parse=decode_project)
    except BaseException:
        if probing is not None:
            probing.cancel()
        raise
    if probing is not None and await probing:
        source.settle_per_version(*probe)

    async def one(name: str, version: str) -> tuple[str, IndexRecord]:
        record = await source.lookup(name, version)
        if on_done:
            on_done(name)
        return name, record

    results = await asyncio.gather(*(one(n, v) for n, v in pairs))
    return dict(results)
