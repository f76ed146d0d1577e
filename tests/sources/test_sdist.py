"""Dependencies of sdist-only releases, read from the sdist itself (PKG-INFO, else the
egg-info requires.txt) without building or extracting it: real sdists recorded from PyPI
on the local fixture index, and hostile archives built here, served by an httpx
MockTransport that answers range requests."""

from __future__ import annotations

import asyncio
import gzip
import io
import os
import tarfile
import zipfile

import httpx
import pytest

from scanner.sources import sdist
from scanner.sources.http import Fetcher
from scanner.sources.index import (
    SDIST_METADATA_KIND,
    IndexClient,
    IndexRelease,
    MetadataUnavailable,
    ReleaseMetadata,
)
from scanner.store import Store

MOCK_INDEX = "https://index.test/simple"


def release(version: str, filename: str, base: str) -> IndexRelease:
    return IndexRelease(
        version=version,
        requires_python=("",),
        yanked=False,
        metadata_file=filename,
        metadata_url=f"{base}/packages/ab/cd/{filename}",
        metadata_is_wheel=False,
        metadata_advertised=False,
    )


def read_metadata(
    store: Store, index_url: str, name: str, item: IndexRelease, transport=None
) -> ReleaseMetadata:
    async def run() -> ReleaseMetadata:
        fetcher = Fetcher(store, transport=transport)
        try:
            return await IndexClient(fetcher, index_url).metadata(name, item)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


class RangeServer:
    """Files served as a CDN does: range requests answered with 206, every request and
    the bytes it carried recorded. `ranges=False` ignores Range (200, the whole file)."""

    def __init__(self, files: dict[str, bytes], ranges: bool = True) -> None:
        self.files = files
        self.ranges = ranges
        self.requests: list[tuple[str, str]] = []
        self.bytes_sent = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        wanted = request.headers.get("Range", "")
        self.requests.append((request.url.path, wanted))
        body = self.files.get(request.url.path.rpartition("/")[2])
        if body is None:
            return httpx.Response(404)
        if not wanted or not self.ranges:
            self.bytes_sent += len(body)
            return httpx.Response(200, content=body)
        first, _, last = wanted.removeprefix("bytes=").partition("-")
        if first == "":
            start, end = max(0, len(body) - int(last)), len(body) - 1
        else:
            start, end = int(first), min(int(last or len(body) - 1), len(body) - 1)
        part = body[start : end + 1]
        self.bytes_sent += len(part)
        headers = {"Content-Range": f"bytes {start}-{end}/{len(body)}"}
        return httpx.Response(206, content=part, headers=headers)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def mock_metadata(tmp_path, files: dict[str, bytes], name: str, filename: str, **kwargs):
    server = RangeServer(files, **kwargs)
    store = Store(tmp_path / "cache.db")
    try:
        item = release("1.0", filename, "https://files.test")
        try:
            result = read_metadata(store, MOCK_INDEX, name, item, server.transport())
        except MetadataUnavailable as exc:
            result = exc
        return result, server, store.get(item.metadata_url, SDIST_METADATA_KIND)
    finally:
        store.close()


def tar_gz(members: list[tuple[tarfile.TarInfo, bytes | None]], level: int = 6) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=level, mtime=0) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for info, data in members:
                archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


PKG_INFO_2_1 = b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n\n"
REQUIRES_TXT = b"requests>=2\n\n[socks]\npysocks\n"


# --- real sdists recorded from PyPI ---


def test_rouge_score_dependencies_come_from_its_egg_info_requires_txt(fixture_index, tmp_path):
    store = Store(tmp_path / "cache.db")
    item = release("0.1.2", "rouge_score-0.1.2.tar.gz", fixture_index.url)
    metadata = read_metadata(store, fixture_index.simple_url, "rouge-score", item)
    assert metadata.requires_dist == ("absl-py", "nltk", "numpy", "six>=1.14.0")
    assert metadata.requires_python == ">=3.7"
    assert metadata.source == "rouge_score.egg-info/requires.txt inside rouge_score-0.1.2.tar.gz"
    # Read with one range request (the file is 17 kB), never a plain download.
    sdist_requests = [h for _, path, h in fixture_index.requests if path.endswith(".tar.gz")]
    assert [h["Range"] for h in sdist_requests] == ["bytes=0-262143"]
    # Only the dependencies are kept, never the archive; a second read sends nothing.
    cached = store.get(item.metadata_url, SDIST_METADATA_KIND)
    assert set(cached.data) == {"requires_dist", "requires_python", "source"}
    sent = len(fixture_index.requests)
    assert read_metadata(store, fixture_index.simple_url, "rouge-score", item) == metadata
    assert len(fixture_index.requests) == sent
    store.close()


