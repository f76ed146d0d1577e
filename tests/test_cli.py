"""End to end: the `trustmap` command against a real-layout environment and the local
fixture index."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from tests.conftest import LAB_DISTS, add_dist, site_packages


def run(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def scan_json(venv: Path, index, *extra: str) -> dict:
    code, out, err = run("scan", str(venv), "--index-url", index.simple_url, "-f", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_table_report_leads_with_the_summary(lab_venv, fixture_index):
    code, out, err = run("scan", str(lab_venv), "--index-url", fixture_index.simple_url)
    assert code == 0, err
    assert out.index("Packages: 11") < out.index("Findings")
    assert "Who can publish code here:" in out
    # DaPy: one account, not in the top-packages dataset; pulled in by nothing.
    assert "DaPy==1.16.1" in out
    assert 'publishers=["JacksonWoo"]' in out


def test_json_report_shape(lab_venv, fixture_index):
    doc = scan_json(lab_venv, fixture_index)
    assert set(doc) >= {"summary", "packages", "edges", "problems", "target", "tool"}
    packages = {p["name"]: p for p in doc["packages"]}
    assert len(packages) == 11
    assert doc["target"]["python_version"] == "3.11"
    dapy = packages["dapy"]
    assert dapy["top_level"] is True
    assert {f["rule"] for f in dapy["findings"]} == {"solo-maintainer", "low-usage"}
    assert dapy["facts"]["publishers"] == ["JacksonWoo"]
    certifi = packages["certifi"]
    assert certifi["facts"]["organization"] == "certifi"
    assert not [f for f in certifi["findings"] if f["rule"] == "solo-maintainer"]
    edges = {(e["from"], e["to"]) for e in doc["edges"]}
    assert ("requests", "urllib3") in edges and ("rich", "pygments") in edges
    # DaPy requires xlrd and xlwt, which are not installed: reported, not dropped.
    missing = [p for p in doc["problems"] if p["kind"] == "missing-requirement"]
    assert {p["package"] for p in missing} == {"dapy"}
    assert doc["summary"]["packages"] == 11
    assert doc["summary"]["publishing_accounts"] > 5
    idna = packages["idna"]
    path = next(f for f in idna["findings"] if f["rule"] == "solo-maintainer")["path"]
    assert path[0] in ("requests",) and path[-1] == "idna"


def test_second_scan_within_ttl_sends_no_request(lab_venv, fixture_index):
    scan_json(lab_venv, fixture_index)
    first = len(fixture_index.requests)
    assert first >= 11
    scan_json(lab_venv, fixture_index)
    assert len(fixture_index.requests) == first


def test_offline_answers_from_cache_and_says_what_it_lacks(lab_venv, fixture_index, tmp_path):
    code, out, err = run("scan", str(lab_venv), "--offline", "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    requests_pkg = next(p for p in doc["packages"] if p["name"] == "requests")
    assert "publishers" in requests_pkg["unknown_facts"]
    assert "offline" in requests_pkg["unknown_facts"]["publishers"]
    assert fixture_index.requests == []
    scan_json(lab_venv, fixture_index)
    sent = len(fixture_index.requests)
    code, out, err = run(
        "scan", str(lab_venv), "--offline", "-f", "json", "--index-url", fixture_index.simple_url
    )
    assert code == 0
    doc = json.loads(out)
    requests_pkg = next(p for p in doc["packages"] if p["name"] == "requests")
    assert requests_pkg["facts"]["publisher_count"] == 3
    assert len(fixture_index.requests) == sent


def test_unknown_package_is_said_to_be_unknown(lab_venv, fixture_index):
    add_dist(site_packages(lab_venv), "internal_tool", "0.3", ["requests>=2"])
    doc = scan_json(lab_venv, fixture_index)
    tool = next(p for p in doc["packages"] if p["name"] == "internal-tool")
    assert tool["facts"]["known_to_index"] is False
    assert {f["rule"] for f in tool["findings"]} == {"unknown-origin", "low-usage"}
    assert "publishers" in tool["unknown_facts"]
    # requests is now pulled in by internal-tool, so it is no longer top-level.
    assert not next(p for p in doc["packages"] if p["name"] == "requests")["top_level"]


def test_hostile_summary_prints_literally(lab_venv, fixture_index):
    add_dist(
        site_packages(lab_venv),
        "evil",
        "1.0",
        summary="\x1b[31mred\x1b[0m [bold]markup[/bold] \u202e",
    )
    code, out, err = run("scan", str(lab_venv), "--index-url", fixture_index.simple_url, "-v")
    assert code == 0, err
    assert "\x1b[31m" not in out and "\u202e" not in out
    assert "\\x1b[31mred\\x1b[0m [bold]markup[/bold] \\u202e" in out


@pytest.mark.parametrize(
    "target, message",
    [
        ("/no/such/folder", "no such file or folder"),
        (".", "not a Python environment"),
    ],
)
def test_bad_target_is_one_line_and_exit_2(target, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, err = run("scan", target)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_corrupt_metadata_is_reported_and_nothing_is_lost(lab_venv, fixture_index):
    folder = site_packages(lab_venv) / "broken-1.0.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_bytes(b"\xff\xfe\x00garbage without headers")
    code, out, err = run(
        "scan", str(lab_venv), "--index-url", fixture_index.simple_url, "-f", "json"
    )
    assert code == 2
    assert "broken-1.0.dist-info" in err and "METADATA" in err
    assert "Traceback" not in err
    doc = json.loads(out)
    assert len(doc["packages"]) == 12  # the broken one is kept, from its folder name


def test_unreachable_index_is_one_line_and_exit_2(lab_venv):
    code, _out, err = run("scan", str(lab_venv), "--index-url", "http://127.0.0.1:9/simple")
    assert code == 2
    assert "cannot reach the index at http://127.0.0.1:9/simple" in err
    assert len(err.strip().splitlines()) == 1


def test_credentials_in_the_index_url_never_reach_the_cache_or_output(
    lab_venv, fixture_index, tmp_path
):
    secret_url = fixture_index.simple_url.replace("http://", "http://user:s3cret-token@")
    code, out, err = run("scan", str(lab_venv), "--index-url", secret_url, "-f", "json")
    assert code == 0, err
    assert "s3cret-token" not in out + err
    cache = tmp_path / "cache" / "trustmap.db"
    assert b"s3cret-token" not in cache.read_bytes()
    wal = cache.with_name("trustmap.db-wal")
    assert not wal.exists() or b"s3cret-token" not in wal.read_bytes()


def test_version_and_help():
    code, out, _ = run("--version")
    assert code == 0 and "trustmap" in out
    for command in (
        ["--help"],
        ["scan", "--help"],
        ["rules", "--help"],
        ["rules", "list", "--help"],
    ):
        code, out, _ = run(*command)
        assert code == 0 and "Usage" in out


def test_python_dash_m_scanner_works():
    result = subprocess.run(
        [sys.executable, "-m", "scanner", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "trustmap" in result.stdout


def test_interrupted_scan_is_one_line_and_exit_2(lab_venv, fixture_index, tmp_path):
    """Ctrl-C while facts are being fetched: one line, exit 2, and what arrived is kept."""
    import os
    import signal
    import time

    fixture_index.delays["/pypi/requests/json"] = 30.0
    env = {
        **os.environ,
        "TRUSTMAP_CACHE_DIR": str(tmp_path / "cache"),
        "TRUSTMAP_TOP_PACKAGES_URL": "off",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scanner",
            "scan",
            str(lab_venv),
            "--index-url",
            fixture_index.simple_url,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(fixture_index.requests) < len(LAB_DISTS):
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=20)
    assert process.returncode == 2, err
    assert "interrupted" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_requirements_file_is_resolved_and_scanned(fixture_index, tmp_path):
    manifest = tmp_path / "requirements.txt"
    manifest.write_text("# lab tools\nrequests>=2.30\nrich\n-e ./local_tool\n")
    (tmp_path / "local_tool").mkdir()
    (tmp_path / "local_tool" / "pyproject.toml").write_text('[project]\nname = "local-tool"\n')
    code, out, err = run(
        "scan",
        str(manifest),
        "--index-url",
        fixture_index.simple_url,
        "--python-version",
        "3.11",
        "-f",
        "json",
    )
    assert code == 0, err
    doc = json.loads(out)
    packages = {p["name"]: p for p in doc["packages"]}
    assert packages["requests"]["version"] == "2.34.2"
    assert packages["requests"]["top_level"] and not packages["idna"]["top_level"]
    assert {f["rule"] for f in packages["local-tool"]["findings"]} >= {"not-from-index"}
    idna_finding = next(f for f in packages["idna"]["findings"] if f["rule"] == "solo-maintainer")
    assert idna_finding["path"] == ["requests", "idna"]
    assert doc["target"]["python_version"] == "3.11"


def test_lockfile_is_scanned_without_resolving(fixture_index):
    lock = Path(__file__).parent.parent / "fixtures" / "lockfiles" / "uv" / "uv.lock"
    code, out, err = run("scan", str(lock), "--index-url", fixture_index.simple_url, "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    # Read, not resolved: no release metadata was asked for.
    assert not [p for _, p, _ in fixture_index.requests if p.endswith(".metadata")]
    assert {"requests", "rich"} <= {p["name"] for p in doc["packages"]}


def test_input_sbom_is_annotated_and_still_valid(fixture_index, tmp_path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    sbom = Path(__file__).parent.parent / "fixtures" / "sbom" / "poetry-project.cdx.json"
    original = json.loads(sbom.read_text())
    out_file = tmp_path / "annotated.cdx.json"
    code, _, err = run(
        "scan",
        str(sbom),
        "--index-url",
        fixture_index.simple_url,
        "-f",
        "cyclonedx-json",
        "-o",
        str(out_file),
    )
    assert code == 0, err
    annotated = json.loads(out_file.read_text())
    assert annotated["metadata"]["component"] == original["metadata"]["component"]
    assert len(annotated["components"]) == len(original["components"])
    names = {p["name"] for c in annotated["components"] for p in c.get("properties", [])}
    assert "trustmap:fact:publishers" in names
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(out_file.read_text()) is None


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "cyclonedx-xml"])
def test_environment_sbom_validates(lab_venv, fixture_index, tmp_path, fmt):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from cyclonedx.validation.xml import XmlValidator

    out_file = tmp_path / "sbom"
    code, _, err = run(
        "scan",
        str(lab_venv),
        "--index-url",
        fixture_index.simple_url,
        "-f",
        fmt,
        "-o",
        str(out_file),
    )
    assert code == 0, err
    validator = JsonStrictValidator if fmt.endswith("json") else XmlValidator
    assert validator(SchemaVersion.V1_6).validate_str(out_file.read_text()) is None
    assert "pkg:pypi/dapy@1.16.1" in out_file.read_text()


def test_unknown_project_in_a_manifest_names_file_and_line(fixture_index, tmp_path):
    manifest = tmp_path / "requirements.txt"
    manifest.write_text("requests\n\nno-such-project-xyz>=1\n")
    code, _, err = run("scan", str(manifest), "--index-url", fixture_index.simple_url)
    assert code == 2
    assert f"{manifest}:3: no-such-project-xyz" in err
    assert len(err.strip().splitlines()) == 1
