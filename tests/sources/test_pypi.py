"""Extraction of the project JSON: what facts need is kept, worked out once."""

from __future__ import annotations

from scanner.sources.pypi import extract_project, release_summary
from tests.conftest import recorded_project


def test_release_summary_is_extracted_once_from_a_real_document():
    project = extract_project(
        recorded_project("boto3"), "https://pypi.org/pypi/boto3/json", {"1.44.8"}
    )
    summary = project["release_summary"]
    assert summary["count"] > 2000 and summary["latest"].startswith("2026-11-20")
    assert summary["first"] < summary["latest"]
    # Only the version asked about is kept in detail; every version's name is listed.
    assert list(project["releases"]) == ["1.44.8"]
    assert len(project["release_versions"]) > 2000 and "1.44.8" in project["release_versions"]
    assert release_summary(project["releases"])["count"] == 1


def test_files_of_the_pinned_version_carry_their_type():
    project = extract_project(recorded_project("pycrypto"), "https://pypi.org/x", {"2.6.1"})
    assert [f[2] for f in project["files"]["2.6.1"]] == ["sdist"]
    assert {v["id"] for v in project["latest_vulnerabilities"]} >= {"PYSEC-2017-94"}


def test_an_empty_project_has_an_empty_summary():
    assert release_summary({}) == {"first": None, "latest": None, "count": 0}