def test_static_requires_dist_of_metadata_2_4_is_read_from_pkg_info(fixture_index, tmp_path):
    store = Store(tmp_path / "cache.db")
    item = release("0.5.0", "hatch_vcs-0.5.0.tar.gz", fixture_index.url)
    metadata = read_metadata(store, fixture_index.simple_url, "hatch-vcs", item)
    store.close()
    assert metadata.requires_dist == ("hatchling>=1.1.0", "setuptools-scm>=8.2.0")
    assert "PKG-INFO of hatch_vcs-0.5.0.tar.gz (Metadata-Version 2.4" in metadata.source


def test_static_metadata_without_requires_dist_means_no_dependencies(fixture_index, tmp_path):
    store = Store(tmp_path / "cache.db")
    item = release("0.8.0", "annotated_types-0.8.0.tar.gz", fixture_index.url)
    metadata = read_metadata(store, fixture_index.simple_url, "annotated-types", item)
    store.close()
    assert metadata.requires_dist == ()
    assert "Requires-Dist static" in metadata.source


def test_a_zip_sdist_is_read_through_its_central_directory(fixture_index, tmp_path):
    store = Store(tmp_path / "cache.db")
    item = release("0.2", "wincertstore-0.2.zip", fixture_index.url)
    metadata = read_metadata(store, fixture_index.simple_url, "wincertstore", item)
    store.close()
    # Metadata 1.1, an egg-info and no requires.txt: setuptools recorded no requirements.
    assert metadata.requires_dist == ()
    assert metadata.source == "the egg-info inside wincertstore-0.2.zip (no requires.txt: none)"
    ranges = [h.get("Range") for _, path, h in fixture_index.requests if path.endswith(".zip")]
    assert ranges and all(ranges)


# --- requires.txt ---


def test_requires_txt_sections_become_markers():
    text = (
        "absl-py\n"
        "six>=1.14.0\n\n"
        "[gpu]\n"
        "cupy\n\n"
        ':python_version < "3.8"\n'  # not a section: an unparsable line, kept
        '[:python_version < "3.8"]\n'
        "importlib-metadata\n\n"
        '[test:sys_platform == "win32"]\n'
        "pywin32; python_version >= '3'\n\n"
        '[bad"extra]\n'
        "evil\n"
    )
    lines = sdist.requires_txt_to_pep508(text)
    assert lines[:3] == ["absl-py", "six>=1.14.0", 'cupy; extra == "gpu"']
    assert lines[3] == ':python_version < "3.8"'
    assert lines[4] == 'importlib-metadata; (python_version < "3.8")'
    assert lines[5] == (
        'pywin32; (python_version >= "3") and (sys_platform == "win32") and extra == "test"'
    )
    assert lines[6] == 'evil ; [bad"extra]'  # never valid: the resolver reports it


# --- what the sdist does not say stays unknown ---


def test_dynamic_requires_dist_without_requires_txt_is_unknown(tmp_path):
    pkg_info = b"Metadata-Version: 2.2\nName: evil\nVersion: 1.0\nDynamic: Requires-Dist\n\n"
    archive = tar_gz([regular("evil-1.0/PKG-INFO", pkg_info)])
    result, _, cached = mock_metadata(
        tmp_path, {"evil-1.0.tar.gz": archive}, "evil", "evil-1.0.tar.gz"
    )
    assert isinstance(result, MetadataUnavailable)
    assert "evil-1.0.tar.gz marks Requires-Dist as Dynamic" in str(result)
    assert "unknown" in cached.data  # the archive never changes: nor does the answer


def test_an_index_json_without_requires_dist_is_not_no_dependencies(tmp_path):
    """PyPI's JSON leaves requires_dist null for an sdist upload without it: that is not
    'no dependencies'."""
    archive = tar_gz([regular("evil-1.0/PKG-INFO", PKG_INFO_2_1)])  # says nothing
    document = b'{"info": {"requires_dist": null, "requires_python": ""}}'

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/pypi/evil/1.0/json":
            return httpx.Response(200, content=document)
        return server(request)

    server = RangeServer({"evil-1.0.tar.gz": archive})
    store = Store(tmp_path / "cache.db")
    item = release("1.0", "evil-1.0.tar.gz", "https://files.test")
    with pytest.raises(MetadataUnavailable) as error:
        read_metadata(store, MOCK_INDEX, "evil", item, httpx.MockTransport(handler))
    store.close()
    assert "its PKG-INFO (Metadata-Version 2.1) states no static Requires-Dist" in str(error.value)
    assert "JSON API lists no Requires-Dist" in str(error.value)


