"""End to end: hostile names and versions in untrusted metadata, and user input that
used to crash the scan, each through the `trustmap` command against the local index."""

from __future__ import annotations

import json
import socket
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from tests.conftest import _handler, add_dist, build_venv, site_packages


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


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://host:99999/simple", "port out of range"),
        ("https://user:s3cret@host:99999/simple", "port out of range"),
        ("https://[::1/simple", "invalid IPv6 URL"),
        ("https://user:s3cret@[::1/simple", "invalid IPv6 URL"),
        ("https://[::1]x/simple", "IPv6 address in brackets"),
        ("https://host:port/simple", "port could not be cast"),
        ("ftp://host/simple", "must start with http:// or https://"),
        ("pypi.org/simple", "must start with http:// or https://"),
        ("https:///simple", "has no host name"),
    ],
)
@pytest.mark.parametrize("given_as", ["option", "config", "requirements", "environment"])
def test_a_bad_index_url_is_one_line_naming_where_it_was_given(
    tmp_path: Path, monkeypatch, url, message, given_as
):
    monkeypatch.chdir(tmp_path)
    args = ["scan", "six==1.16.0"]
    expected_origin = {
        "option": "--index-url",
        "config": "trustmap.toml: index-url:",
        "requirements": "requirements.txt:1: --index-url",
        "environment": "PIP_INDEX_URL",
    }[given_as]
    if given_as == "option":
        args += ["--index-url", url]
    elif given_as == "config":
        (tmp_path / "trustmap.toml").write_text(f"index-url = {json.dumps(url)}\n")
    elif given_as == "requirements":
        (tmp_path / "requirements.txt").write_text(f"--index-url {url}\nsix==1.16.0\n")
        args = ["scan", "requirements.txt"]
    else:
        monkeypatch.setenv("PIP_INDEX_URL", url)

    code, out, err = run(*args)

    assert code == 2
    assert err.startswith("trustmap: error: ") and expected_origin in err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "s3cret" not in err + out


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def test_an_ipv6_index_url_works_and_keeps_its_brackets(tmp_path: Path, fixture_index):
    try:
        server = _IPv6Server(("::1", 0), _handler(fixture_index))
    except OSError as error:
        pytest.skip(f"no IPv6 loopback here: {error}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        venv = build_venv(tmp_path / "venv", ["six-1.16.0.dist-info"])
        port = server.server_address[1]
        url = f"http://user:s3cret@[::1]:{port}/simple"
        code, out, err = run("scan", str(venv), "--index-url", url, "-f", "json")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0, err
    doc = json.loads(out)
    assert f"index: http://[::1]:{port}/simple" in doc["notes"]
    assert doc["packages"][0]["publishers"]["known"] is True
    assert "s3cret" not in out + err


@pytest.mark.parametrize(
    "file_name, text",
    [
        ("requirements.txt", ""),
        ("requirements.txt", "# nothing pinned yet\n\n--index-url https://pypi.org/simple\n"),
        ("pyproject.toml", '[project]\nname = "empty"\nversion = "1"\n'),
        ("pyproject.toml", '[project]\nname = "empty"\nversion = "1"\ndependencies = []\n'),
    ],
)
def test_a_manifest_that_declares_nothing_scans_to_an_empty_report(
    tmp_path: Path, fixture_index, file_name, text
):
    manifest = tmp_path / file_name
    manifest.write_text(text)
    code, out, err = run(
        "scan", str(manifest), "--index-url", fixture_index.simple_url, "-f", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["packages"] == [] and doc["summary"]["packages"] == 0
    assert "the inputs declare no requirements: nothing to scan" in doc["target"]["notes"]
    assert fixture_index.paths() == []
    code, out, err = run("scan", str(manifest), "--index-url", fixture_index.simple_url)
    assert code == 0, err
    assert "Packages: 0" in out


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "cyclonedx-xml"])
def test_sboms_of_an_empty_scan_and_of_an_invalid_name_validate(tmp_path: Path, fixture_index, fmt):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from cyclonedx.validation.xml import XmlValidator

    validator = JsonStrictValidator if fmt.endswith("json") else XmlValidator
    empty = tmp_path / "requirements.txt"
    empty.write_text("")
    venv = build_venv(tmp_path / "venv", [])
    folder = add_dist(site_packages(venv), "evil", "1.0")
    metadata = folder / "METADATA"
    metadata.write_text(metadata.read_text().replace("Name: evil", "Name: requests/json#"))
    for target, expected_code in ((empty, 0), (venv, 2)):
        out_file = tmp_path / f"sbom-{expected_code}"
        args = ["scan", str(target), "--index-url", fixture_index.simple_url, "-f", fmt]
        code, _, err = run(*args, "-o", str(out_file))
        assert code == expected_code, err
        assert validator(SchemaVersion.V1_6).validate_str(out_file.read_text()) is None
        # No purl that a consumer would read as the project `requests`' (namespace or name).
        assert "pkg:pypi/requests" not in out_file.read_text()
