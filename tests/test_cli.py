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
from tests.conftest import (
    FIXTURES,
    LAB_DISTS,
    add_dist,
    build_venv,
    default_sigint,
    site_packages,
)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(main, list(args), catch_exceptions=False, env=env)
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
    assert "dapy==1.16.1" in out
    assert 'publishers=["JacksonWoo"]' in out


def test_json_report_shape(lab_venv, fixture_index):
    doc = scan_json(lab_venv, fixture_index)
    assert set(doc) >= {"summary", "packages", "edges", "problems", "target", "tool"}
    packages = {p["name"]: p for p in doc["packages"]}
    assert len(packages) == 11
    assert doc["target"]["python_version"] == "3.11"
    dapy = packages["dapy"]
    assert dapy["top_level"] is True
    # One account, not among the popular packages (the exact rules are test_rules' concern).
    assert {f["rule"] for f in dapy["findings"]} & {"solo-maintainer", "solo-and-little-used"}
    assert dapy["publishers"] == {
        "known": True,
        "accounts": ["JacksonWoo"],
        "organization": "",
        "unknown_reason": None,
    }
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
    # Wide enough that the facts table does not wrap the summary.
    code, out, err = run(
        "scan", str(lab_venv), "--index-url", fixture_index.simple_url, "-v", env={"COLUMNS": "200"}
    )
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
        ["explain", "--help"],
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
        preexec_fn=default_sigint,
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
    # An editable local folder is first-party: said so, not flagged as an unknown origin.
    assert {f["rule"] for f in packages["local-tool"]["findings"]} == {"first-party"}
    idna_finding = next(f for f in packages["idna"]["findings"] if f["rule"] == "solo-maintainer")
    assert idna_finding["path"] == ["requests", "idna"]
    # Where each package comes from: the manifest line, or the direct requirement.
    assert packages["requests"]["declared_at"] == [f"{manifest}:2"]
    assert packages["idna"]["declared_at"] == [] and packages["idna"]["path"] == [
        "requests",
        "idna",
    ]
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


@pytest.mark.parametrize("sbom_name", ["poetry-project.cdx.json", "pip-compile.cdx-1.4.json"])
def test_input_sbom_as_xml_keeps_what_json_keeps(fixture_index, tmp_path, sbom_name):
    """-f cyclonedx-xml of an input SBOM: the same annotated document as -f cyclonedx-json
    (the input's metadata component and components kept, trustmap's properties added),
    not a new document about "the scan target"."""
    from xml.etree import ElementTree

    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.xml import XmlValidator

    sbom = Path(__file__).parent.parent / "fixtures" / "sbom" / sbom_name
    outputs = {}
    for fmt in ("cyclonedx-json", "cyclonedx-xml"):
        out_file = tmp_path / f"annotated.{fmt}"
        args = ("scan", str(sbom), "--index-url", fixture_index.simple_url, "-f", fmt)
        code, _, err = run(*args, "-o", str(out_file))
        assert code == 0 and err == "", err  # no library warnings either
        outputs[fmt] = out_file.read_text()
    assert XmlValidator(SchemaVersion.V1_6).validate_str(outputs["cyclonedx-xml"]) is None

    annotated = json.loads(outputs["cyclonedx-json"])
    ns = {"c": "http://cyclonedx.org/schema/bom/1.6"}
    root = ElementTree.fromstring(outputs["cyclonedx-xml"])  # noqa: S314 (our own output)
    xml_meta = root.find("c:metadata/c:component", ns)
    json_meta = annotated["metadata"].get("component")
    if json_meta is None:
        assert xml_meta is None
    else:
        assert xml_meta is not None and xml_meta.findtext("c:name", None, ns) == json_meta["name"]
        assert xml_meta.get("bom-ref") == json_meta.get("bom-ref")

    def names_and_properties(components) -> dict[str, set[str]]:
        return {c["name"]: {p["name"] for p in c.get("properties", [])} for c in components}

    xml_components = {
        c.findtext("c:name", None, ns): {
            p.get("name") for p in c.iterfind("c:properties/c:property", ns)
        }
        for c in root.iterfind("c:components/c:component", ns)
    }
    assert xml_components == names_and_properties(annotated["components"])
    assert any("trustmap:fact:publishers" in props for props in xml_components.values())
    meta_props = {p.get("name") for p in root.iterfind("c:metadata/c:properties/c:property", ns)}
    assert meta_props == {p["name"] for p in annotated["metadata"]["properties"]}


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


