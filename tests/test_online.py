"""A real virtual environment scanned against the live index, https://pypi.org/simple.

Skipped, with the reason, when pypi.org cannot be reached or the packages cannot be
installed for want of a network. Run only these with `pytest -m online`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.online

REPO = Path(__file__).resolve().parent.parent
INDEX_URL = "https://pypi.org/simple"
PACKAGES = ["six==1.16.0", "idna==3.10"]
# Immutable facts of these releases: the sha256 of the wheels on PyPI.
WHEEL_SHA256 = {
    "idna": "946d195a0d259cbba61165e88e65941f16e9b36ea6ddb97f00452bae8b1287d3",
    "six": "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254",
}
NETWORK_TROUBLE = (
    "NewConnectionError",
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "No matching distribution found",
    "Could not find a version",
)


@pytest.fixture(scope="module")
def pypi_reachable() -> None:
    """Probe the live index once, briefly, before anything slow is attempted."""
    import httpx

    try:
        response = httpx.get(f"{INDEX_URL}/idna/", timeout=5.0)
    except httpx.HTTPError as exc:
        pytest.skip(f"pypi.org is unreachable ({type(exc).__name__}: {exc})")
    if response.status_code != 200:
        pytest.skip(f"pypi.org answered HTTP {response.status_code} to a probe")


@pytest.fixture(scope="module")
def real_venv(pypi_reachable: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv made by `python -m venv`, with the packages installed by pip (which may
    use its configured mirrors). No pip inside it, so the scan sees just these two."""
    venv = tmp_path_factory.mktemp("online") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    install = subprocess.run(
        [*pip, "install", "--no-deps", "--no-input", "--retries", "1", *PACKAGES],
        env={**os.environ, "PIP_DEFAULT_TIMEOUT": "15"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if install.returncode != 0:
        output = install.stdout + install.stderr
        if any(marker in output for marker in NETWORK_TROUBLE):
            pytest.skip(f"pip could not download {PACKAGES}: {output.strip()[-300:]}")
        pytest.fail(f"pip install failed:\n{output}")
    return venv


def scan_json(venv: Path, cache_dir: Path, *extra: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("PIP_INDEX_URL", "TRUSTMAP_DEBUG")}
    env["TRUSTMAP_CACHE_DIR"] = str(cache_dir)
    env["TRUSTMAP_TOP_PACKAGES_URL"] = "off"
    command = [sys.executable, "-m", "scanner", "scan", str(venv), "-f", "json"]
    run = subprocess.run(
        [*command, "--index-url", INDEX_URL, *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def live_report(real_venv: Path, tmp_path_factory: pytest.TempPathFactory):
    cache_dir = tmp_path_factory.mktemp("online-cache")
    return scan_json(real_venv, cache_dir), cache_dir


def facts_by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {package["name"]: package for package in report["packages"]}


def test_live_scan_finds_the_installed_packages(live_report):
    report, _ = live_report
    packages = facts_by_name(report)
    assert {name: p["version"] for name, p in packages.items()} == {
        "idna": "3.10",
        "six": "1.16.0",
    }
    assert f"index: {INDEX_URL}" in report["notes"]


@pytest.mark.parametrize("name", ["idna", "six"])
def test_live_scan_reports_real_index_facts(live_report, name):
    report, _ = live_report
    package = facts_by_name(report)[name]
    facts = package["facts"]
    assert facts["known_to_index"] is True
    assert facts["publishers"], "PyPI lists who can publish the project"
    assert facts["publisher_count"] == len(facts["publishers"])
    assert facts["release_count"] > 10
    assert facts["first_release"] < "2016"
    assert f"sha256:{WHEEL_SHA256[name]}" in facts["file_hashes"]
    # Known, or unknown with a reason (not every index serves per-version JSON for the
    # vulnerabilities of older releases); never silently missing.
    assert (facts.get("vulnerability_count") is not None) != (
        "vulnerability_count" in package["unknown_facts"]
    )


def test_offline_rescan_from_the_live_cache_gives_the_same_facts(live_report, real_venv):
    report, cache_dir = live_report
    offline = scan_json(real_venv, cache_dir, "--offline")
    for name, package in facts_by_name(report).items():
        again = facts_by_name(offline)[name]["facts"]
        assert again["publishers"] == package["facts"]["publishers"]
        assert again["release_count"] == package["facts"]["release_count"]
    assert "requests sent: 0" in offline["notes"]


def test_live_resolution_of_a_requirements_file(pypi_reachable, tmp_path):
    """Declared, unpinned requirements resolved against the live index: the closure is
    complete, pins honour the specifiers, and every edge joins two pinned packages."""
    manifest = tmp_path / "requirements.txt"
    manifest.write_text("requests>=2.31,<3\nrich\nidna==3.10\n")
    report = scan_json(manifest, tmp_path / "cache", "--python-version", "3.11")
    packages = {p["name"]: p for p in report["packages"]}
    assert {"requests", "rich", "idna", "urllib3", "certifi", "markdown-it-py"} <= set(packages)
    assert packages["idna"]["version"] == "3.10"
    assert packages["requests"]["version"].startswith("2.")
    assert all(e["from"] in packages and e["to"] in packages for e in report["edges"])
    assert packages["requests"]["top_level"] and not packages["urllib3"]["top_level"]
