"""What the resolver asks the index: the files of a project (simple API, PEP 691 JSON) and
the dependencies of one release (PEP 658 `.metadata`, then the wheel's METADATA read with
HTTP range requests, or for a release with only an sdist the sdist's own PKG-INFO or
egg-info requires.txt (see scanner.sources.sdist), then the JSON API).

Nothing is built or run: a release whose only file is an sdist that does not state its
dependencies statically, on an index that serves no metadata for it, has unknown
dependencies, and the resolver says so.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import io
import stat
import struct
import threading
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict
from urllib.parse import urljoin, urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scanner import wheels
from scanner.names import invalid_name_reason, is_project_name
from scanner.sources import sdist
from scanner.sources.http import AccessDenied, DecodeShaped, Fetcher, FetchResult, redact
from scanner.sources.pypi import SIMPLE_JSON, json_api_base, segment

RELEASES_KIND = "simple-releases-v4"  # v4: newest release first
FILES_KIND = "simple-files-v1"
METADATA_KIND = "core-metadata-v1"
RANGE_METADATA_KIND = "wheel-metadata-v1"
SDIST_METADATA_KIND = "sdist-deps-v1"
RELEASE_KIND = "pypi-release-deps-v2"
DEPENDENCIES_KIND = "release-dependencies"  # shared answers only (any of the above)
# A release's files never change (PyPI forbids re-uploads): their metadata can be kept.
IMMUTABLE_TTL = 365 * 24 * 3600.0
MAX_METADATA_BYTES = 4 * 1024 * 1024
# The zip end record (22 bytes and a comment of up to 64 KiB) always lies in the last
# 66 KiB; in most wheels the central directory and the METADATA member do too.
_TAIL_BYTES = 66 * 1024
_FIRST_SDIST_CHUNK = 256 * 1024  # most sdists are smaller: one request
_LARGEST_SDIST_CHUNK = 4 * 1024 * 1024
_CHUNK_TIMEOUT = 300.0  # seconds the archive reader waits for one range
# `.metadata` files a page does not advertise are tried until this many of them on one
# host have been answered 404 with no more successes than failures; after that the host
# is taken not to serve them, and wheels go straight to range requests (a 404 costs a
# round trip that is on the resolver's critical path; a range read returns the same bytes).
# No more than this many are asked at once: the resolver's crawl asks for dozens of
# wheels together, and all of them were probes before the first answer came back (a cold
# resolution of the llm-app project behind this workplace's mirror sent 73 such 404s for
# 17 served; a mirror that serves some and not others gave bursts after a lucky start
# too). A wheel not probed is read by range requests, which return the same bytes.
UNADVERTISED_METADATA_PROBES = 3


@dataclass(frozen=True)
class IndexRelease:
    """One version of a project as the resolver needs it (not every file: numpy has
    thousands, and a warm resolution should not read them all again)."""

    version: str
    requires_python: tuple[str, ...]  # the distinct values its files declare ("" = none)
    yanked: bool  # every file of the release is yanked
    metadata_file: str  # the file whose metadata is read: a wheel where there is one
    metadata_url: str
    metadata_is_wheel: bool
    metadata_advertised: bool  # PEP 658 / 714 says `<url>.metadata` is served

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "requires_python": list(self.requires_python),
            "yanked": self.yanked,
            "metadata_file": self.metadata_file,
            "metadata_url": self.metadata_url,
            "metadata_is_wheel": self.metadata_is_wheel,
            "metadata_advertised": self.metadata_advertised,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexRelease:
        return cls(
            version=data["version"],
            requires_python=tuple(data["requires_python"]),
            yanked=data["yanked"],
            metadata_file=data["metadata_file"],
            metadata_url=data["metadata_url"],
            metadata_is_wheel=data["metadata_is_wheel"],
            metadata_advertised=data["metadata_advertised"],
        )


def _releases_of(rows: list[dict[str, Any]]) -> list[IndexRelease]:
    return [IndexRelease.from_dict(r) for r in rows]


@dataclass(frozen=True)
class ReleaseMetadata:
    requires_dist: tuple[str, ...]
    requires_python: str
    source: str  # where the dependencies were read, for the report


# What extract_releases reads of a simple page: the rest of each file entry (hashes,
# sizes, upload times) is skipped unbuilt when decoding (see DecodeShaped). A field added
# to the extraction is added here too.
_ReleasesFile = TypedDict(
    "_ReleasesFile",
    {
        "filename": str,
        "url": str,
        "requires-python": "str | None",
        "yanked": "bool | str",
        "core-metadata": "bool | dict[str, str]",
        "data-dist-info-metadata": "bool | dict[str, str]",
    },
    total=False,
)


class _ReleasesPage(TypedDict, total=False):
    name: str
    files: list[_ReleasesFile]


decode_releases_page = DecodeShaped("scanner.sources.index:_ReleasesPage")


def extract_releases(doc: dict[str, Any], url: str) -> list[dict[str, Any]]:
    """The simple page summarised per release, at fetch time, newest release first: each an
    `IndexRelease.to_dict()`. Relative URLs are resolved here; eggs, installers and files of other
    projects are dropped. Pages run to tens of thousands of files (numpy, torch; a
    resolution reads some 140,000 files in 200 pages), so the per-file work is kept to a
    file-name split and a dict lookup, with each distinct name and version parsed once,
    and only each release's chosen file's URL resolved."""
    parse = _FilenameParser(canonicalize_name(str(doc.get("name", ""))))
    # version -> [the chosen file's sort key, its entry, requires-python values, all yanked]
    releases: dict[str, list[Any]] = {}
    for entry in doc.get("files") or []:
        if not isinstance(entry, dict):
            continue
        filename, file_url = entry.get("filename"), entry.get("url")
        if not isinstance(filename, str) or not isinstance(file_url, str):
            continue
        version = parse.version(filename)
        if version is None:
            continue
        metadata = entry.get("core-metadata", entry.get("data-dist-info-metadata", False))
        # Advertised metadata first, then a pure-Python wheel, any wheel, an sdist.
        wheel = filename.endswith(".whl")
        key = (not metadata, not wheel, "-none-any" not in filename, filename[:300])
        requires_python = str(entry.get("requires-python") or "")[:200]
        yanked = bool(entry.get("yanked"))
        release = releases.get(version)
        if release is None:
            releases[version] = [key, entry, {requires_python}, yanked]
            continue
        if key < release[0]:
            release[0], release[1] = key, entry
        release[2].add(requires_python)
        release[3] = release[3] and yanked
    rows = []
    for version, (key, best, requires_python, yanked) in releases.items():
        best_url = best["url"]
        if not (best_url.startswith(("https://", "http://")) and "?" not in best_url):
            # urljoin hands a plain absolute URL back as it is: only others need it.
            best_url = urljoin(url, best_url)
        rows.append(
            IndexRelease(
                version=version,
                requires_python=tuple(sorted(requires_python)),
                yanked=yanked,
                metadata_file=key[3],
                metadata_url=best_url.split("#")[0],
                metadata_is_wheel=not key[1],
                metadata_advertised=not key[0],
            ).to_dict()
        )
    # Newest first, as the resolver reads them: sorted once here, not on every scan.
    rows.sort(key=lambda row: parse.parsed[row["version"]], reverse=True)
    return rows


def extract_files(doc: dict[str, Any], url: str) -> list[dict[str, Any]]:
    """Every installable file of a simple page with its sha256 (an exported index lists
    files by hash; a file the page gives no sha256 for is left out): filename, absolute
    URL without fragment, version, requires-python and yanked (the reason, or None)."""
    parse = _FilenameParser(canonicalize_name(str(doc.get("name", ""))))
    rows = []
    for entry in doc.get("files") or []:
        if not isinstance(entry, dict):
            continue
        filename, file_url = entry.get("filename"), entry.get("url")
        hashes = entry.get("hashes")
        sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
        if not isinstance(filename, str) or not isinstance(file_url, str):
            continue
        if not isinstance(sha256, str) or len(sha256) != 64:
            continue
        version = parse.version(filename)
        if version is None:
            continue
        yanked = entry.get("yanked")
        rows.append(
            {
                "filename": filename[:300],
                "url": urljoin(url, file_url).split("#")[0],
                "sha256": sha256.lower(),
                "version": version,
                "requires_python": str(entry.get("requires-python") or "")[:200],
                "yanked": (yanked if isinstance(yanked, str) else "") if yanked else None,
            }
        )
    return rows


class _FilenameParser:
    """Versions from file names (wheel: name-version-...whl; sdist: name-version.tar.gz),
    normalised, for the files of one project only."""

    def __init__(self, project: str) -> None:
        self.project = project
        self._names: dict[str, bool] = {}
        self._versions: dict[str, str | None] = {}
        self.parsed: dict[str, Version] = {}  # each normalised version, parsed

    def version(self, filename: str) -> str | None:
        if filename.endswith(".whl"):
            written = wheels.name_and_version(filename)
            if written is None:
                return None
            name, raw = written
        elif filename.endswith((".tar.gz", ".zip")):
            stem = filename[: -7 if filename.endswith(".tar.gz") else -4]
            name, _, raw = stem.rpartition("-")
        else:
            return None  # eggs, installers and other formats pip does not install
        if self.project:
            ours = self._names.get(name)
            if ours is None:
                ours = self._names[name] = canonicalize_name(name) == self.project
            if not ours:
                return None
        if raw not in self._versions:
            try:
                parsed = Version(raw)
            except InvalidVersion:
                self._versions[raw] = None
            else:
                normalised = self._versions[raw] = str(parsed)
                self.parsed.setdefault(normalised, parsed)
        return self._versions[raw]


def extract_metadata(body: bytes, url: str = "") -> dict[str, Any]:
    from packaging.metadata import parse_email  # a cold resolution's only: slow to import

    headers, _, _ = body[:MAX_METADATA_BYTES].partition(b"\n\n")
    parsed, _ = parse_email(headers)
    return {
        "requires_dist": [str(r)[:500] for r in parsed.get("requires_dist", [])][:500],
        "requires_python": str(parsed.get("requires_python") or "")[:200],
    }


class _UnadvertisedMetadata:
    """Whether each host serves the PEP 658 files its pages do not advertise, learned from
    its answers during one resolution."""

    def __init__(self) -> None:
        self.served: Counter[str] = Counter()
        self.missing: Counter[str] = Counter()
        self.asking: Counter[str] = Counter()  # probes in flight

    def start(self, url: str) -> bool:
        """Whether to ask for this wheel's `.metadata`; if so, `finish` must follow."""
        host = _host(url)
        served, missing = self.served[host], self.missing[host]
        worth_it = missing < UNADVERTISED_METADATA_PROBES or served > missing
        ask = worth_it and self.asking[host] < UNADVERTISED_METADATA_PROBES
        if ask:
            self.asking[host] += 1
        return ask

    def finish(self, url: str, served: bool | None) -> None:
        """The probe's answer: served, not (404), or None when it told nothing."""
        host = _host(url)
        self.asking[host] -= 1
        if served is not None:
            (self.served if served else self.missing)[host] += 1


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


