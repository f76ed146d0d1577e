"""What the resolver asks the index: the files of a project (simple API, PEP 691 JSON) and
the dependencies of one release (PEP 658 `.metadata`, then the wheel's METADATA read with
HTTP range requests, then the JSON API).

Nothing is built or run: a release whose only file is an sdist, on an index that serves no
metadata for it, has unknown dependencies, and the resolver says so.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from packaging.metadata import parse_email
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scanner.sources.http import AccessDenied, Fetcher, FetchResult
from scanner.sources.pypi import SIMPLE_JSON, json_api_base

RELEASES_KIND = "simple-releases-v2"
METADATA_KIND = "core-metadata-v1"
RANGE_METADATA_KIND = "wheel-metadata-v1"
RELEASE_KIND = "pypi-release-deps-v1"
# A release's files never change (PyPI forbids re-uploads): their metadata can be kept.
IMMUTABLE_TTL = 365 * 24 * 3600.0
MAX_METADATA_BYTES = 4 * 1024 * 1024
_TAIL_BYTES = 128 * 1024


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


@dataclass(frozen=True)
class ReleaseMetadata:
    requires_dist: tuple[str, ...]
    requires_python: str
    source: str  # where the dependencies were read, for the report


def extract_releases(doc: dict[str, Any], url: str) -> list[list[Any]]:
    """The simple page summarised per release, at fetch time: [version, requires-python
    values, all yanked, metadata file name, its absolute URL, is a wheel, metadata
    advertised]. Relative URLs are resolved here; eggs, installers and files of other
    projects are dropped. Pages run to tens of thousands of files (numpy, torch), so the
    per-file work is kept to string splits, with each distinct name and version parsed
    once."""
    name = canonicalize_name(str(doc.get("name", "")))
    parse = _FilenameParser(name)
    releases: dict[str, list[tuple[Any, ...]]] = {}
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
        releases.setdefault(version, []).append(
            (
                filename[:300],
                file_url,
                str(entry.get("requires-python") or "")[:200],
                bool(entry.get("yanked")),
                bool(metadata),
            )
        )
    rows = []
    for version, files in releases.items():
        # Advertised metadata first, then a pure-Python wheel, any wheel, an sdist.
        best = min(
            files,
            key=lambda f: (not f[4], not f[0].endswith(".whl"), "-none-any" not in f[0], f[0]),
        )
        rows.append(
            [
                version,
                sorted({f[2] for f in files}),
                all(f[3] for f in files),
                best[0],
                urljoin(url, best[1]).split("#")[0],
                best[0].endswith(".whl"),
                best[4],
            ]
        )
    return rows


class _FilenameParser:
    """Versions from file names (wheel: name-version-...whl; sdist: name-version.tar.gz),
    normalised, for the files of one project only."""

    def __init__(self, project: str) -> None:
        self.project = project
        self._names: dict[str, bool] = {}
        self._versions: dict[str, str | None] = {}

    def version(self, filename: str) -> str | None:
        if filename.endswith(".whl"):
            parts = filename[:-4].split("-")
            if len(parts) not in (5, 6):
                return None
            name, raw = parts[0], parts[1]
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
                self._versions[raw] = str(Version(raw))
            except InvalidVersion:
                self._versions[raw] = None
        return self._versions[raw]


def extract_metadata(body: bytes, url: str = "") -> dict[str, Any]:
    headers, _, _ = body[:MAX_METADATA_BYTES].partition(b"\n\n")
    parsed, _ = parse_email(headers)
    return {
        "requires_dist": [str(r)[:500] for r in parsed.get("requires_dist", [])][:500],
        "requires_python": str(parsed.get("requires_python") or "")[:200],
    }


class IndexClient:
    def __init__(self, fetcher: Fetcher, index_url: str) -> None:
        self.fetcher = fetcher
        # Credentials stay with the fetcher, which sends them to the index's origin
        # with every request: pages, .metadata files and range reads alike.
        self.index_url = fetcher.use_index(index_url).rstrip("/")
        self.json_base = json_api_base(self.index_url)

    async def releases(self, name: str) -> tuple[list[IndexRelease] | None, str]:
        """Every release of a project that has an installable file, or None and why."""
        name = canonicalize_name(name)
        result = await self.fetcher.get_json(
            f"{self.index_url}/{name}/",
            RELEASES_KIND,
            extract_releases,
            accept=SIMPLE_JSON,
            offload=True,
        )
        if result.status == "not-found":
            return None, "the index has no project of this name"
        _refuse(result)
        if result.status != "ok":
            return None, _why(result)
        return [IndexRelease(row[0], tuple(row[1]), *row[2:]) for row in result.data], ""

    async def metadata(self, name: str, release: IndexRelease) -> ReleaseMetadata:
        """The dependencies of one release, from the cheapest source that has them."""
        errors: list[str] = []
        # PEP 658 metadata where advertised; mirrors often serve the `.metadata` files yet
        # drop the key from their pages, so a wheel's is tried even when not advertised.
        if release.metadata_advertised or release.metadata_is_wheel:
            result = await self.fetcher.get_json(
                f"{release.metadata_url}.metadata",
                METADATA_KIND,
                extract_metadata,
                ttl=IMMUTABLE_TTL,
                parse=lambda body: body,
                accept="*/*",
            )
            if result.status == "ok":
                return _release(result.data, f"PEP 658 metadata of {release.metadata_file}")
            # A guessed URL may answer 403 where nothing is served (object stores do).
            _refuse(result, forbidden_too=release.metadata_advertised)
            errors.append(f"{release.metadata_file}.metadata: {_why(result)}")
        if release.metadata_is_wheel:
            data, error = await self._wheel_metadata_by_range(release)
            if data is not None:
                source = f"METADATA inside {release.metadata_file} (range requests)"
                return _release(data, source)
            errors.append(error)
        result = await self.fetcher.get_json(
            f"{self.json_base}/{canonicalize_name(name)}/{release.version}/json",
            RELEASE_KIND,
            _extract_release_deps,
            ttl=IMMUTABLE_TTL,
        )
        if result.status == "ok":
            return _release(result.data, "the index's JSON API for this release")
        _refuse(result, forbidden_too=False)  # many mirrors serve no JSON API at all
        errors.append(_why(result))
        raise MetadataUnavailable(
            f"dependencies of {name} {release.version} could not be read without building "
            f"it ({'; '.join(e for e in errors if e)})"
        )

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


class MetadataUnavailable(Exception):
    pass


def _extract_release_deps(doc: dict[str, Any], url: str) -> dict[str, Any]:
    info = doc["info"]
    return {
        "requires_dist": [str(r)[:500] for r in info.get("requires_dist") or []][:500],
        "requires_python": str(info.get("requires_python") or "")[:200],
    }


def _release(data: dict[str, Any], source: str) -> ReleaseMetadata:
    return ReleaseMetadata(tuple(data["requires_dist"]), data["requires_python"], source)


def _why(result: FetchResult) -> str:
    return result.describe("not served by the index")


def _refuse(result: FetchResult, *, forbidden_too: bool = True) -> None:
    """A refusal (401, and 403 where the index says the file is there) is never a
    silent gap in the graph: the resolution ends, naming the index."""
    if result.status == "denied" and (forbidden_too or "HTTP 401" in result.error):
        raise AccessDenied(result.error)


async def read_wheel_metadata(fetcher: Fetcher, url: str) -> bytes:
    """The `*.dist-info/METADATA` member of a remote wheel, read with two or three HTTP
    range requests (the zip's end, its central directory, the one member) instead of
    downloading a wheel that may weigh hundreds of megabytes."""
    tail, size = await _range(fetcher, url, f"bytes=-{_TAIL_BYTES}")
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        raise ValueError("no zip end record in the last 128 KiB")
    _, _, _, _, entries, cd_size, cd_offset, _ = struct.unpack("<IHHHHIIH", tail[end : end + 22])
    tail_start = size - len(tail)
    if cd_offset == 0xFFFFFFFF:
        raise ValueError("zip64 wheels are not read by range")
    if cd_offset >= tail_start:
        directory = tail[cd_offset - tail_start : cd_offset - tail_start + cd_size]
    else:
        directory, _ = await _range(fetcher, url, f"bytes={cd_offset}-{cd_offset + cd_size - 1}")
    member = _find_metadata_member(directory, entries)
    if member is None:
        raise ValueError("no .dist-info/METADATA in the wheel")
    offset, compressed, method = member
    if compressed > MAX_METADATA_BYTES:
        raise ValueError("METADATA larger than the cap")
    # The local header (30 bytes + name + extra) precedes the data; read enough for both.
    chunk, _ = await _range(fetcher, url, f"bytes={offset}-{offset + 30 + 1024 + compressed}")
    name_length, extra_length = struct.unpack("<HH", chunk[26:30])
    start = 30 + name_length + extra_length
    data = chunk[start : start + compressed]
    if method == 8:
        return zlib.decompress(data, -15)[:MAX_METADATA_BYTES]
    if method == 0:
        return data
    raise ValueError(f"unsupported zip compression method {method}")


def _find_metadata_member(directory: bytes, entries: int) -> tuple[int, int, int] | None:
    position = 0
    for _ in range(entries):
        if directory[position : position + 4] != b"PK\x01\x02":
            return None
        method = struct.unpack("<H", directory[position + 10 : position + 12])[0]
        compressed = struct.unpack("<I", directory[position + 20 : position + 24])[0]
        name_length, extra_length, comment_length = struct.unpack(
            "<HHH", directory[position + 28 : position + 34]
        )
        local_offset = struct.unpack("<I", directory[position + 42 : position + 46])[0]
        name = directory[position + 46 : position + 46 + name_length].decode("utf-8", "replace")
        parts = name.split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
            return local_offset, compressed, method
        position += 46 + name_length + extra_length + comment_length
    return None


async def _range(fetcher: Fetcher, url: str, byte_range: str) -> tuple[bytes, int]:
    response = await fetcher.get_range(url, byte_range, MAX_METADATA_BYTES + _TAIL_BYTES)
    if response is None:
        raise ValueError("the server does not answer range requests")
    return response
