"""Extraction of the project JSON: what facts need is kept, worked out once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from scanner.records import Project, ReleaseSummary
from scanner.sources.http import Fetcher, decode_json
from scanner.sources.pypi import PyPISource, decode_project, extract_project, project_of, segment
from scanner.sources.pypi_document import File, ProjectDocument
from scanner.store import Store
from tests.conftest import RECORDED_PROJECTS, recorded_project


def test_release_summary_is_extracted_once_from_a_real_document():
    cached = extract_project(
        recorded_project("boto3"), "https://pypi.org/pypi/boto3/json", {"1.44.8"}
    )
    project = Project.from_dict(cached)
    summary = project.release_summary
    assert summary.count > 2000 and summary.latest.startswith("2026-11-20")
    assert summary.first < summary.latest
    # Only the version asked about is kept in detail; every version's name is listed.
    assert list(project.releases) == ["1.44.8"]
    assert len(project.release_versions) > 2000 and "1.44.8" in project.release_versions
    assert ReleaseSummary.of(project.releases).count == 1
    # The cache holds plain JSON, read back to the same record.
    assert Project.from_dict(json.loads(json.dumps(cached))) == project


def test_files_of_the_pinned_version_carry_their_type():
    project = project_of(recorded_project("pycrypto"), "https://pypi.org/x", {"2.6.1"})
    assert [f.packagetype for f in project.files_of("2.6.1")] == ["sdist"]
    assert {v["id"] for v in project.latest_vulnerabilities} >= {"PYSEC-2017-94"}


def test_an_empty_project_has_an_empty_summary():
    assert ReleaseSummary.of({}) == ReleaseSummary(None, None, 0)


def _lookup(index_url: str, store, name: str, version: str):
    async def run():
        fetcher = Fetcher(store)
        try:
            return await PyPISource(fetcher, index_url).lookup(name, version)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


@pytest.fixture
def store(tmp_path: Path):
    store = Store(tmp_path / "cache" / "trustmap.db")
    yield store
    store.close()


@pytest.mark.parametrize(
    "value, quoted",
    [("a/b#c?d", "a%2Fb%23c%3Fd"), ("..", "%2E%2E"), (".", "%2E"), ("1.0", "1.0"), ("é", "%C3%A9")],
)
def test_a_url_segment_built_from_data_cannot_leave_its_place(value, quoted):
    assert segment(value) == quoted


@pytest.mark.parametrize("name", ["requests/json#", "requests#", "../requests", "requests\n"])
def test_an_invalid_name_is_never_looked_up(fixture_index, store, name):
    record = _lookup(fixture_index.simple_url, store, name, "2.32.3")
    assert record.status == "unknown"
    assert "not a valid project name" in record.reason
    assert fixture_index.paths() == []


def test_a_hostile_version_stays_inside_its_path_segment(fixture_index, store):
    # An installed version ("../../requests/2.0") must not address another project's
    # per-version page; the index here serves none, so the quoted page answers 404.
    record = _lookup(fixture_index.simple_url, store, "six", "../../requests/2.0")
    assert record.status == "found"
    assert "/pypi/six/..%2F..%2Frequests%2F2.0/json" in fixture_index.paths()
    assert not any(path.startswith("/pypi/requests") for path in fixture_index.paths())


def test_the_release_before_the_pinned_one_keeps_its_files_for_provenance_change():
    project = Project.from_dict(
        extract_project(recorded_project("six"), "https://pypi.org/pypi/six/json", {"1.16.0"})
    )
    assert set(project.files) == {"1.16.0", "1.15.0"}
    assert list(project.releases) == ["1.16.0"]  # release details: the pinned one only


@pytest.mark.parametrize("name", RECORDED_PROJECTS)
def test_the_shaped_decoder_leaves_out_nothing_the_extraction_reads(name):
    """decode_project builds only the fields extract_project reads: what it extracts
    from each recorded document is what the whole document gives, for the latest
    version, older ones and none."""
    document = recorded_project(name)
    # One release yanked with a reason, as PyPI marks each of its files.
    for entry in next(iter((document.get("releases") or {"": []}).values())):
        entry.update(yanked=True, yanked_reason="broken wheel")
    body = json.dumps(document).encode()
    whole, shaped = decode_json(body), decode_project(body)
    assert isinstance(shaped, ProjectDocument)  # not decoded whole
    assert "url" not in File.__struct_fields__  # left out indeed
    releases = list(whole.get("releases") or {})
    for wanted in ({whole["info"]["version"]}, set(releases[:3]), set()):
        assert extract_project(shaped, "u", frozenset(wanted)) == extract_project(
            whole, "u", frozenset(wanted)
        )


ODD_DOCUMENTS = [
    # A file entry that is no object, digests that are no object, releases as a list,
    # info missing or null, a release that is no list: the whole document is decoded and
    # meets the same extraction as a shaped one (it refuses all but the last two).
    {"info": {"name": "x", "version": "1"}, "releases": {"1": [{"yanked": True}, 3]}},
    {"info": {"name": "x", "version": "1"}, "urls": [{"filename": "x", "digests": "abc"}]},
    {"info": {"name": "x", "version": "1"}, "releases": ["1"]},
    {"info": {"name": "x", "version": "1"}, "releases": {"1": "nope"}},
    {"info": None},
    {"releases": {}},
]


@pytest.mark.parametrize("document", ODD_DOCUMENTS)
def test_an_odd_document_meets_the_same_extraction_as_before(document):
    body = json.dumps(document).encode()

    def outcome(parse):
        try:
            return extract_project(parse(body), "u", frozenset({"1"}))
        except Exception as exc:  # the same failure is what is compared
            return repr(exc)

    assert outcome(decode_project) == outcome(decode_json)


def test_a_body_that_is_no_json_is_refused_as_json_by_the_shaped_decoder():
    with pytest.raises(ValueError):
        decode_project(b"<html>not json</html>")