class IndexClient:
    def __init__(self, fetcher: Fetcher, index_url: str) -> None:
        self.fetcher = fetcher
        # Credentials stay with the fetcher, which sends them to the index's origin
        # with every request: pages, .metadata files and range reads alike.
        self.index_url = fetcher.use_index(index_url).rstrip("/")
        self.json_base = json_api_base(self.index_url)
        self.unadvertised = _UnadvertisedMetadata()

    async def releases(self, name: str) -> tuple[list[IndexRelease] | None, str]:
        """Every release of a project that has an installable file, or None and why."""
        # Decoded here, not in the decoder process: shaped and summarised in one pass, a
        # page costs this loop less than sending it there did (pickling, the executor's
        # threads): a cold resolution of the lab requirements, 5 interleaved rounds,
        # 3.74 s of CPU in all against 4.32 s, this process's 3.74 s against 3.60 s.
        return await self._simple_page(
            name,
            RELEASES_KIND,
            extract_releases,
            parse=decode_releases_page,
            offload=False,
            convert=_releases_of,
        )

    def kept_releases(self, name: str) -> list[IndexRelease] | None:
        """`releases(name)` as the command's other scan found it (`Fetcher.shared`), read
        without the event loop; None when there is none to reuse."""
        shared = self.fetcher.shared
        if shared is None or not is_project_name(name):
            return None
        return shared.get(RELEASES_KIND, self.fetcher.cache_key(self._page_url(name)))

    def kept_metadata(self, release: IndexRelease) -> ReleaseMetadata | None:
        """`metadata(name, release)` as the command's other scan found it, read without
        the event loop; None when there is none to reuse."""
        shared = self.fetcher.shared
        if shared is None:
            return None
        return shared.get(DEPENDENCIES_KIND, self.fetcher.cache_key(release.metadata_url))

    def _page_url(self, name: str) -> str:
        return f"{self.index_url}/{segment(canonicalize_name(name))}/"

    async def files(self, name: str) -> tuple[list[dict[str, Any]] | None, str]:
        """Every installable file of a project with its hash (`extract_files`), or None
        and why."""
        return await self._simple_page(name, FILES_KIND, extract_files)

    async def _simple_page(
        self,
        name: str,
        kind: str,
        extract: Callable[[Any, str], Any],
        parse: Callable[[bytes], Any] | None = None,
        offload: bool = True,
        convert: Callable[[Any], Any] | None = None,
    ) -> tuple[Any, str]:
        """What `extract` takes from the project's simple page (cached as `kind`), or None
        and why. `parse`: the decoder (the whole JSON document by default); `offload`:
        decoded in the decoder process (see Fetcher.get_json). With `convert` (to records
        its readers never change), a fresh answer is shared with the command's other scans
        (`Fetcher.shared`), which then neither read nor convert it again."""
        if not is_project_name(name):
            return None, invalid_name_reason(name)
        url = self._page_url(name)
        shared = self.fetcher.shared if convert is not None else None
        if shared is not None:
            kept = shared.get(kind, self.fetcher.cache_key(url))
            if kept is not None:
                return kept, ""
        result = await self.fetcher.get_json(
            url, kind, extract, accept=SIMPLE_JSON, offload=offload, parse=parse
        )
        if result.status == "not-found":
            return None, "the index has no project of this name"
        _refuse(result)
        if result.status != "ok":
            return None, _why(result)
        if convert is None:
            return result.data, ""
        data = convert(result.data)
        if shared is not None and not result.stale:
            shared.keep(kind, self.fetcher.cache_key(url), data)
        return data, ""

    async def metadata(self, name: str, release: IndexRelease) -> ReleaseMetadata:
        """The dependencies of one release, from the cheapest source that has them, or as
        the command's other scan found them (`Fetcher.shared`): a release's files never
        change, and an answer read while an expired cache entry was used is not shared."""
        shared = self.fetcher.shared
        if shared is None:
            return await self._read_metadata(name, release)
        kept = self.kept_metadata(release)
        if kept is not None:
            return kept
        key = self.fetcher.cache_key(release.metadata_url)
        stale_before = len(self.fetcher.stale_answers)
        found = await self._read_metadata(name, release)
        if len(self.fetcher.stale_answers) == stale_before:
            shared.keep(DEPENDENCIES_KIND, key, found)
        return found

    async def _read_metadata(self, name: str, release: IndexRelease) -> ReleaseMetadata:
        errors: list[str] = []
        ranged = f"METADATA inside {release.metadata_file} (range requests)"
        if release.metadata_is_wheel and not release.metadata_advertised:
            # Read by range on an earlier scan: the answer is kept, the `.metadata` 404
            # only for an hour, so asking for the `.metadata` again would be a wasted trip.
            cached = self.fetcher.store.get(redact(release.metadata_url), RANGE_METADATA_KIND)
            if cached is not None:
                return _release(cached.data, ranged)
        # PEP 658 metadata where advertised; mirrors often serve the `.metadata` files yet
        # drop the key from their pages, so a wheel's is tried even when not advertised,
        # until the host has shown that it does not serve them.
        probe = (
            not release.metadata_advertised
            and release.metadata_is_wheel
            and self.unadvertised.start(release.metadata_url)
        )
        if release.metadata_advertised or probe:
            found, error = await self._pep658_metadata(release, probe)
            if found is not None:
                return found
            errors.append(error)
        if release.metadata_is_wheel:
            data, error = await self._wheel_metadata_by_range(release)
            if data is not None:
                return _release(data, ranged)
            errors.append(error)
            if not release.metadata_advertised and not probe:
                # Not probed (the host's verdict, or enough probes in flight) and the
                # range requests failed: the `.metadata` file may still be served.
                found, error = await self._pep658_metadata(release, False)
                if found is not None:
                    return found
                errors.append(error)
        else:
            data, error = await self._sdist_metadata(name, release)
            if data is not None:
                return _release(data, data["source"])
            errors.append(error)
        result = await self.fetcher.get_json(
            f"{self.json_base}/{segment(canonicalize_name(name))}/{segment(release.version)}/json",
            RELEASE_KIND,
            _extract_release_deps,
            ttl=IMMUTABLE_TTL,
        )
        if result.status == "ok" and (
            result.data["requires_dist"] is not None or release.metadata_is_wheel
        ):
            return _release(result.data, "the index's JSON API for this release")
        _refuse(result, forbidden_too=False)  # many mirrors serve no JSON API at all
        if result.status == "ok":
            # An sdist upload without Requires-Dist leaves it null: not "no dependencies".
            errors.append("the index's JSON API lists no Requires-Dist for it")
        else:
            errors.append(f"JSON API: {_why(result)}")
        raise MetadataUnavailable(
            f"dependencies of {name} {release.version} could not be read without building "
            f"it ({'; '.join(e for e in errors if e)})"
        )

    async def _pep658_metadata(
        self, release: IndexRelease, probe: bool
    ) -> tuple[ReleaseMetadata | None, str]:
        """The release's `<file>.metadata` (PEP 658), or None and why. `probe`: counted
        in the host's verdict on the unadvertised files (see _UnadvertisedMetadata)."""
        told = None
        try:
            result = await self.fetcher.get_json(
                f"{release.metadata_url}.metadata",
                METADATA_KIND,
                extract_metadata,
                ttl=IMMUTABLE_TTL,
                parse=lambda body: body,
                accept="*/*",
            )
            if result.status in ("ok", "not-found"):
                told = result.status == "ok"
        finally:
            if probe:
                self.unadvertised.finish(release.metadata_url, told)
        if result.status == "ok":
            return _release(result.data, f"PEP 658 metadata of {release.metadata_file}"), ""
        # A guessed URL may answer 403 where nothing is served (object stores do).
        _refuse(result, forbidden_too=release.metadata_advertised)
        return None, f"{release.metadata_file}.metadata: {_why(result)}"

    async def _wheel_metadata_by_range(self, release: IndexRelease) -> tuple[dict | None, str]:
        url = release.metadata_url
        key = self.fetcher.cache_key(url)
        cached = self.fetcher.store.get(key, RANGE_METADATA_KIND)
        if cached is not None:
            return cached.data, ""
        if self.fetcher.offline:
            return None, "offline, and not in the cache"
        try:
            body = await read_wheel_metadata(self.fetcher, url)
        except (ValueError, OSError, zlib.error, struct.error) as exc:
            return None, f"could not read METADATA from {release.metadata_file}: {exc}"
        data = extract_metadata(body)
        self.fetcher.store.put(key, RANGE_METADATA_KIND, data, None, None)
        return data, ""

    async def _sdist_metadata(self, name: str, release: IndexRelease) -> tuple[dict | None, str]:
        """The dependencies an sdist states about itself, read from the archive by range
        requests (or one capped download where ranges are not served), never extracted.
        Only the outcome is cached, never the archive: found dependencies, or why the
        archive does not say (it never changes, so neither does the answer)."""
        url, filename = release.metadata_url, release.metadata_file
        key = redact(url)
        cached = self.fetcher.store.get(key, SDIST_METADATA_KIND)
        if cached is not None and not {"unknown", "requires_dist"} & set(cached.data):
            cached = None  # the fallback download's record of a 404: ask again
        if cached is None and not self.fetcher.offline:
            try:
                outcome = await self._read_sdist(name, url, filename)
            except _DownloadFailed as exc:
                return None, f"could not read {filename}: {exc}"
            self.fetcher.store.put(key, SDIST_METADATA_KIND, outcome, None, None)
        else:
            outcome = cached.data if cached is not None else None
        if outcome is None:
            return None, "offline, and not in the cache"
        if "unknown" in outcome:
            return None, outcome["unknown"]
        return outcome, ""

    async def _read_sdist(self, name: str, url: str, filename: str) -> dict:
        """The sdist's outcome (see scanner.sources.sdist.dependencies); _DownloadFailed
        when the file could not be fetched."""
        is_zip = filename.endswith(".zip")
        try:
            first = await self.fetcher.get_range(
                url, f"bytes=0-{_FIRST_SDIST_CHUNK - 1}", _FIRST_SDIST_CHUNK
            )
        except (OSError, ValueError) as exc:
            raise _DownloadFailed(str(exc)) from None
        if first is None:
            return await self._read_sdist_whole(name, url, filename)
        try:
            if is_zip:
                files = await _read_zip_sdist(self.fetcher, url, name, first)
            else:
                chunks = _RangeChunks(self.fetcher, url, first)
                try:
                    files = await _in_thread(functools.partial(sdist.read_tar_gz, chunks, name))
                finally:
                    chunks.stop.set()  # an interrupted scan ends the reader at its next chunk
        except sdist.SdistUnreadable as exc:
            return {"unknown": f"{filename} could not be read: {exc}"}
        except (struct.error, zlib.error) as exc:
            return {"unknown": f"{filename} could not be read: damaged archive ({exc})"}
        return sdist.dependencies(files, filename)

    async def _read_sdist_whole(self, name: str, url: str, filename: str) -> dict:
        """For servers that refuse range requests: one download, capped, read in memory."""
        result = await self.fetcher.get_json(
            url,
            SDIST_METADATA_KIND,
            functools.partial(_sdist_from_body, project=name, filename=filename),
            ttl=IMMUTABLE_TTL,
            parse=_bytes_as_they_are,
            accept="*/*",
        )
        if result.status != "ok":
            raise _DownloadFailed(_why(result))
        return result.data