# --- hostile archives ---


def test_a_gzip_bomb_stops_at_the_unpacked_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(sdist, "MAX_UNPACKED_BYTES", 8 * 1024 * 1024)
    bomb = regular("evil-1.0/zeros.bin", bytes(64 * 1024 * 1024))
    # Incompressible bytes after the bomb: reading on past the cap would fetch them.
    noise = regular("evil-1.0/noise.bin", os.urandom(3 * 1024 * 1024))
    late = regular("evil-1.0/PKG-INFO", PKG_INFO_2_1)
    archive = tar_gz([bomb, noise, late], level=1)
    result, server, _ = mock_metadata(
        tmp_path, {"evil-1.0.tar.gz": archive}, "evil", "evil-1.0.tar.gz"
    )
    assert isinstance(result, MetadataUnavailable)
    assert "no metadata within the first 8 MiB unpacked" in str(result)
    assert server.bytes_sent < len(archive) // 2


def test_the_compressed_cap_stops_a_huge_sdist(tmp_path, monkeypatch):
    monkeypatch.setattr(sdist, "MAX_COMPRESSED_BYTES", 1024 * 1024)
    noise = regular("evil-1.0/noise.bin", os.urandom(4 * 1024 * 1024))
    archive = tar_gz([noise, regular("evil-1.0/PKG-INFO", PKG_INFO_2_1)], level=1)
    result, server, _ = mock_metadata(
        tmp_path, {"evil-1.0.tar.gz": archive}, "evil", "evil-1.0.tar.gz"
    )
    assert "no metadata within the first 1 MiB" in str(result)
    assert server.bytes_sent < 2 * 1024 * 1024


def test_links_oversized_members_and_path_tricks_are_skipped(tmp_path):
    link = tarfile.TarInfo("evil-1.0/PKG-INFO")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    huge = b"Metadata-Version: 2.4\nName: evil\nRequires-Dist: stolen\n\n" + b"x" * (5 * 2**20)
    members = [
        (link, None),
        regular("../PKG-INFO", b"Metadata-Version: 2.4\nRequires-Dist: outside\n\n"),
        regular("/evil-1.0/PKG-INFO", b"Metadata-Version: 2.4\nRequires-Dist: absolute\n\n"),
        regular("evil-1.0/PKG-INFO", huge),
        regular("evil-1.0/other.egg-info/requires.txt", b"not-ours\n"),
        regular("evil-1.0/evil.egg-info/requires.txt", REQUIRES_TXT),
    ]
    result, _, _ = mock_metadata(
        tmp_path, {"evil-1.0.tar.gz": tar_gz(members)}, "evil", "evil-1.0.tar.gz"
    )
    assert result.requires_dist == ("requests>=2", 'pysocks; extra == "socks"')
    assert result.source == "evil.egg-info/requires.txt inside evil-1.0.tar.gz"


def test_an_absurd_pax_header_is_refused_before_it_is_read(tmp_path):
    info = tarfile.TarInfo("evil-1.0/PKG-INFO")
    info.pax_headers = {"comment": "x" * (5 * 2**20)}
    info.size = len(PKG_INFO_2_1)
    archive = tar_gz([(info, PKG_INFO_2_1)])
    result, _, _ = mock_metadata(tmp_path, {"evil-1.0.tar.gz": archive}, "evil", "evil-1.0.tar.gz")
    assert isinstance(result, MetadataUnavailable)
    assert "tar header" in str(result)


def test_a_damaged_archive_is_unknown_with_the_reason(tmp_path):
    archive = tar_gz([regular("evil-1.0/PKG-INFO", PKG_INFO_2_1)])[:40] + b"garbage" * 10
    result, _, _ = mock_metadata(tmp_path, {"evil-1.0.tar.gz": archive}, "evil", "evil-1.0.tar.gz")
    assert isinstance(result, MetadataUnavailable)
    assert "evil-1.0.tar.gz could not be read" in str(result)