# --- where to look first, who can ship code here -----------------------------------------


def test_table_leads_with_where_to_look_first_and_who_can_publish(lab_venv, fixture_index):
    add_dist(site_packages(lab_venv), "internal_tool", "0.3", ["requests>=2"])
    code, out, err = run("scan", str(lab_venv), "--index-url", fixture_index.simple_url)
    assert code == 0, err
    assert out.index("Where to look first") < out.index("Who can publish code here:")
    assert out.index("Who can publish code here:") < out.index("\nFindings\n")
    look_first = out[out.index("Where to look first") : out.index("Who can publish")]
    assert look_first.count("pulled in by:") <= 5
    assert "internal-tool==0.3" in look_first
    assert "publishers: unknown (the index has no record of this package)" in look_first
    assert "ownership unknown for 1 package: internal-tool" in out


def test_default_output_fits_80_columns(lab_venv, fixture_index):
    code, out, err = run(
        "scan", str(lab_venv), "--index-url", fixture_index.simple_url, env={"COLUMNS": "80"}
    )
    assert code == 0, err
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80


def test_json_risk_and_publishers(lab_venv, fixture_index):
    add_dist(site_packages(lab_venv), "internal_tool", "0.3", ["requests>=2"])
    doc = scan_json(lab_venv, fixture_index)
    summary = doc["summary"]
    look_first = summary["look_first"]
    assert 1 <= len(look_first) <= 5
    assert [item["score"] for item in look_first] == sorted(
        (item["score"] for item in look_first), reverse=True
    )
    first = look_first[0]
    assert set(first) >= {
        "name",
        "label",
        "score",
        "findings_score",
        "reach_factor",
        "dependents",
        "top_level_reached",
        "findings",
        "undetermined",
        "top_level",
        "path",
        "publishers",
    }
    packages = {p["name"]: p for p in doc["packages"]}
    # requests: internal-tool pulls it in, and it pulls in idna, urllib3, certifi, ...
    assert packages["idna"]["risk"]["dependents"] == 2  # requests, internal-tool
    assert packages["idna"]["risk"]["top_level_reached"] == 1
    assert packages["internal-tool"]["publishers"]["known"] is False
    assert packages["internal-tool"]["publishers"]["unknown_reason"]
    assert summary["unknown_ownership"] == ["internal-tool"]
    assert summary["packages_with_unknown_ownership"] == 1
    accounts = {a["account"]: a for a in summary["top_accounts"]}
    assert accounts["Lukasa"]["names"] == ["certifi", "requests"]
    assert accounts["Lukasa"]["packages"] == 2
    assert summary["organization_names"] == ["certifi"]
    # Every package with known publishers contributes its accounts.
    every_account = {a for p in packages.values() for a in p["publishers"]["accounts"] or []}
    assert summary["publishing_accounts"] == len(every_account)


# --- explain ----------------------------------------------------------------------------


def test_explain_shows_facts_findings_paths_and_publishers(lab_venv, fixture_index):
    add_dist(site_packages(lab_venv), "internal_tool", "0.3", ["requests>=2"])
    code, out, err = run("explain", "IDNA", str(lab_venv), "--index-url", fixture_index.simple_url)
    assert code == 0, err
    assert out.startswith("idna==3.10  risk ")
    assert "publishers: kjd" in out
    assert "depended on by: 2 packages: internal-tool, requests" in out
    assert "required directly by: requests" in out
    assert "Paths from top-level packages (1)" in out
    assert "internal-tool → requests → idna" in out
    assert "solo-maintainer" in out and 'publishers=["kjd"]' in out
    # Facts, known and unknown with the reason.
    assert "release_count" in out
    assert "unknown: " in out


def test_explain_json(lab_venv, fixture_index):
    code, out, err = run(
        "explain",
        "urllib3",
        str(lab_venv),
        "--index-url",
        fixture_index.simple_url,
        "-f",
        "json",
    )
    assert code == 0, err
    package = json.loads(out)["package"]
    assert package["name"] == "urllib3"
    assert package["dependents"] == {"count": 1, "names": ["requests"], "direct": ["requests"]}
    assert package["paths"] == {"total": 1, "exact": True, "shown": [["requests", "urllib3"]]}
    assert package["publishers"]["known"] is True
    assert "publishers" in package["facts"]
    assert package["risk"]["dependents"] == 1