class _DownloadFailed(Exception):
    """The sdist could not be fetched (a network failure, not the archive's fault)."""


class _RangeChunks:
    """The archive's compressed bytes, chunk by chunk, as the tar reader in its worker
    thread asks for them: each chunk one range request on the fetcher's event loop,
    growing from the first (already read) so that a large sdist costs few requests."""

    def __init__(self, fetcher: Fetcher, url: str, first: tuple[bytes, int]) -> None:
        self.fetcher = fetcher
        self.url = url
        self.loop = asyncio.get_running_loop()
        self.stop = threading.Event()
        self._first: bytes | None = first[0]
        self.size = first[1]
        self.offset = len(first[0])
        self.chunk = _FIRST_SDIST_CHUNK

    def __call__(self) -> bytes:
        if self._first is not None:
            chunk, self._first = self._first, None
            return chunk
        if self.stop.is_set():
            raise sdist.SdistUnreadable("stopped")
        if self.offset >= self.size:
            return b""
        self.chunk = min(self.chunk * 2, _LARGEST_SDIST_CHUNK)
        end = min(self.offset + self.chunk, self.size) - 1
        future = asyncio.run_coroutine_threadsafe(
            self.fetcher.get_range(self.url, f"bytes={self.offset}-{end}", self.chunk),
            self.loop,
        )
        try:
            response = future.result(timeout=_CHUNK_TIMEOUT)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise _DownloadFailed("timed out reading the archive") from None
        except (OSError, ValueError) as exc:
            raise _DownloadFailed(str(exc)) from None
        if response is None or not response[0]:
            raise _DownloadFailed("the server stopped answering range requests")
        self.offset += len(response[0])
        return response[0]


