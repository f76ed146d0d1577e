"""Other indexes: a package a lockfile locked from an index other than the configured one
(a vendor's wheel index such as https://download.pytorch.org/whl/cpu) is looked up on
THAT index's simple API, never on PyPI: a PyPI project of the same name is another
project.

The project page `{index}/{name}/` is asked for as PEP 691 JSON, and PEP 503 HTML is
taken where that is what the index serves (download.pytorch.org serves only HTML). It
gives what a simple index can: the project exists there, the locked version's files and
their sha256, whether they are yanked (PEP 592), upload times where PEP 700 gives them,
and the newest version. It never says who can publish: those facts stay unknown.

The index is named by the scanned file, not configured by the user, so it is asked
without credentials (never the configured index's, never ~/.netrc's, never ones written
in the lockfile's URL), within the scan's deadline and cache. An index that does not
answer leaves the package's facts unknown with the reason; the scan goes on.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from scanner.names import invalid_name_reason, is_project_name
from scanner.records import (
    FailureCause,
    IndexRecord,
    Project,
    Release,
    ReleaseFile,
    ReleaseSummary,
)
from scanner.sources.http import Fetcher, FetchResult
from scanner.sources.pypi import SIMPLE_JSON, segment
from scanner.urls import index_url_problem, without_credentials
from scanner.wording import counted, some_of

# Bump when the extraction changes: older cache entries then simply miss.
OTHER_INDEX_KIND = "other-index-project-v2"
# JSON first, HTML where the index serves nothing else (as pip asks).
ACCEPT = f"{SIMPLE_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
# A hostile page may list anything: files past these bounds are ignored.
MAX_FILES = 100_000
# download.pytorch.org's largest page (whl/torch/, every CUDA build) is a few MB; parsing
# a far larger one would only burn the scan's time.
MAX_PAGE_BYTES = 32 * 1024 * 1024
MAX_FILES_KEPT = 2000  # of the locked version (torch has about a hundred per release)
MAX_FILENAME = 300
MAX_ATTRIBUTE = 2000
_SHA256 = re.compile(r"[0-9a-f]{64}")


# --- parsing: pure functions of a response body --------------------------------------------


def parse_simple_page(body: bytes) -> dict[str, Any]:
    """A project page as {"api": "json"|"html", "files": [...]}, each file a dict of
    filename, url, sha256, requires_python, yanked, yanked_reason, upload_time. The
    Fetcher hands the body over without its Content-Type, so the form is told by its
    first character: a JSON object, else HTML."""
    if len(body) > MAX_PAGE_BYTES:
        raise ValueError(f"project page larger than {MAX_PAGE_BYTES} bytes")
    if body.lstrip()[:1] == b"{":
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("not a PEP 691 project page")
        return {"api": "json", "files": _json_files(document.get("files"))}
    return {"api": "html", "files": _html_files(body.decode("utf-8", errors="replace"))}


def _json_files(entries: Any) -> list[dict[str, Any]]:
    files = []
    for entry in entries if isinstance(entries, list) else []:
        if len(files) >= MAX_FILES:
            break
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            continue
        filename = entry.get("filename")
        if not isinstance(filename, str):
            continue
        hashes = entry.get("hashes") if isinstance(entry.get("hashes"), dict) else {}
        yanked = entry.get("yanked")
        upload = entry.get("upload-time")
        files.append(
            _file(
                filename,
                entry["url"],
                hashes.get("sha256"),
                entry.get("requires-python"),
                yanked is not None and yanked is not False,
                yanked if isinstance(yanked, str) else "",
                upload if isinstance(upload, str) else None,
            )
        )
    return files


class _AnchorParser(HTMLParser):
    """The <a> elements of a PEP 503 page: their attributes (unescaped by HTMLParser)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and len(self.anchors) < MAX_FILES:
            self.anchors.append(dict(attrs))


def _html_files(text: str) -> list[dict[str, Any]]:
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    files = []
    for attrs in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        # pip names a file by its URL, not by the anchor's text: that is what it installs.
        url, _, fragment = href.partition("#")
        filename = unquote(urlsplit(url).path.rpartition("/")[2])
        algorithm, _, digest = fragment.partition("=")
        yanked = attrs.get("data-yanked", False)
        files.append(
            _file(
                filename,
                url,
                digest if algorithm == "sha256" else None,
                attrs.get("data-requires-python"),
                yanked is not False,  # present, even empty or without a value (PEP 592)
                yanked or "",
                None,  # PEP 700 upload times are JSON-only
            )
        )
    return files