def test_a_zip_bomb_member_is_skipped_by_its_declared_size(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        bomb = b"Metadata-Version: 2.4\nName: evil\nRequires-Dist: stolen\n" + bytes(6 * 2**20)
        archive.writestr("evil-1.0/PKG-INFO", bomb)
        archive.writestr("evil-1.0/evil.egg-info/PKG-INFO", PKG_INFO_2_1)
        archive.writestr("evil-1.0/evil.egg-info/requires.txt", REQUIRES_TXT)
    files = {"evil-1.0.zip": buffer.getvalue()}
    result, server, _ = mock_metadata(tmp_path, files, "evil", "evil-1.0.zip")
    assert result.requires_dist == ("requests>=2", 'pysocks; extra == "socks"')
    assert server.bytes_sent < 6 * 2**20 // 100  # the bomb was never fetched


def test_a_large_zip_sdist_is_read_by_ranges_not_downloaded(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("evil-1.0/data.bin", os.urandom(2 * 2**20))
        archive.writestr("evil-1.0/PKG-INFO", PKG_INFO_2_1)
        archive.writestr("evil-1.0/evil.egg-info/requires.txt", REQUIRES_TXT)
    files = {"evil-1.0.zip": buffer.getvalue()}
    result, server, _ = mock_metadata(tmp_path, files, "evil", "evil-1.0.zip")
    assert result.requires_dist == ("requests>=2", 'pysocks; extra == "socks"')
    assert result.source == "evil.egg-info/requires.txt inside evil-1.0.zip"
    assert all(wanted for _, wanted in server.requests)
    assert server.bytes_sent < 2**20  # the first chunk, the directory, two members


# --- servers ---


def test_a_server_without_range_requests_gets_one_capped_download(tmp_path):
    archive = tar_gz(
        [
            regular("evil-1.0/PKG-INFO", PKG_INFO_2_1),
            regular("evil-1.0/evil.egg-info/requires.txt", REQUIRES_TXT),
        ]
    )
    files = {"evil-1.0.tar.gz": archive}
    result, server, cached = mock_metadata(tmp_path, files, "evil", "evil-1.0.tar.gz", ranges=False)
    assert result.requires_dist == ("requests>=2", 'pysocks; extra == "socks"')
    assert [path.rpartition("/")[2] for path, _ in server.requests] == ["evil-1.0.tar.gz"] * 2
    assert set(cached.data) == {"requires_dist", "requires_python", "source"}


def test_a_network_failure_is_not_cached(tmp_path):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    store = Store(tmp_path / "cache.db")
    item = release("1.0", "evil-1.0.tar.gz", "https://files.test")
    with pytest.raises(MetadataUnavailable) as error:
        read_metadata(store, MOCK_INDEX, "evil", item, httpx.MockTransport(refuse))
    assert "could not read evil-1.0.tar.gz: ConnectError" in str(error.value)
    assert store.get(item.metadata_url, SDIST_METADATA_KIND) is None
    store.close()


def test_a_failure_halfway_through_the_archive_is_reported_and_not_cached(tmp_path):
    noise = regular("evil-1.0/noise.bin", os.urandom(2**20))
    archive = tar_gz([noise, regular("evil-1.0/PKG-INFO", PKG_INFO_2_1)], level=1)
    server = RangeServer({"evil-1.0.tar.gz": archive})

    def second_range_fails(request: httpx.Request) -> httpx.Response:
        if not request.headers.get("Range", "").startswith("bytes=0-"):
            raise httpx.ReadError("connection reset", request=request)
        return server(request)

    store = Store(tmp_path / "cache.db")
    item = release("1.0", "evil-1.0.tar.gz", "https://files.test")
    with pytest.raises(MetadataUnavailable) as error:
        read_metadata(store, MOCK_INDEX, "evil", item, httpx.MockTransport(second_range_fails))
    assert "could not read evil-1.0.tar.gz: ReadError: connection reset" in str(error.value)
    assert store.get(item.metadata_url, SDIST_METADATA_KIND) is None
    store.close()


def test_a_missing_sdist_is_reported_each_time(tmp_path):
    store = Store(tmp_path / "cache.db")
    item = release("1.0", "evil-1.0.tar.gz", "https://files.test")
    transport = RangeServer({}).transport()  # every file 404
    for _ in range(2):  # the second time reads what the first left in the cache
        with pytest.raises(MetadataUnavailable, match=r"could not read evil-1\.0\.tar\.gz"):
            read_metadata(store, MOCK_INDEX, "evil", item, transport)
    store.close()