async def _in_thread(work: Callable[[], Any]) -> Any:
    """Run blocking work (tarfile reads a stream synchronously) in a daemon thread, so
    that an interrupted scan never waits for it at exit. The work may call back into this
    loop, which stays free while it runs."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def run() -> None:
        try:
            outcome = (True, work())
        except BaseException as exc:  # handed to the awaiting coroutine
            outcome = (False, exc)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:
            pass  # the loop is gone: nobody is waiting

    threading.Thread(target=run, name="trustmap-sdist", daemon=True).start()
    return await future


def _bytes_as_they_are(body: bytes) -> bytes:
    return body


def _sdist_from_body(body: bytes, url: str, *, project: str, filename: str) -> dict:
    """The whole-file fallback's extraction: the same reading, over bytes in memory."""
    try:
        if filename.endswith(".zip"):
            files = _zip_sdist_in_memory(body, project)
        else:
            step = 64 * 1024
            chunks = iter([body[i : i + step] for i in range(0, len(body), step)])
            files = sdist.read_tar_gz(lambda: next(chunks, b""), project)
    except (sdist.SdistUnreadable, zipfile.BadZipFile, zlib.error) as exc:
        return {"unknown": f"{filename} could not be read: {exc}"}
    return sdist.dependencies(files, filename)


