"""Resolution of declared requirements against recorded real index pages (simple API
JSON with relative file URLs, PEP 658 metadata, and wheels read by range requests)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import zipfile

import pytest
from packaging.markers import Marker

from scanner import resolve as resolve_module
from scanner.inputs.specs import parse_spec_arguments
from scanner.inputs.target import target_environment
from scanner.model import InputError, Location, Requirement
from scanner.resolve import _usable_versions, marker_applies, resolve
from scanner.sources.http import Fetcher
from scanner.sources.index import (
    UNADVERTISED_METADATA_PROBES,
    IndexClient,
    IndexRelease,
    read_wheel_metadata,
)
from scanner.store import Store


def run_resolve(index, specs, tmp_path, **kwargs):
    store = Store(tmp_path / "cache.db")
    requirements = parse_spec_arguments(specs) if isinstance(specs[0], str) else specs
    try:
        return resolve(
            requirements,
            target_environment("3.11", "linux"),
            lambda: Fetcher(store),
            index.simple_url,
            **kwargs,
        )
    finally:
        store.close()


def pins(resolution) -> dict[str, str]:
    return {p.name: p.version for p in resolution.packages}


def test_the_closure_is_pinned_from_recorded_index_metadata(fixture_index, tmp_path):
    resolution = run_resolve(fixture_index, ["requests", "rich>=13"], tmp_path)
    assert pins(resolution) == {
        "requests": "2.34.2",
        "urllib3": "2.8.0",
        "idna": "3.20",
        "certifi": "2026.10.19.post1",
        "charset-normalizer": "3.5.2",
        "rich": "15.0.0",
        "markdown-it-py": "4.3.0",
        "mdurl": "0.1.2",
        "pygments": "2.21.0",
    }
    assert resolution.roots == ("requests", "rich")
    edges = {(e.parent, e.child): e for e in resolution.edges}
    assert edges[("requests", "urllib3")].specifier
    assert ("rich", "markdown-it-py") in edges and ("markdown-it-py", "mdurl") in edges
    requests = next(p for p in resolution.packages if p.name == "requests")
    assert requests.declared_at == (Location("<command line>", 1),)
    # certifi, charset-normalizer and markdown-it-py have no .metadata on this index:
    # their METADATA was read from the wheels by range requests, never downloaded whole.
    ranges = [h for _, path, h in fixture_index.requests if "Range" in h]
    assert {path.rpartition("/")[2] for _, path, h in fixture_index.requests if "Range" in h} >= {
        "certifi-2026.10.19.post1-py3-none-any.whl"
    }
    assert ranges
    assert not resolution.problems


def test_a_warm_resolution_sends_no_request(fixture_index, tmp_path):
    run_resolve(fixture_index, ["requests"], tmp_path)
    sent = len(fixture_index.requests)
    again = run_resolve(fixture_index, ["requests"], tmp_path)
    assert len(fixture_index.requests) == sent
    assert pins(again)["requests"] == "2.34.2"


def test_a_warm_resolution_after_the_404s_expire_still_sends_no_request(
    fixture_index, tmp_path, monkeypatch
):
    """A `.metadata` 404 is kept an hour, the METADATA read by range a year: the second
    answers first, so an old cache does not ask for the missing `.metadata` files again."""
    run_resolve(fixture_index, ["requests"], tmp_path)
    sent = len(fixture_index.requests)
    monkeypatch.setattr("scanner.sources.http.NOT_FOUND_TTL", 0.0)
    again = run_resolve(fixture_index, ["requests"], tmp_path)
    assert fixture_index.paths()[sent:] == []
    assert pins(again)["certifi"] == "2026.10.19.post1"


def test_extras_bring_their_dependencies_with_the_extra_on_the_edge(fixture_index, tmp_path):
    resolution = run_resolve(fixture_index, ["requests[socks]"], tmp_path)
    assert pins(resolution)["pysocks"] == "1.7.1"
    edge = next(e for e in resolution.edges if e.child == "pysocks")
    assert edge.parent == "requests" and edge.extra == "socks"


def _searches(monkeypatch) -> list[int]:
    """How many times resolvelib searched (the fast path for full pins does not)."""
    searched: list[int] = []
    search = resolve_module.Resolver.resolve

    def counted(self, *args, **kwargs):
        searched.append(1)
        return search(self, *args, **kwargs)

    monkeypatch.setattr(resolve_module.Resolver, "resolve", counted)
    return searched


@pytest.mark.parametrize(
    "specs",
    [["requests", "rich>=13"], ["requests[socks]"]],
    ids=["plain", "extra"],
)
def test_fully_pinned_requirements_are_checked_not_searched(
    fixture_index, tmp_path, monkeypatch, specs
):
    """pip-compile output pins the whole closure: the pins are the resolution (checked
    against every dependency's specifier), the same resolvelib would reach."""
    searched = _searches(monkeypatch)
    resolved = run_resolve(fixture_index, specs, tmp_path)
    assert len(searched) == 1
    frozen = [f"{name}{'[socks]' * ('[socks]' in specs[0] and name == 'requests')}=={version}"
              for name, version in pins(resolved).items()]  # fmt: skip

    pinned = run_resolve(fixture_index, frozen, tmp_path)

    assert len(searched) == 1  # no second search
    assert pinned.packages == tuple(
        dataclasses.replace(p, declared_at=q.declared_at)
        for p, q in zip(resolved.packages, pinned.packages, strict=True)
    )
    assert pinned.edges == resolved.edges
    assert pinned.problems == resolved.problems


@pytest.mark.parametrize(
    "frozen",
    [
        ["requests==2.34.2", "urllib3==2.8.0", "idna==3.20", "certifi==2026.10.19.post1"],
        ["requests==2.34.2", "urllib3==2.8.0", "idna==3.20", "certifi==2026.10.19.post1",
         "charset-normalizer>=3"],
    ],
    ids=["a dependency left out", "not every pin exact"],
)  # fmt: skip
def test_pins_that_do_not_hold_their_closure_are_searched(
    fixture_index, tmp_path, monkeypatch, frozen
):
    searched = _searches(monkeypatch)
    resolution = run_resolve(fixture_index, frozen, tmp_path)
    assert len(searched) == 1
    assert pins(resolution)["charset-normalizer"] == "3.5.2"


def test_constraints_narrow_the_choice(fixture_index, tmp_path):
    constraint = Requirement("idna", specifier="<3.20")
    resolution = run_resolve(fixture_index, ["requests"], tmp_path, constraints=[constraint])
    assert pins(resolution)["idna"] == "3.19"
    # Only the newest release's metadata was recorded; an older one's is not on the test
    # index, and the scan says so rather than pretending idna has no dependencies.
    assert [p.package for p in resolution.problems] == ["idna"]


def test_release_without_readable_metadata_is_reported(fixture_index, tmp_path):
    resolution = run_resolve(fixture_index, ["six==1.16.0"], tmp_path)
    assert pins(resolution) == {"six": "1.16.0"}
    problem = resolution.problems[0]
    assert problem.kind == "dependencies-unknown" and "six 1.16.0" in problem.message


def test_unknown_project_names_the_line(fixture_index, tmp_path):
    with pytest.raises(InputError) as error:
        run_resolve(fixture_index, ["requests", "no-such-project-xyz"], tmp_path)
    assert str(error.value).startswith("<command line>:2: no-such-project-xyz")


def test_impossible_version_is_explained(fixture_index, tmp_path):
    with pytest.raises(InputError) as error:
        run_resolve(fixture_index, ["requests==99"], tmp_path)
    assert "<command line>:1: requests==99" in str(error.value)
    assert "no version on the index satisfies it" in str(error.value)


def test_conflict_names_both_sides(fixture_index, tmp_path):
    with pytest.raises(InputError) as error:
        run_resolve(fixture_index, ["requests==2.34.2", "idna<2"], tmp_path)
    message = str(error.value)
    assert "idna<2 (direct requirement)" in message
    assert "required by requests 2.34.2" in message


def test_markers_are_evaluated_for_the_target_or_any_platform():
    windows_only = Marker('sys_platform == "win32"')
    assert not marker_applies(windows_only, target_environment("3.11", "linux"), "")
    assert marker_applies(windows_only, target_environment("3.11", "windows"), "")
    assert marker_applies(windows_only, target_environment("3.11", "linux", all_platforms=True), "")
    old_python = Marker('python_version < "3.9"')
    assert marker_applies(old_python, target_environment("3.8", "linux"), "")
    assert not marker_applies(
        old_python, target_environment("3.12", "linux", all_platforms=True), ""
    )


def test_requires_python_is_judged_on_the_targets_full_version(monkeypatch):
    """soupsieve 4.1.3 says `>=3.11.5`: it installs on Python 3.11.7 (the default target,
    when trustmap runs on 3.11.7, or --python-version 3.11.7), not on 3.11 (3.11.0)."""
    release = IndexRelease("4.1.3", (">=3.11.5",), False, "x.whl", "https://x/x.whl", True, True)

    def usable(target) -> list[str]:
        return [str(v) for v in _usable_versions([release], target.python_full_version)]

    assert usable(target_environment("3.11.7", "linux")) == ["4.1.3"]
    assert usable(target_environment("3.11", "linux")) == []
    monkeypatch.setattr("sys.version_info", (3, 11, 7, "final", 0))
    default = target_environment(None, "linux")
    assert default.python_full_version == "3.11.7" and default.python_version == "3.11"
    assert usable(default) == ["4.1.3"]


@pytest.mark.parametrize("version", ["3", "three", "3.11.2.1"])
def test_bad_python_version_is_an_input_error(version):
    with pytest.raises(InputError, match="--python-version"):
        target_environment(version, "linux")


def test_an_sdist_only_release_has_the_dependencies_its_sdist_states(fixture_index, tmp_path):
    """rouge-score 0.1.2 was only ever uploaded as an sdist (recorded from PyPI with its
    simple page); its egg-info requires.txt names absl-py, nltk, numpy and six."""
    for name, wheel in [
        ("absl-py", "absl_py-2.1.0-py3-none-any.whl"),
        ("nltk", "nltk-3.9.1-py3-none-any.whl"),
        ("numpy", "numpy-2.1.3-cp311-cp311-manylinux_2_17_x86_64.whl"),
    ]:
        # Leaves of the test: pages of one file whose metadata this index does not have.
        page = {"meta": {"api-version": "1.1"}, "name": name, "files": []}
        page["files"].append({"filename": wheel, "url": f"../../packages/{wheel}"})
        fixture_index.pages[name] = json.dumps(page).encode()
    resolution = run_resolve(fixture_index, ["rouge-score==0.1.2"], tmp_path)
    assert pins(resolution)["rouge-score"] == "0.1.2"
    edges = {e.child: e for e in resolution.edges if e.parent == "rouge-score"}
    assert sorted(edges) == ["absl-py", "nltk", "numpy", "six"]
    assert edges["six"].specifier == ">=1.14.0"
    assert pins(resolution)["six"] == "1.17.0"
    unknown = {p.package for p in resolution.problems if p.kind == "dependencies-unknown"}
    assert unknown == {"absl-py", "nltk", "numpy"}


def _metadata_of_releases(index, wanted: list[tuple[str, str]], tmp_path):
    """The dependencies of each (project, version), asked one after another of one
    IndexClient, as a resolution asks them."""
    store = Store(tmp_path / "cache.db")

    async def run():
        fetcher = Fetcher(store)
        client = IndexClient(fetcher, index.simple_url)
        try:
            found = []
            for name, version in wanted:
                releases, _ = await client.releases(name)
                release = next(r for r in releases if r.version == version)
                found.append(await client.metadata(name, release))
            return found
        finally:
            await fetcher.aclose()

    try:
        return asyncio.run(run())
    finally:
        store.close()


UNSERVED = [  # wheels whose `.metadata` the recorded mirror does not serve
    ("certifi", "2026.10.19.post1", "certifi-2026.10.19.post1-py3-none-any.whl"),
    ("charset-normalizer", "3.5.2", "charset_normalizer-3.5.2-py3-none-any.whl"),
    ("markdown-it-py", "4.3.0", "markdown_it_py-4.3.0-py3-none-any.whl"),
    ("pysocks", "1.7.1", "PySocks-1.7.1-py27-none-any.whl"),
]


def test_metadata_404s_learned_on_a_host_stop_the_404s_for_its_next_wheels(fixture_index, tmp_path):
    found = _metadata_of_releases(fixture_index, [(n, v) for n, v, _ in UNSERVED], tmp_path)
    asked = [p for p in fixture_index.paths() if p.endswith(".metadata")]
    assert len(asked) == UNADVERTISED_METADATA_PROBES == 3
    last = UNSERVED[-1][2]
    assert f"{last}.metadata" not in {p.rpartition("/")[2] for p in asked}
    # The fourth wheel went straight to its METADATA by range, with the same answer.
    assert any(p.endswith(last) for p in fixture_index.paths())
    assert found[-1].source == f"METADATA inside {last} (range requests)"
    assert "PySocks" not in "".join(found[-1].requires_dist)
    assert all(m.requires_dist is not None for m in found)


def test_no_more_metadata_probes_are_in_flight_than_the_verdict_needs(fixture_index, tmp_path):
    """The resolver's crawl asks for many wheels at once: before the host has shown that
    it serves unadvertised `.metadata` files, a few are probed at a time and the rest go
    straight to range requests, not all of them to the 404s."""
    store = Store(tmp_path / "cache.db")

    async def run():
        fetcher = Fetcher(store)
        client = IndexClient(fetcher, fixture_index.simple_url)
        try:
            releases = [await client.releases(name) for name, _, _ in UNSERVED]
            return await asyncio.gather(
                *(
                    client.metadata(name, next(r for r in found if r.version == version))
                    for (name, version, _), (found, _) in zip(UNSERVED, releases, strict=True)
                )
            )
        finally:
            await fetcher.aclose()

    try:
        found = asyncio.run(run())
    finally:
        store.close()
    asked = [p for p in fixture_index.paths() if p.endswith(".metadata")]
    assert len(asked) == UNADVERTISED_METADATA_PROBES < len(UNSERVED)
    assert [m.source for m in found] == [
        f"METADATA inside {filename} (range requests)" for _, _, filename in UNSERVED
    ]


def test_a_host_that_serves_unadvertised_metadata_keeps_being_asked(fixture_index, tmp_path):
    served = [
        ("idna", "3.20"),
        ("requests", "2.34.2"),
        ("urllib3", "2.8.0"),
        ("rich", "15.0.0"),
        ("pygments", "2.21.0"),
        ("mdurl", "0.1.2"),
    ]
    # Two misses, one short of the verdict, then successes: the host keeps being asked.
    wanted = [(n, v) for n, v, _ in UNSERVED[:2]] + served
    found = _metadata_of_releases(fixture_index, wanted, tmp_path)
    asked = [p for p in fixture_index.paths() if p.endswith(".metadata")]
    assert len(asked) == len(wanted)
    assert all(m.source.startswith("PEP 658 metadata") for m in found[2:])


def test_a_small_wheel_costs_one_range_request_its_metadata_lies_in_the_end(
    fixture_index, tmp_path
):
    run_resolve(fixture_index, ["requests"], tmp_path)
    ranged = [p.rpartition("/")[2] for _, p, h in fixture_index.requests if "Range" in h]
    assert sorted(ranged) == [
        "certifi-2026.10.19.post1-py3-none-any.whl",
        "charset_normalizer-3.5.2-py3-none-any.whl",
    ]


class _BytesFetcher:
    """get_range over a file in memory, counting the requests."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.ranges: list[str] = []

    async def get_range(self, url: str, byte_range: str, limit: int):
        self.ranges.append(byte_range)
        first, _, last = byte_range.removeprefix("bytes=").partition("-")
        if first == "":
            start, end = max(0, len(self.body) - int(last)), len(self.body)
        else:
            start, end = int(first), min(int(last) + 1, len(self.body))
        return self.body[start:end], len(self.body)


def _wheel(metadata: bytes, padding_after: int) -> bytes:
    """A wheel whose METADATA is followed by `padding_after` incompressible bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr("demo-1.0.dist-info/METADATA", metadata)
        wheel.writestr("demo/data.bin", os.urandom(padding_after))
    return buffer.getvalue()


@pytest.mark.parametrize(("padding", "requests"), [(1000, 1), (400_000, 2)])
def test_wheel_metadata_by_range_reads_the_end_once_and_further_only_when_needed(padding, requests):
    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: idna\n\n"
    fetcher = _BytesFetcher(_wheel(metadata, padding))
    assert asyncio.run(read_wheel_metadata(fetcher, "http://127.0.0.1/demo.whl")) == metadata
    assert len(fetcher.ranges) == requests


def test_the_requests_sent_note_counts_the_resolution_too(fixture_index, tmp_path):
    from scanner import scan as pipeline
    from scanner.options import ScanOptions

    options = ScanOptions(
        index_url=fixture_index.simple_url,
        cache_path=tmp_path / "cache.db",
        python_version="3.11",
        platform="linux",
    )
    resolution = pipeline.read_targets(("requests",), options)
    resolved = len(fixture_index.requests)
    assert resolved > 0 and resolution.requests_sent == resolved
    result = pipeline.scan(resolution, options)
    assert f"requests sent: {len(fixture_index.requests)}" in result.notes


def test_a_resolution_from_expired_cache_entries_says_so(fixture_index, tmp_path):
    """The index fails and the resolver falls back on expired cache entries: the versions
    it chose from may be out of date, so the resolution's notes say so (and the scan's)."""
    import httpx

    fresh = run_resolve(fixture_index, ["requests"], tmp_path)
    assert not fresh.notes
    store = Store(tmp_path / "cache.db")
    failing = httpx.MockTransport(lambda request: httpx.Response(503))
    try:
        stale = resolve(
            parse_spec_arguments(["requests"]),
            target_environment("3.11", "linux"),
            lambda: Fetcher(store, ttl=0, transport=failing),
            fixture_index.simple_url,
        )
    finally:
        store.close()
    assert pins(stale) == pins(fresh)
    (note,) = stale.notes
    assert note.startswith("stale: the resolution used ")
    assert "because the index failed (HTTP 503" in note
    assert note.endswith(": certifi, charset-normalizer, idna, requests, urllib3")


def test_an_offline_resolution_from_expired_entries_says_so(fixture_index, tmp_path):
    run_resolve(fixture_index, ["requests"], tmp_path)
    store = Store(tmp_path / "cache.db")
    try:
        offline = resolve(
            parse_spec_arguments(["requests"]),
            target_environment("3.11", "linux"),
            lambda: Fetcher(store, ttl=0, offline=True),
            fixture_index.simple_url,
        )
    finally:
        store.close()
    (note,) = offline.notes
    assert "because the scan was offline" in note and "index answers" in note


def test_the_scan_report_carries_the_resolution_stale_note(fixture_index, tmp_path):
    import httpx

    from scanner import scan as pipeline

    options = pipeline.ScanOptions(
        index_url=fixture_index.simple_url,
        cache_path=tmp_path / "cache.db",
        python_version="3.11",
        platform="linux",
    )
    pipeline.scan(pipeline.read_targets(("requests",), options), options)
    failing = dataclasses.replace(
        options, ttl=0, transport=httpx.MockTransport(lambda request: httpx.Response(503))
    )
    result = pipeline.scan(pipeline.read_targets(("requests",), failing), failing)
    stale = [note for note in result.notes if note.startswith("stale:")]
    assert any(note.startswith("stale: the resolution used ") for note in stale), stale
    assert any("answered from a cache entry older" in note for note in stale), stale


def test_a_simple_page_is_summarised_newest_release_first():
    """Recorded from PyPI: idna's page lists its files in upload order, oldest first. The
    summary the cache keeps is sorted once, newest first, as the resolver reads it."""
    import gzip
    from pathlib import Path

    from packaging.version import Version

    from scanner.sources.index import extract_releases

    page = Path(__file__).parent.parent / "fixtures" / "index" / "simple" / "idna.json.gz"
    doc = json.loads(gzip.decompress(page.read_bytes()))
    versions = [
        Version(row["version"]) for row in extract_releases(doc, "https://pypi.org/simple/idna/")
    ]
    assert len(versions) > 10
    assert versions == sorted(versions, reverse=True)
    assert str(versions[0]) == "3.20"


class _NoBackground:
    """The resolver's background loop, for find_matches alone: nothing is fetched."""

    def submit(self, coroutine):
        coroutine.close()

    def call(self, coroutine):
        raise AssertionError("the releases are known: nothing is asked")


class _NothingShared:
    """An index client with no other scan's answers to reuse (nothing else is asked)."""

    def kept_releases(self, name):
        return None

    def kept_metadata(self, release):
        return None


def _matches(versions: list[str], pin: str) -> list[str]:
    from packaging.specifiers import SpecifierSet

    target = target_environment("3.11", "linux")
    cache = resolve_module._IndexCache(_NothingShared(), target)
    releases = [
        IndexRelease(v, ("",), False, "f.whl", "https://x/f.whl", True, True) for v in versions
    ]
    cache.known_releases["torch"] = (releases, "")
    provider = resolve_module._Provider(_NoBackground(), cache, target, {}, False)
    wanted = resolve_module._Req("torch", frozenset(), SpecifierSet(pin))
    return [
        str(c.version) for c in provider.find_matches("torch", {"torch": [wanted]}, {"torch": []})
    ]


def test_an_exact_pin_is_looked_up_and_still_matches_local_versions():
    """`==2.1.0` matches 2.1.0+cu118 too (pip prefers it, as the newer): a project with
    local versions is searched, one without is looked up."""
    assert _matches(["2.0.0", "2.1.0", "2.2.0"], "==2.1.0") == ["2.1.0"]
    assert _matches(["2.0.0", "2.1", "2.2.0"], "==2.1.0") == ["2.1"]
    assert _matches(["2.1.0", "2.1.0+cu118", "2.2.0"], "==2.1.0") == ["2.1.0+cu118", "2.1.0"]
    assert _matches(["2.1.0", "2.2.0"], "==3.0") == []


def test_each_release_reads_the_metadata_of_its_best_file_whatever_the_page_holds():
    """Per release, the file whose metadata is read: advertised PEP 658 metadata first,
    then a pure-Python wheel, any wheel, an sdist. Entries outside the shape the page is
    decoded into (a null `yanked`, a number for requires-python, a string entry) send the
    page through the whole-document decoder, with the same summary."""
    from scanner.sources.http import decode_json
    from scanner.sources.index import decode_releases_page, extract_releases

    files = [
        {"filename": "demo-1.0.tar.gz", "url": "../../p/demo-1.0.tar.gz", "yanked": True},
        {"filename": "demo-1.0-cp311-cp311-linux_x86_64.whl", "url": "../../p/c.whl"},
        {"filename": "demo-1.0-py3-none-any.whl", "url": "https://files.example/p/a.whl#x=1"},
        {
            "filename": "demo-2.0-cp311-cp311-linux_x86_64.whl",
            "url": "/p/d.whl",
            "core-metadata": {"sha256": "00"},
            "requires-python": ">=3.9",
        },
        {
            "filename": "demo-2.0-py3-none-any.whl",
            "url": "https://files.example/p/b.whl?x=1",
            "requires-python": ">=3.8",
            "yanked": "broken",
        },
        {"filename": "demo-3.0.tar.gz", "url": "demo-3.0.tar.gz", "yanked": "bad"},
        {"filename": "other-3.0.tar.gz", "url": "other-3.0.tar.gz"},
    ]
    page = {"name": "Demo", "files": files}
    url = "https://index.example/simple/demo/"
    expected = [
        ("3.0", "demo-3.0.tar.gz", "https://index.example/simple/demo/demo-3.0.tar.gz",
         False, False, ("",), True),
        ("2.0", "demo-2.0-cp311-cp311-linux_x86_64.whl", "https://index.example/p/d.whl",
         True, True, (">=3.8", ">=3.9"), False),
        ("1.0", "demo-1.0-py3-none-any.whl", "https://files.example/p/a.whl",
         True, False, ("",), False),
    ]  # fmt: skip
    fields = ("version", "metadata_file", "metadata_url", "metadata_is_wheel",
              "metadata_advertised", "requires_python", "yanked")  # fmt: skip
    shaped = decode_releases_page
    for odd in ({}, {"yanked": None}, {"requires-python": 3}):
        body = json.dumps({**page, "files": [*files[:-1], {**files[-1], **odd}, "x"]}).encode()
        rows = extract_releases(shaped(body), url)
        assert rows == extract_releases(decode_json(body), url)
        assert [tuple(row[f] for f in fields) for row in rows] == [
            tuple(list(value) if isinstance(value, tuple) else value for value in row)
            for row in expected
        ]
