"""PEP 740 provenance: parsing real provenance objects, and unknown (never "none") where
the index does not serve the integrity API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from scanner.records import IndexRecord
from scanner.sources import http
from scanner.sources.http import Fetcher
from scanner.sources.provenance import (
    ProvenanceSource,
    extract_provenance,
    integrity_base,
    lookup_provenance,
    pinned_file,
    serves_provenance,
)
from scanner.sources.pypi import PyPISource, lookup_all, project_of
from scanner.store import Store
from tests.conftest import FIXTURES, recorded_project

PROVENANCE = FIXTURES / "provenance" / "pypi_attestations-0.0.19.tar.gz.provenance"


def test_publisher_identity_is_read_from_a_real_provenance_object():
    data = extract_provenance(json.loads(PROVENANCE.read_text()))
    assert data["attestations"] == 1
    assert data["publishers"] == [
        {
            "kind": "GitHub",
            "repository": "trailofbits/pypi-attestations",
            "workflow": "release.yml",
            "environment": "",
        }
    ]


def test_a_bare_attestation_is_not_a_provenance_object():
    bare = FIXTURES / "provenance" / "rfc8785-0.1.2-py3-none-any.whl.publish.attestation"
    with pytest.raises(KeyError, match="attestation_bundles"):
        extract_provenance(json.loads(bare.read_text()))
    # What a scan makes of it: a failure with a reason (the fact stays unknown), not a crash.
    ok, why = http._decode(bare.read_bytes(), "https://x.test/p", json.loads, extract_provenance)
    assert not ok and "unexpected response shape" in why and "attestation_bundles" in why


def test_capability_comes_from_the_simple_api_version():
    assert not serves_provenance({"api_version": "1.1", "provenance_key": False})
    assert serves_provenance({"api_version": "1.3", "provenance_key": False})
    assert serves_provenance({"api_version": "1.1", "provenance_key": True})
    assert integrity_base("https://pypi.org/simple") == "https://pypi.org/integrity"
    assert integrity_base("https://mirror.example/root/+simple/") == (
        "https://mirror.example/root/integrity"
    )


def test_the_installed_wheel_is_the_file_asked_about():
    project = project_of(recorded_project("six"), "https://pypi.org/pypi/six/json", {"1.16.0"})
    assert pinned_file(project, "1.16.0", ("py2-none-any",)) == "six-1.16.0-py2.py3-none-any.whl"
    pycrypto = project_of(recorded_project("pycrypto"), "https://x/", {"2.6.1"})
    assert pinned_file(pycrypto, "2.6.1") == "pycrypto-2.6.1.tar.gz"


def _index(api_version: str, provenance: dict[str, bytes]):
    """A PEP 740 index in memory: simple pages of `api_version` and provenance objects."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.startswith("/simple/"):
            body = {"meta": {"api-version": api_version}, "name": "x", "files": []}
            return httpx.Response(200, json=body)
        for filename, body in provenance.items():
            if request.url.path.endswith(f"/{filename}/provenance"):
                return httpx.Response(200, content=body)
        return httpx.Response(404)

    return httpx.MockTransport(handler), seen


def _lookup(tmp_path: Path, transport, name: str, version: str, filename: str):
    async def go():
        fetcher = Fetcher(Store(tmp_path / "db"), transport=transport)
        try:
            return await ProvenanceSource(fetcher, "https://pypi.example/simple").lookup(
                name, version, filename
            )
        finally:
            await fetcher.aclose()
            fetcher.store.close()

    return asyncio.run(go())


def test_an_attested_file_on_an_index_that_serves_pep_740(tmp_path):
    filename = "pypi_attestations-0.0.19.tar.gz"
    transport, seen = _index("1.4", {filename: PROVENANCE.read_bytes()})
    found = _lookup(tmp_path, transport, "pypi-attestations", "0.0.19", filename)
    assert found.status == "attested"
    assert found.publisher["repository"] == "trailofbits/pypi-attestations"
    assert "/integrity/pypi-attestations/0.0.19/pypi_attestations-0.0.19.tar.gz/provenance" in seen


def test_a_404_is_no_provenance_only_where_the_index_serves_pep_740(tmp_path):
    transport, _ = _index("1.4", {})
    assert _lookup(tmp_path / "a", transport, "six", "1.16.0", "six.whl").status == "none"
    transport, seen = _index("1.1", {})
    found = _lookup(tmp_path / "b", transport, "six", "1.16.0", "six.whl")
    assert found.status == "unknown" and "does not serve PEP 740" in found.reason
    assert not [p for p in seen if "/integrity/" in p]