def _zip_sdist_in_memory(body: bytes, project: str) -> sdist.SdistFiles:
    found = sdist.SdistFiles(complete=True)
    skipped = []
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for info in archive.infolist()[: sdist.MAX_MEMBERS]:
            role = sdist.member_role(info.filename, canonicalize_name(project))
            if role == "egg-info":
                found.egg_info_seen = True
            if role not in ("pkg-info", "requires"):
                continue
            if stat.S_ISLNK(info.external_attr >> 16) or info.file_size > sdist.MAX_MEMBER_BYTES:
                skipped.append(info.filename)
                continue
            with archive.open(info) as handle:
                data = handle.read(sdist.MAX_MEMBER_BYTES + 1)
            if role == "pkg-info" and found.pkg_info is None:
                found.pkg_info = data
            elif role == "requires" and found.requires_txt is None:
                found.requires_txt, found.requires_txt_name = data, info.filename
    found.skipped = tuple(skipped)
    return found


class MetadataUnavailable(Exception):
    pass


def _extract_release_deps(doc: dict[str, Any], url: str) -> dict[str, Any]:
    """`requires_dist` stays None where the index has none: for a wheel that means no
    dependencies, for an sdist-only release only that it did not say."""
    info = doc["info"]
    requires = info.get("requires_dist")
    return {
        "requires_dist": None if requires is None else [str(r)[:500] for r in requires][:500],
        "requires_python": str(info.get("requires_python") or "")[:200],
    }