def _file(
    filename: str,
    url: str,
    sha256: Any,
    requires_python: Any,
    yanked: bool,
    yanked_reason: str,
    upload_time: str | None,
) -> dict[str, Any]:
    digest = sha256.lower() if isinstance(sha256, str) else ""
    return {
        "filename": filename[:MAX_FILENAME],
        "url": url[:MAX_ATTRIBUTE],
        "sha256": digest if _SHA256.fullmatch(digest) else "",
        "requires_python": str(requires_python or "")[:200],
        "yanked": yanked,
        "yanked_reason": yanked_reason[:300],
        "upload_time": upload_time[:40] if upload_time else None,
    }


def _release_of(filename: str, project: str) -> tuple[Version, str] | None:
    """(version, package type) of one of `project`'s wheels or sdists; None for other
    projects' files, eggs, installers and names that do not parse."""
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            kind = "bdist_wheel"
        elif filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            kind = "sdist"
        else:
            return None
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return (version, kind) if name == project else None


def extract_project(
    page: dict[str, Any], url: str, name: str, wanted: frozenset[str]
) -> dict[str, Any]:
    """The project document in the shape scanner.sources.pypi.extract_project gives, so
    that the facts stage derives the same facts from it. Only what a simple index says:
    no ownership, project URLs, licence or vulnerabilities. `wanted`: the versions (as
    the lockfile writes them) whose files are kept."""
    project = canonicalize_name(name)
    wanted_by_version: dict[Version, str] = {}
    for text in wanted:
        try:
            wanted_by_version[Version(text)] = text
        except InvalidVersion:
            continue
    by_version: dict[Version, list[tuple[ReleaseFile, str]]] = {}
    for entry in page["files"]:
        release = _release_of(entry["filename"], project)
        if release is None:
            continue
        version, kind = release
        file = ReleaseFile(
            entry["filename"], entry["sha256"], kind, entry["upload_time"], entry["yanked"]
        )
        by_version.setdefault(version, []).append((file, entry["yanked_reason"]))
    releases: dict[str, Release] = {}
    for version, files in by_version.items():
        uploads = [f.upload_time for f, _ in files if f.upload_time]
        yanked = all(f.yanked for f, _ in files)
        reason = next((why for f, why in files if f.yanked and why), "")
        releases[str(version)] = Release(min(uploads) if uploads else None, yanked, reason)
    kept = {
        wanted_by_version[v]: files for v, files in by_version.items() if v in wanted_by_version
    }
    return Project(
        name=project,
        api=page["api"],
        index_page=url,
        latest_version=_latest(by_version),
        releases={
            text: releases[str(version)]
            for version, text in wanted_by_version.items()
            if version in by_version
        },
        release_versions=tuple(releases),
        release_summary=ReleaseSummary.of(releases),
        files={text: tuple(f for f, _ in files[:MAX_FILES_KEPT]) for text, files in kept.items()},
        ownership=None,
        latest_vulnerabilities=None,
    ).to_dict()


def _latest(by_version: dict[Version, list[tuple[ReleaseFile, str]]]) -> str:
    """The newest final release that is not wholly yanked, as PyPI's `info.version` is;
    else the newest of all."""
    final = [
        v
        for v, files in by_version.items()
        if not v.is_prerelease and not all(f.yanked for f, _ in files)
    ]
    candidates = final or list(by_version)
    return str(max(candidates)) if candidates else ""


# --- the source ----------------------------------------------------------------------------


def project_page_url(index_url: str, name: str) -> str:
    return f"{index_url.rstrip('/')}/{segment(canonicalize_name(name))}/"