def test_explain_caps_paths_and_counts_the_rest(lab_venv, fixture_index):
    site = site_packages(lab_venv)
    for tool in ("tool_a", "tool_b", "tool_c"):
        add_dist(site, tool, "1.0", ["requests>=2"])
    code, out, err = run(
        "explain", "idna", str(lab_venv), "--index-url", fixture_index.simple_url, "--paths", "2"
    )
    assert code == 0, err
    assert "Paths from top-level packages (3)" in out
    assert "… and 1 more (--paths N shows more)" in out


def test_explain_unknown_package_is_one_line_and_exit_2(lab_venv, fixture_index):
    code, _out, err = run(
        "explain", "no-such-thing", str(lab_venv), "--index-url", fixture_index.simple_url
    )
    assert code == 2
    assert "no-such-thing: not in this closure (11 packages" in err
    assert len(err.strip().splitlines()) == 1


def test_explain_escapes_hostile_metadata(lab_venv, fixture_index):
    add_dist(site_packages(lab_venv), "evil", "1.0", summary="\x1b[2J[red]boom[/red]\u202e")
    code, out, err = run("explain", "evil", str(lab_venv), "--index-url", fixture_index.simple_url)
    assert code == 0, err
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[2J[red]boom[/red]\\u202e" in out


# --- configuration ------------------------------------------------------------------------


def test_configuration_switches_a_rule_off_and_names_its_file_on_error(
    lab_venv, fixture_index, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        "[tool.trustmap.rules.solo-maintainer]\nenabled = false\n"
    )
    doc = scan_json(lab_venv, fixture_index)
    fired = {f["rule"] for p in doc["packages"] for f in p["findings"]}
    assert "solo-maintainer" not in fired
    code, out, _ = run("rules", "list")
    assert code == 0
    assert next(line for line in out.splitlines() if "solo-maintainer" in line).split()[1] == "off"

    (tmp_path / "trustmap.toml").write_text("[rules.solo-maintainer]\nenabled = 'off'\n")
    fixture_index.requests.clear()
    code, _out, err = run("scan", str(lab_venv), "--index-url", fixture_index.simple_url)
    assert code == 2
    assert err.strip() == (
        f"trustmap: error: {tmp_path / 'trustmap.toml'}: rules.solo-maintainer.enabled: "
        "must be true or false"
    )
    # Nothing was fetched: the configuration is checked first.
    assert fixture_index.requests == []


def test_explicit_config_and_index_url_from_it(lab_venv, fixture_index, tmp_path):
    config = tmp_path / "ci" / "trustmap.toml"
    config.parent.mkdir()
    config.write_text(f'index-url = "{fixture_index.simple_url}"\n')
    code, _out, err = run("scan", str(lab_venv), "--config", str(config), "-f", "json")
    assert code == 0, err
    assert fixture_index.requests  # the configured index was asked
    code, _out, err = run("scan", str(lab_venv), "--config", str(tmp_path / "none.toml"))
    assert code == 2 and "configuration file not found" in err


def test_bad_toml_in_config_is_one_line(lab_venv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "trustmap.toml").write_text("rules = [\n")
    code, _out, err = run("scan", str(lab_venv))
    assert code == 2
    assert "trustmap.toml: invalid TOML" in err
    assert len(err.strip().splitlines()) == 1


def test_configured_internal_names_found_on_the_public_index_are_dependency_confusion(
    lab_venv, fixture_index, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "trustmap.toml").write_text('internal-packages = ["charset-*"]\n')
    doc = scan_json(lab_venv, fixture_index)
    packages = {p["name"]: p for p in doc["packages"]}
    rules = {f["rule"] for f in packages["charset-normalizer"]["findings"]}
    assert "dependency-confusion" in rules
    assert "dependency-confusion" not in {f["rule"] for f in packages["idna"]["findings"]}


def test_a_malformed_requirements_line_names_file_and_line(tmp_path):
    manifest = tmp_path / "requirements.txt"
    manifest.write_text("rich\nrequests==\n")
    code, _, err = run("scan", str(manifest))
    assert code == 2
    assert err.strip() == (
        f"trustmap: error: {manifest}:2: invalid requirement 'requests==': "
        "expected version after '=='"
    )


# --- paths people use that had no test ----------------------------------------------------


def test_refresh_asks_the_index_again_within_the_ttl(lab_venv, fixture_index):
    scan_json(lab_venv, fixture_index)
    fixture_index.requests.clear()
    scan_json(lab_venv, fixture_index)
    assert fixture_index.requests == []  # within the TTL: all from the cache
    doc = scan_json(lab_venv, fixture_index, "--refresh")
    asked = {path for _, path, _ in fixture_index.requests}
    assert {f"/pypi/{name}/json" for name in ("idna", "six", "dapy")} <= asked
    # Asked afresh, not revalidated: no validators sent, whole answers read.
    assert not [h for _, _, h in fixture_index.requests if "If-None-Match" in h]
    assert len(doc["packages"]) == len(LAB_DISTS)


def test_rules_show_prints_one_rule_whole():
    code, out, err = run("rules", "show", "solo-maintainer")
    assert code == 0, err
    assert out.startswith("solo-maintainer: One account alone can publish this package")
    for label in ("severity: low", "condition: facts.publisher_count == 1", "why it matters:"):
        assert label in out
    assert "what to do:" in out and "Exactly one PyPI account" in out


def test_rules_show_of_an_unknown_rule_is_one_line_and_exit_2():
    code, _, err = run("rules", "show", "no-such-rule")
    assert code == 2
    assert (
        err.strip() == "trustmap: error: no rule 'no-such-rule'; `trustmap rules list` shows them"
    )


def test_rules_facts_lists_every_fact_with_type_and_source():
    from scanner.facts.schema import FACTS

    code, out, err = run("rules", "facts")
    assert code == 0, err
    lines = out.splitlines()
    for spec in FACTS:
        # Whole on one line (a name is copied into a condition), with its type beside it.
        row = [line for line in lines if line.startswith(f"│ {spec.name} ")]
        assert row, spec.name
        assert spec.type.split("(")[0] in row[0], (spec.name, row[0])


@pytest.mark.parametrize("command", ["scan", "explain"])
def test_table_output_to_a_file(lab_venv, fixture_index, tmp_path, command):
    out_file = tmp_path / "report.txt"
    args = [command, *(["dapy"] if command == "explain" else []), str(lab_venv)]
    code, out, err = run(*args, "--index-url", fixture_index.simple_url, "-o", str(out_file))
    assert code == 0, err
    assert out == ""  # all of it went to the file
    text = out_file.read_text()
    assert "\x1b[" not in text  # no colour codes in a file
    if command == "scan":
        assert "Packages: 11" in text and "Who can publish code here:" in text
    else:
        assert "dapy" in text.lower() and "JacksonWoo" in text
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # moved into place


def test_explain_json_output_to_a_file(lab_venv, fixture_index, tmp_path):
    out_file = tmp_path / "explain.json"
    code, out, err = run(
        "explain", "dapy", str(lab_venv), "--index-url", fixture_index.simple_url,
        "-f", "json", "-o", str(out_file),
    )  # fmt: skip
    assert code == 0 and out == "", err
    assert json.loads(out_file.read_text())


INTERNAL_ERROR_SCRIPT = """
import sys
import scanner.report.render as render

def broken(*args, **kwargs):
    raise RuntimeError("a bug in rules_list")

render.rules_list = broken
from scanner.cli import entry
sys.argv = ["trustmap", "rules", "list"]
entry()
"""


@pytest.mark.parametrize("debug", [False, True])
def test_internal_error_exits_4_with_one_line_or_the_traceback(tmp_path, debug):
    script = tmp_path / "broken.py"
    script.write_text(INTERNAL_ERROR_SCRIPT)
    env = {k: v for k, v in __import__("os").environ.items() if k != "TRUSTMAP_DEBUG"}
    if debug:
        env["TRUSTMAP_DEBUG"] = "1"
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(
        "trustmap: error: internal error: RuntimeError: a bug in rules_list"
    )
    if debug:
        assert "Traceback (most recent call last):" in result.stderr
        assert "the traceback is above" in lines[-1]
    else:
        assert len(lines) == 1 and "TRUSTMAP_DEBUG=1" in lines[0]


def test_merged_targets_with_conflicting_versions_say_so_and_keep_the_first(
    lab_venv, fixture_index, tmp_path
):
    other = build_venv(tmp_path / "other", [])
    add_dist(site_packages(other), "six", "1.0.0")
    add_dist(site_packages(other), "extra-tool", "2.0")

    def merged(*targets: Path) -> dict:
        code, out, err = run(
            "scan", *map(str, targets), "--index-url", fixture_index.simple_url, "-f", "json"
        )
        assert code == 0, err
        return json.loads(out)

    for first, second, kept in ((lab_venv, other, "1.16.0"), (other, lab_venv, "1.0.0")):
        doc = merged(first, second)
        versions = {p["name"]: p["version"] for p in doc["packages"]}
        assert versions["six"] == kept
        assert "extra-tool" in versions and "dapy" in versions  # both inputs' packages
        conflicts = [p for p in doc["problems"] if p["kind"] == "conflicting-versions"]
        assert len(conflicts) == 1, doc["problems"]
        assert "1.16.0" in conflicts[0]["message"] and "1.0.0" in conflicts[0]["message"]
        assert f"{kept} is scanned" in conflicts[0]["message"]


def test_db_import_osv_loads_the_dump_and_a_bad_file_is_one_line(tmp_path):
    import zipfile

    dump = tmp_path / "all.zip"
    with zipfile.ZipFile(dump, "w") as archive:
        record = (FIXTURES / "apis" / "osv-GHSA-h5c8-rqwp-cp95.json").read_text()
        archive.writestr("GHSA-h5c8-rqwp-cp95.json", record)
    cache = str(tmp_path / "cache.db")
    code, out, err = run("db", "import-osv", str(dump), "--cache", cache)
    assert code == 0 and out == f"imported 1 OSV advisories from {dump}\n"
    bad = tmp_path / "bad.zip"
    bad.write_text("not a zip")
    code, out, err = run("db", "import-osv", str(bad), "--cache", cache)
    assert code == 2 and err.count("\n") == 1 and "not an OSV dump" in err


def test_enrichment_sources_switched_off_on_the_command_line(lab_venv, fixture_index):
    report = scan_json(lab_venv, fixture_index, "--no-osv", "--no-github", "--no-pypistats")
    six = next(p for p in report["packages"] if p["name"] == "six")
    assert "--no-github" in six["unknown_facts"]["repository_stars"]
    assert "--no-osv" in six["unknown_facts"]["osv_vulnerabilities"]


def test_security_md_gives_the_exit_codes_the_code_uses():
    """A gate is written against SECURITY.md's table: it must be the code's own codes."""
    import re

    from scanner import cli
    from scanner.model import InputError, Verdict

    text = (Path(__file__).resolve().parent.parent / "SECURITY.md").read_text()
    rows = dict(re.findall(r"^\| (\d) \| (.+) \|$", text, re.MULTILINE))
    code = {outcome: str(Verdict(outcome).exit_code) for outcome in ("pass", "fail", "incomplete")}
    assert set(rows) == {"0", "1", "2", "3", "4"}
    assert "completed" in rows[code["pass"]]
    assert "violated" in rows[code["fail"]]
    assert "incomplete" in rows[code["incomplete"]]
    assert InputError.exit_code == cli.EXIT_INPUT
    assert "input error" in rows[str(cli.EXIT_INPUT)]
    assert "internal error" in rows[str(cli.EXIT_INTERNAL)]
    assert "TRUSTMAP_DEBUG" in rows[str(cli.EXIT_INTERNAL)]
    assert "## Reporting a vulnerability" in text


def test_the_command_list_cuts_no_summary_at_80_columns():
    """`trustmap --help` is where a newcomer starts: each command's line is whole, not cut
    with '...' (click's default cut of a long first sentence)."""
    from click.testing import CliRunner

    from scanner.cli import main

    out = CliRunner().invoke(main, ["--help"], terminal_width=80).output
    commands = out[out.index("Commands:") :].splitlines()[1:]
    assert len(commands) >= 8 and not [line for line in commands if "..." in line], commands
    assert all(len(line) <= 80 for line in out.splitlines())


def test_the_notes_name_the_services_switched_off(lab_venv, fixture_index, monkeypatch):
    """Every enrichment service is off in the tests (conftest): the report says which were
    never asked, rather than leave their unknown facts unexplained until -v."""
    doc = scan_json(lab_venv, fixture_index)
    assert (
        "switched off: depsdev, github, osv, pypistats, scorecard (their facts are unknown)"
        in (doc["notes"])
    )
    monkeypatch.setenv("TRUSTMAP_OSV_API_URL", "http://127.0.0.1:9/")  # on, if unreachable
    doc = scan_json(lab_venv, fixture_index, "--offline")
    assert (
        "switched off: depsdev, github, pypistats, scorecard (their facts are unknown)"
        in (doc["notes"])
    )