def _release(data: dict[str, Any], source: str) -> ReleaseMetadata:
    return ReleaseMetadata(tuple(data["requires_dist"] or ()), data["requires_python"], source)


def _why(result: FetchResult) -> str:
    return result.describe("not served by the index")


def _refuse(result: FetchResult, *, forbidden_too: bool = True) -> None:
    """A refusal (401, and 403 where the index says the file is there) is never a
    silent gap in the graph: the resolution ends, naming the index."""
    if result.status == "denied" and (forbidden_too or result.http_status == 401):
        raise AccessDenied(result.error)


async def read_wheel_metadata(fetcher: Fetcher, url: str) -> bytes:
    """The `*.dist-info/METADATA` member of a remote wheel, read with one to three HTTP
    range requests (the zip's end, its central directory, the one member) instead of
    downloading a wheel that may weigh hundreds of megabytes. Wheel builders write the
    dist-info last, so in most wheels the member lies inside the end already read."""
    tail = await _range(fetcher, url, f"bytes=-{_TAIL_BYTES}")
    for entry in await _zip_directory(fetcher, url, tail, _may_be_metadata):
        parts = entry.name.split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
            return await _zip_member(fetcher, url, entry, tail=tail)
    raise ValueError("no .dist-info/METADATA in the wheel")