class OtherIndexSource:
    """Looks packages up on the indexes their lockfile named, through an anonymous
    sibling of the scan's fetcher."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher.anonymous()
        # index -> why it is not asked again in this scan (it could not be reached)
        self._unreachable: dict[str, tuple[str, FailureCause]] = {}

    async def aclose(self) -> None:
        await self.fetcher.aclose()

    async def lookup(self, name: str, version: str, index_url: str) -> IndexRecord:
        index = without_credentials(index_url).rstrip("/")
        problem = index_url_problem(index)
        if problem:
            return _unknown(
                name,
                index,
                f"locked from {index!r}, which {problem}: that index is not asked, so the "
                "facts of its package are unknown",
                FailureCause.NOT_ASKED,
            )
        if not is_project_name(name):
            return _unknown(name, index, invalid_name_reason(name), FailureCause.INVALID_NAME)
        if index in self._unreachable:
            return _unknown(name, index, *self._unreachable[index])
        url = project_page_url(index, name)
        result = await self._get(url, name, version)
        if result.status == "ok" and version not in result.data["files"]:
            refetched = await self._refetch(url, name, version, result)
            result = refetched or result
        if result.status != "ok":
            reason = self._reason(index, name, result)
            cause = result.cause or FailureCause.BAD_ANSWER
            if cause.host_down:
                self._unreachable[index] = (reason, cause)
            return _unknown(name, index, reason, cause)
        return IndexRecord(
            name,
            "found",
            project=Project.from_dict(result.data),
            vulnerabilities_unknown=(
                f"{index} is not PyPI: its simple index lists no vulnerabilities"
            ),
            stale=result.stale,
            stale_because=result.error and f"{index}: {result.error}",
            other_index=index,
        )

    async def _get(self, url: str, name: str, version: str, *, force: bool = False):
        extract = functools.partial(extract_project, name=name, wanted=frozenset({version}))
        return await self.fetcher.get_json(
            url, OTHER_INDEX_KIND, extract, accept=ACCEPT, parse=parse_simple_page, force=force
        )

    async def _refetch(
        self, url: str, name: str, version: str, cached: FetchResult
    ) -> FetchResult | None:
        """The cached extraction was made for another version of a release the index has:
        fetch the page afresh for this one."""
        try:
            listed = str(Version(version)) in cached.data.get("release_versions", ())
        except InvalidVersion:
            listed = False
        if not cached.from_cache or not listed or self.fetcher.offline:
            return None
        result = await self._get(url, name, version, force=True)
        return result if result.status == "ok" else None

    @staticmethod
    def _reason(index: str, name: str, result: FetchResult) -> str:
        if result.status == "offline-miss":
            return f"offline, and {index}'s page for {name} is not in the cache"
        if result.status == "not-found":
            return (
                f"{index} has no page for {name} ({result.error or 'HTTP 404'}): the index "
                "the lockfile names does not list it there"
            )
        if result.status == "denied":
            code = f"HTTP {result.http_status}" if result.http_status else "denied"
            return (
                f"{index} refused access ({code}); trustmap sends no credentials to an index "
                "a lockfile names, so the facts of its package are unknown"
            )
        return f"{index}, the index the lockfile names, gave no usable answer: {result.error}"


def _unknown(name: str, index: str, reason: str, cause: FailureCause) -> IndexRecord:
    return IndexRecord(name, "unknown", reason=reason, cause=cause, other_index=index)


def not_asked(name: str, index_url: str) -> IndexRecord:
    """The record of a package from another index when other indexes are switched off."""
    index = without_credentials(index_url).rstrip("/")
    return _unknown(
        name,
        index,
        f"locked from {index}, which is not the configured index; asking other indexes is "
        "switched off (--no-other-indexes / other-indexes = false), so the facts of its "
        "package are unknown",
        FailureCause.SWITCHED_OFF,
    )


async def lookup_other_indexes(
    fetcher: Fetcher,
    packages: Iterable[tuple[str, str, str]],
    on_done: Callable[[str], None] | None = None,
) -> tuple[dict[str, IndexRecord], int]:
    """Each (name, version, index URL) looked up on its index: the records, and how many
    requests were sent. Per index, one package is asked first: an index that cannot be
    reached is not asked again for the others (each would wait out its retries)."""
    source = OtherIndexSource(fetcher)
    by_index: dict[str, list[tuple[str, str]]] = {}
    for name, version, index_url in packages:
        by_index.setdefault(index_url, []).append((name, version))

    async def one(name: str, version: str, index_url: str) -> tuple[str, IndexRecord]:
        record = await source.lookup(name, version, index_url)
        if on_done:
            on_done(name)
        return name, record

    async def per_index(index_url: str, pairs: list[tuple[str, str]]):
        first = [await one(*pairs[0], index_url)]
        rest = await asyncio.gather(*(one(n, v, index_url) for n, v in pairs[1:]))
        return first + list(rest)

    try:
        groups = await asyncio.gather(*(per_index(i, p) for i, p in by_index.items()))
    finally:
        await source.aclose()
    records = {name: record for group in groups for name, record in group}
    return records, source.fetcher.requests_sent


def other_index_notes(records: dict[str, IndexRecord]) -> list[str]:
    """One note per other index: how many of its packages it answered for."""
    notes = []
    by_index: dict[str, list[IndexRecord]] = {}
    for record in records.values():
        by_index.setdefault(record.other_index, []).append(record)
    for index, group in sorted(by_index.items()):
        found = sum(r.status == "found" for r in group)
        names = some_of(sorted(r.name for r in group))
        if all(r.cause is FailureCause.SWITCHED_OFF for r in group):
            said = "not asked (switched off) for"
        elif found == len(group):
            said = "its simple index answered for"
        elif found:
            said = f"answered for {found} of"
        else:
            said = "no facts from it for"
        notes.append(
            f"other index {index}: {said} {counted(len(group), 'package')} "
            f"locked from it ({names}); ownership and usage there are unknown"
        )
    return notes
