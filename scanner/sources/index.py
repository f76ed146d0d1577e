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
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from scanner.sources.http import Fetcher, FetchResult
from scanner.sources.pypi import SIMPLE_JSON, json_api_base

FILES_KIND = "simple-files-v1"
METADATA_KIND = "core-metadata-v1"
RANGE_METADATA_KIND = "wheel-metadata-v1"
RELEASE_KIND = "pypi-release-deps-v1"
# A release's files never change (PyPI forbids re-uploads): their metadata can be kept.
IMMUTABLE_TTL = 365 * 24 * 3600.0
MAX_METADATA_BYTES = 4 * 1024 * 1024
_TAIL_BYTES = 128 * 1024


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    version: str
    is_wheel: bool
    tags: frozenset[str]  # wheel tags "py3-none-any"; empty for sdists
    sha256: str
    requires_python: str
    yanked: bool
    has_metadata: bool  # PEP 658 / 714: `<url>.metadata` is served


@dataclass(frozen=True)
class ReleaseMetadata:
    requires_dist: tuple[str, ...]
    requires_python: str
    source: str  # where the dependencies were read, for the report


def extract_files(doc: dict[str, Any], url: str) -> list[list[Any]]:
    """The simple page's files, compacted: [filename, absolute url, sha256,
    requires-python, yanked, has-metadata]. Relative URLs are resolved here."""
    files = []
    for entry in doc.get("files") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            continue
        file_url = entry.get("url")
        if not isinstance(file_url, str):
            continue
        hashes = entry.get("hashes") or {}
        metadata = entry.get("core-metadata", entry.get("data-dist-info-metadata", False))
        files.append(
            [
                entry["filename"][:300],
                urljoin(url, file_url),
                str(hashes.get("sha256", ""))[:64] if isinstance(hashes, dict) else "",
                str(entry.get("requires-python") or "")[:200],
                bool(entry.get("yanked")),
                bool(metadata),
            ]
        )
    return files


def _index_file(row: list[Any], name: str) -> IndexFile | None:
    filename = row[0]
    try:
        if filename.endswith(".whl"):
            wheel_name, version, _, tags = parse_wheel_filename(filename)
            if canonicalize_name(wheel_name) != name:
                return None
            return IndexFile(
                filename, row[1], str(version), True, frozenset(str(t) for t in tags),
                row[2], row[3], row[4], row[5],
            )  # fmt: skip
        if filename.endswith((".tar.gz", ".zip")):
            sdist_name, version = parse_sdist_filename(filename)
            if canonicalize_name(sdist_name) != name:
                return None
            return IndexFile(
                filename, row[1], str(version), False, frozenset(), row[2], row[3], row[4], row[5]
            )
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None  # eggs, installers and other formats are not installable by pip


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
        self.index_url = index_url.rstrip("/")
        self.json_base = json_api_base(self.index_url)

    async def files(self, name: str) -> tuple[list[IndexFile] | None, str]:
        """Every installable file of a project, or None and why."""
        name = canonicalize_name(name)
        result = await self.fetcher.get_json(
            f"{self.index_url}/{name}/", FILES_KIND, extract_files, accept=SIMPLE_JSON
        )
        if result.status == "not-found":
            return None, "the index has no project of this name"
        if result.status != "ok":
            return None, _why(result)
        files = [f for row in result.data if (f := _index_file(row, name)) is not None]
        return files, ""

    async def metadata(self, name: str, version: str, files: list[IndexFile]) -> ReleaseMetadata:
        """The dependencies of one release, from the cheapest source that has them."""
        errors: list[str] = []
        wheels = [f for f in files if f.is_wheel]
        # PEP 658 metadata, where advertised; mirrors often serve the `.metadata` files yet
        # drop the key from their pages, so a wheel's is tried even when not advertised.
        advertised = [f for f in files if f.has_metadata]
        candidate = (advertised or wheels or [None])[0]
        if candidate is not None:
            result = await self.fetcher.get_json(
                f"{candidate.url.split('#')[0]}.metadata",
                METADATA_KIND,
                extract_metadata,
                ttl=IMMUTABLE_TTL,
                parse=lambda body: body,
                accept="*/*",
            )
            if result.status == "ok":
                return _release(result.data, f"PEP 658 metadata of {candidate.filename}")
            errors.append(f"{candidate.filename}.metadata: {_why(result)}")
        if wheels:
            wheel = wheels[0]
            data, error = await self._wheel_metadata_by_range(wheel)
            if data is not None:
                return _release(data, f"METADATA inside {wheel.filename} (range requests)")
            errors.append(error)
        result = await self.fetcher.get_json(
            f"{self.json_base}/{canonicalize_name(name)}/{version}/json",
            RELEASE_KIND,
            _extract_release_deps,
            ttl=IMMUTABLE_TTL,
        )
        if result.status == "ok":
            return _release(result.data, "the index's JSON API for this release")
        errors.append(_why(result))
        raise MetadataUnavailable(
            f"dependencies of {name} {version} could not be read without building it "
            f"({'; '.join(e for e in errors if e) or 'no wheel and no metadata on the index'})"
        )

    async def _wheel_metadata_by_range(self, wheel: IndexFile) -> tuple[dict | None, str]:
        if self.fetcher.offline:
            cached = self.fetcher.store.get(wheel.url, RANGE_METADATA_KIND)
            return (cached.data, "") if cached else (None, "offline")
        cached = self.fetcher.store.get(wheel.url, RANGE_METADATA_KIND)
        if cached is not None:
            return cached.data, ""
        try:
            body = await read_wheel_metadata(self.fetcher, wheel.url)
        except (ValueError, OSError, zlib.error, struct.error) as exc:
            return None, f"could not read METADATA from {wheel.filename}: {exc}"
        data = extract_metadata(body)
        self.fetcher.store.put(wheel.url, RANGE_METADATA_KIND, data, None, None)
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
    if result.status == "offline-miss":
        return "offline, and not in the cache"
    if result.status == "not-found":
        return "not served by the index"
    return result.error


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