def _may_be_metadata(raw_name: bytes) -> bool:
    """A cheap first look at a member's name, before it is decoded (torch's wheels list
    thousands of members)."""
    return raw_name.endswith(b".dist-info/METADATA")


async def _read_zip_sdist(
    fetcher: Fetcher, url: str, project: str, first: tuple[bytes, int]
) -> sdist.SdistFiles:
    """PKG-INFO and egg-info requires.txt of a .zip sdist, by range requests: its central
    directory lists every member, so the archive is known whole without reading it."""
    body, size = first
    whole = body if len(body) >= size else None
    tail = first if whole is not None else await _range(fetcher, url, f"bytes=-{_TAIL_BYTES}")
    found = sdist.SdistFiles(complete=True)
    skipped = []
    project = canonicalize_name(project)
    try:
        entries = await _zip_directory(fetcher, url, tail)
    except ValueError as exc:
        raise sdist.SdistUnreadable(str(exc)) from None
    for entry in entries[: sdist.MAX_MEMBERS]:
        role = sdist.member_role(entry.name, project)
        if role == "egg-info":
            found.egg_info_seen = True
        if role not in ("pkg-info", "requires"):
            continue
        if role == "pkg-info" and found.pkg_info is not None:
            continue
        if role == "requires" and found.requires_txt is not None:
            continue
        if entry.is_link or max(entry.compressed, entry.size) > sdist.MAX_MEMBER_BYTES:
            skipped.append(f"{entry.name} ({'a link' if entry.is_link else 'too large'})")
            continue
        try:
            data = await _zip_member(fetcher, url, entry, whole)
        except (ValueError, zlib.error, struct.error) as exc:
            skipped.append(f"{entry.name} ({exc})")
            continue
        if role == "pkg-info":
            found.pkg_info = data
        else:
            found.requires_txt, found.requires_txt_name = data, entry.name
    found.skipped = tuple(skipped)
    return found


@dataclass(frozen=True)
class _ZipEntry:
    name: str
    offset: int  # of the local header
    compressed: int
    size: int
    method: int
    is_link: bool