def test_on_the_recorded_mirror_provenance_is_unknown_and_asked_once(fixture_index, tmp_path):
    """The recorded simple pages are api-version 1.1, as this workplace's mirror serves."""

    async def go():
        fetcher = Fetcher(Store(tmp_path / "db"))
        try:
            pypi = PyPISource(fetcher, fixture_index.simple_url)
            records = await lookup_all(pypi, [("six", "1.16.0"), ("idna", "3.10")])
            source = ProvenanceSource(fetcher, fixture_index.simple_url)
            return await lookup_provenance(
                source, records, [("six", "1.16.0", ()), ("idna", "3.10", ())]
            )
        finally:
            await fetcher.aclose()
            fetcher.store.close()

    found = asyncio.run(go())
    assert {p.status for p in found.values()} == {"unknown"}
    assert {p.served for p in found.values()} == {False}  # provenance-change stays quiet
    assert found["six"].filename == "six-1.16.0-py2.py3-none-any.whl"
    simple = [p for p in fixture_index.paths() if p.startswith("/simple/")]
    assert len(simple) == 1 and not [p for p in fixture_index.paths() if "integrity" in p]


def test_packages_the_index_does_not_know_get_no_provenance_lookup():
    records = {"x": IndexRecord("x", "not-found")}
    assert asyncio.run(lookup_provenance(None, records, [("x", "1", ())])) == {}  # type: ignore[arg-type]


# --- provenance-change: the pinned release against the one before ------------------------


def _two_releases(tmp_path: Path, provenance: dict[str, bytes]):
    """pypi-attestations 0.0.19 pinned, 0.0.18 before it (a real provenance object of
    0.0.19's sdist stands for whichever file a case attests)."""
    from scanner.facts.provenance import provenance_facts
    from scanner.records import Project, ReleaseFile

    files = {
        v: (ReleaseFile(f"pypi_attestations-{v}.tar.gz", "", "sdist", None),)
        for v in ("0.0.18", "0.0.19")
    }
    records = {
        "pypi-attestations": IndexRecord(
            "pypi-attestations", "found", Project("pypi-attestations", files=files)
        )
    }
    transport, _ = _index("1.4", provenance)

    async def go():
        fetcher = Fetcher(Store(tmp_path / "db"), transport=transport)
        try:
            source = ProvenanceSource(fetcher, "https://pypi.example/simple")
            return await lookup_provenance(source, records, [("pypi-attestations", "0.0.19", ())])
        finally:
            await fetcher.aclose()
            fetcher.store.close()

    found = asyncio.run(go())["pypi-attestations"]
    values: dict = {}
    unknown: dict = {}
    provenance_facts(found, values, unknown)
    return values, unknown


def _with_publisher(**changes: str) -> bytes:
    document = json.loads(PROVENANCE.read_text())
    document["attestation_bundles"][0]["publisher"].update(changes)
    return json.dumps(document).encode()


def test_a_release_without_attestation_after_an_attested_one_is_a_change(tmp_path):
    values, _ = _two_releases(
        tmp_path, {"pypi_attestations-0.0.18.tar.gz": PROVENANCE.read_bytes()}
    )
    assert values["has_provenance"] is False and values["provenance_served"] is True
    assert values["provenance_changed"] is True
    assert values["previous_provenance"] == (
        "0.0.18: GitHub trailofbits/pypi-attestations release.yml"
    )


def test_the_same_publisher_identity_is_no_change_and_another_workflow_is(tmp_path):
    same = {f"pypi_attestations-{v}.tar.gz": PROVENANCE.read_bytes() for v in ("0.0.18", "0.0.19")}
    values, _ = _two_releases(tmp_path / "same", same)
    assert values["provenance_changed"] is False and values["has_provenance"] is True
    other = dict(same)
    other["pypi_attestations-0.0.19.tar.gz"] = _with_publisher(workflow="sneaky.yml")
    values, _ = _two_releases(tmp_path / "other", other)
    assert values["provenance_changed"] is True
    assert values["provenance_workflow"] == "sneaky.yml"


def test_no_attestation_before_means_nothing_to_compare(tmp_path):
    values, _ = _two_releases(tmp_path, {})
    assert values["provenance_changed"] is False and values["previous_provenance"] == ""


def test_a_gitlab_publisher_names_its_workflow_file():
    document = json.loads(_with_publisher(kind="GitLab", workflow=""))
    document["attestation_bundles"][0]["publisher"]["workflow_filepath"] = ".gitlab-ci.yml"
    publisher = extract_provenance(document)["publishers"][0]
    assert publisher["kind"] == "GitLab" and publisher["workflow"] == ".gitlab-ci.yml"
