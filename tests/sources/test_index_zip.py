"""The range-request zip reader of scanner.sources.index: the central directory parsed
from the archive's end, members read and decompressed under the cap, and archives that
are truncated, garbage or declare sizes past the cap refused with ValueError."""

from __future__ import annotations

import asyncio
import io
import os
import re
import zipfile

import pytest

from scanner.sources import index
from scanner.sources.index import _zip_directory, _zip_member, read_wheel_metadata

METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: idna\n"


class RangeFetcher:
    """Serves HTTP range requests (`bytes=a-b`, `bytes=-n`) over one file in memory."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.ranges: list[str] = []

    async def get_range(self, url: str, byte_range: str, limit: int) -> tuple[bytes, int]:
        self.ranges.append(byte_range)
        suffix = re.fullmatch(r"bytes=-(\d+)", byte_range)
        if suffix:
            return self.body[-int(suffix.group(1)) :], len(self.body)
        start, end = map(int, re.fullmatch(r"bytes=(\d+)-(\d+)", byte_range).groups())
        return self.body[start : end + 1][:limit], len(self.body)


def wheel(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def read(fetcher: RangeFetcher) -> bytes:
    return asyncio.run(read_wheel_metadata(fetcher, "https://files.example/demo.whl"))


def test_the_central_directory_lists_every_member_with_its_sizes_and_method():
    body = wheel({"demo/__init__.py": b"x = 1\n" * 50, "demo-1.0.dist-info/METADATA": METADATA})
    entries = asyncio.run(_zip_directory(RangeFetcher(body), "u", (body, len(body))))
    assert [e.name for e in entries] == ["demo/__init__.py", "demo-1.0.dist-info/METADATA"]
    assert entries[1].size == len(METADATA) and entries[1].method == zipfile.ZIP_DEFLATED
    assert entries[0].compressed < entries[0].size  # deflated
    assert not any(e.is_link for e in entries)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_the_metadata_member_is_read_from_the_end_already_fetched(method):
    fetcher = RangeFetcher(wheel({"demo-1.0.dist-info/METADATA": METADATA}, method))
    assert read(fetcher) == METADATA
    assert fetcher.ranges == [f"bytes=-{index._TAIL_BYTES}"]  # one request


def test_a_directory_before_the_end_read_is_fetched_by_its_own_range():
    # Incompressible bulk puts the directory's start before the 66 KiB tail.
    many = {f"demo/data{i}.bin": os.urandom(10) for i in range(3000)}
    body = wheel({**many, "demo-1.0.dist-info/METADATA": METADATA}, zipfile.ZIP_STORED)
    fetcher = RangeFetcher(body)
    assert read(fetcher) == METADATA
    assert len(fetcher.ranges) >= 2 and fetcher.ranges[1].startswith("bytes=")


def test_garbage_is_not_a_zip():
    with pytest.raises(ValueError, match="no zip end record"):
        read(RangeFetcher(os.urandom(4096)))


def test_a_truncated_archive_is_refused():
    body = wheel({"demo-1.0.dist-info/METADATA": METADATA * 100})
    end = body.rfind(b"PK\x05\x06")
    with pytest.raises(ValueError, match="no zip end record"):
        read(RangeFetcher(body[: end + 10]))  # cut inside the end record
    # The directory survives but the member's local header does not.
    with pytest.raises(ValueError, match="no local header"):
        read(RangeFetcher(b"\0" * 4 + body[4:]))
    # The member's data is cut short of the size the directory declares.
    (entry,) = asyncio.run(_zip_directory(RangeFetcher(body), "u", (body, len(body))))
    start = 30 + len(entry.name)
    short = body[: start + entry.compressed // 2]
    with pytest.raises(ValueError, match="local header too long"):
        asyncio.run(_zip_member(RangeFetcher(short), "u", entry, whole=short))


def test_a_wheel_without_metadata_says_so():
    with pytest.raises(ValueError, match=r"no \.dist-info/METADATA"):
        read(RangeFetcher(wheel({"demo/__init__.py": b""})))


def test_a_member_declaring_a_size_past_the_cap_is_never_fetched():
    body = wheel({"demo-1.0.dist-info/METADATA": METADATA})
    fetcher = RangeFetcher(body)
    (entry,) = asyncio.run(_zip_directory(fetcher, "u", (body, len(body))))
    huge = index._ZipEntry(entry.name, entry.offset, index.MAX_METADATA_BYTES + 1, 1, 8, False)
    with pytest.raises(ValueError, match="larger than the cap"):
        asyncio.run(_zip_member(fetcher, "u", huge))
    assert fetcher.ranges == []


def test_a_central_directory_declared_past_the_cap_is_refused():
    body = bytearray(wheel({"demo-1.0.dist-info/METADATA": METADATA}))
    end = body.rfind(b"PK\x05\x06")
    body[end + 12 : end + 16] = (index.MAX_METADATA_BYTES + 1).to_bytes(4, "little")
    with pytest.raises(ValueError, match="central directory larger than the cap"):
        read(RangeFetcher(bytes(body)))


def test_a_deflate_bomb_unpacks_no_further_than_the_cap(monkeypatch):
    monkeypatch.setattr(index, "MAX_METADATA_BYTES", 64 * 1024)
    fetcher = RangeFetcher(wheel({"demo-1.0.dist-info/METADATA": METADATA + bytes(2**20)}))
    assert len(read(fetcher)) == 64 * 1024