# A central directory entry's fixed part, after its signature: method, compressed and
# uncompressed sizes, name, extra and comment lengths, external attributes, local header
# offset.
_DIRECTORY_ENTRY = struct.Struct("<4x6xH8xIIHHH4xII")


async def _zip_directory(
    fetcher: Fetcher,
    url: str,
    tail: tuple[bytes, int],
    keep: Callable[[bytes], bool] | None = None,
) -> list[_ZipEntry]:
    """The central directory of a remote zip whose last bytes (and size) are `tail`;
    with `keep`, only the entries whose raw name it accepts."""
    data, size = tail
    end = data.rfind(b"PK\x05\x06")
    if end < 0 or len(data) - end < 22:
        raise ValueError(f"no zip end record in the last {_TAIL_BYTES // 1024} KiB")
    _, _, _, _, entries, cd_size, cd_offset, _ = struct.unpack("<IHHHHIIH", data[end : end + 22])
    tail_start = size - len(data)
    if cd_offset == 0xFFFFFFFF:
        raise ValueError("zip64 archives are not read by range")
    if cd_size > MAX_METADATA_BYTES:
        raise ValueError("zip central directory larger than the cap")
    if cd_offset >= tail_start:
        directory = data[cd_offset - tail_start : cd_offset - tail_start + cd_size]
    else:
        directory = await _range(fetcher, url, f"bytes={cd_offset}-{cd_offset + cd_size - 1}")
        directory = directory[0]
    found = []
    position = 0
    fixed = _DIRECTORY_ENTRY.size
    for _ in range(entries):
        if directory[position : position + 4] != b"PK\x01\x02":
            break
        if len(directory) - position < fixed:
            raise ValueError("zip central directory cut short")
        (method, compressed, size, name_length, extra_length, comment_length, attributes,
         local_offset) = _DIRECTORY_ENTRY.unpack_from(directory, position)  # fmt: skip
        raw_name = directory[position + fixed : position + fixed + name_length]
        position += fixed + name_length + extra_length + comment_length
        if keep is not None and not keep(raw_name):
            continue
        name = raw_name.decode("utf-8", "replace")
        link = stat.S_ISLNK(attributes >> 16)
        found.append(_ZipEntry(name, local_offset, compressed, size, method, link))
    return found


async def _zip_member(
    fetcher: Fetcher,
    url: str,
    entry: _ZipEntry,
    whole: bytes | None = None,
    tail: tuple[bytes, int] | None = None,
) -> bytes:
    """One member's contents, decompressed with a cap (a deflate bomb stops there).
    `whole`: the entire file, when one request already brought it; `tail`: the file's
    last bytes and its size, read already, which may hold the member."""
    if entry.compressed > MAX_METADATA_BYTES:
        raise ValueError(f"{entry.name} larger than the cap")
    # The local header (30 bytes + name + extra) precedes the data; read enough for both.
    first, last = entry.offset, entry.offset + 30 + 1024 + entry.compressed
    tail_start = tail[1] - len(tail[0]) if tail is not None else -1
    if whole is not None:
        chunk = whole[first : last + 1]
    elif tail is not None and 0 <= tail_start <= first:
        # The slice may stop short of `last` at the end of the file; the member, which
        # precedes the central directory, is whole in it or the length check below fails.
        chunk = tail[0][first - tail_start : last - tail_start + 1]
    else:
        chunk = (await _range(fetcher, url, f"bytes={first}-{last}"))[0]
    if chunk[:4] != b"PK\x03\x04":
        raise ValueError(f"no local header for {entry.name}")
    name_length, extra_length = struct.unpack("<HH", chunk[26:30])
    start = 30 + name_length + extra_length
    data = chunk[start : start + entry.compressed]
    if len(data) < entry.compressed:
        raise ValueError(f"{entry.name}: local header too long")
    if entry.method == 8:
        return zlib.decompressobj(-15).decompress(data, MAX_METADATA_BYTES)
    if entry.method == 0:
        return data[:MAX_METADATA_BYTES]
    raise ValueError(f"unsupported zip compression method {entry.method}")


async def _range(fetcher: Fetcher, url: str, byte_range: str) -> tuple[bytes, int]:
    response = await fetcher.get_range(url, byte_range, MAX_METADATA_BYTES + _TAIL_BYTES)
    if response is None:
        raise ValueError("the server does not answer range requests")
    return response
