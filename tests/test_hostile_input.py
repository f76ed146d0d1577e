"""End to end: hostile names and versions in untrusted metadata, and user input that
used to crash the scan, each through the `trustmap` command against the local index."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import main
from tests.conftest import add_dist, build_venv, site_packages


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_name_that_is_a_url_path_borrows_no_trust(tmp_path: Path, fixture_index):
    # `requests/json#` as a URL path segment would fetch the real requests document
    # (`/pypi/requests/json#/json`: the rest is a fragment) and report its publishers.
    venv = build_venv(tmp_path / "venv", [])
    folder = add_dist(site_packages(venv), "evil", "1.0")
    metadata = folder / "METADATA"
    metadata.write_text(metadata.read_text().replace("Name: evil", "Name: requests/json#"))

    code, out, err = run("scan", str(venv), "--index-url", fixture_index.simple_url, "-f", "json")

    assert not any("requests" in path for path in fixture_index.paths())
    assert code == 2
    assert "evil-1.0.dist-info" in err and "'requests/json#'" in err
    assert len(err.strip().splitlines()) == 1
    doc = json.loads(out)
    (package,) = doc["packages"]
    assert package["publishers"]["known"] is False
    assert "not a valid project name" in package["unknown_facts"]["publishers"]
    assert not package["facts"].get("repository")
    assert [p["kind"] for p in doc["problems"]] == ["bad-metadata"]


def test_a_version_that_is_no_version_is_reported_and_the_scan_completes(
    tmp_path: Path, fixture_index
):
    venv = build_venv(tmp_path / "venv", [])
    add_dist(site_packages(venv), "six", "1.0")
    metadata = site_packages(venv) / "six-1.0.dist-info" / "METADATA"
    metadata.write_text(metadata.read_text().replace("Version: 1.0", "Version: ../../idna/3.10"))

    code, out, err = run("scan", str(venv), "--index-url", fixture_index.simple_url, "-f", "json")

    assert code == 0, err
    assert fixture_index.paths()[0] == "/pypi/six/json"
    assert not any(
        path.startswith(("/pypi/idna", "/simple/idna")) for path in fixture_index.paths()
    )
    doc = json.loads(out)
    (package,) = doc["packages"]
    assert package["version"] == "../../idna/3.10"
    assert package["publishers"]["known"] is True  # six's own, from its own document
    (problem,) = doc["problems"]
    assert "is not a valid version (PEP 440)" in problem["message"]
