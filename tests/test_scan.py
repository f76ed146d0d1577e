"""The pipeline (scanner/scan.py): targets read and merged, then graph, facts, rules and
summary, against the fixture index of recorded real responses (tests/conftest.py)."""

from __future__ import annotations

import multiprocessing
import os
import re
import socket
import time
from pathlib import Path

import pytest

from scanner import graph as graph_stage
from scanner import rules as rules_stage
from scanner import summary as summary_stage
from scanner.configured import scan_options
from scanner.facts.gather import GatheredData
from scanner.fetch_ahead import fetching_ahead
from scanner.inputs.select import InputSet
from scanner.inputs.target import target_environment
from scanner.model import InputError, NetworkError, Package, Resolution
from scanner.options import CommandLineSettings, ScanOptions
from scanner.records import FailureCause, IndexRecord
from scanner.scan import _fail_if_index_unreachable, _merge, read_targets, scan
from scanner.sources import http
from scanner.sources.usage import bundled_top_packages
from tests.conftest import LAB_DISTS, add_dist, build_venv, site_packages


def options_for(index, tmp_path: Path, **overrides) -> ScanOptions:
    return ScanOptions(index_url=index.simple_url, cache_path=tmp_path / "cache.db", **overrides)


def test_two_inputs_that_pin_one_package_differently_are_a_problem(lab_venv, tmp_path):
    other = build_venv(tmp_path / "other", [])
    add_dist(site_packages(other), "six", "1.15.0")
    add_dist(site_packages(other), "tqdm", "4.66.0")
    options = ScanOptions(cache_path=tmp_path / "cache.db")
    resolution = read_targets((str(lab_venv), str(other)), options)
    conflicts = [p for p in resolution.problems if p.kind == "conflicting-versions"]
    assert [(p.package, p.message) for p in conflicts] == [
        ("six", "six: 1.16.0 and 1.15.0 in different inputs; 1.16.0 is scanned")
    ]
    assert not conflicts[0].fatal
    packages = {p.name: p.version for p in resolution.packages}
    assert packages["six"] == "1.16.0" and packages["tqdm"] == "4.66.0"
    assert list(packages) == sorted(packages)  # merged closures are listed by name
    assert len(packages) == len(LAB_DISTS) + 1


def test_inputs_that_declare_nothing_scan_to_an_empty_result_with_a_note(fixture_index, tmp_path):
    manifest = tmp_path / "requirements.txt"
    manifest.write_text("# nothing pinned yet\n")
    options = options_for(fixture_index, tmp_path)
    resolution = read_targets((str(manifest),), options)
    assert resolution.packages == () and resolution.roots == ()
    assert "the inputs declare no requirements: nothing to scan" in resolution.target.notes
    result = scan(resolution, options)
    assert result.findings == () and result.summary.packages == 0
    assert fixture_index.paths() == []  # nothing to ask the index


def _pinned(names: list[str], requests_sent: int) -> Resolution:
    return Resolution(
        packages=tuple(Package(name=n, version="1.0") for n in names),
        edges=(),
        target=target_environment("3.11", "linux"),
        source="x",
        roots=tuple(names),
        requests_sent=requests_sent,
    )


def test_requests_sent_are_summed_over_the_merged_resolutions():
    inputs = InputSet(descriptions=("a", "b"))
    merged = _merge([_pinned(["alpha"], 3), _pinned(["beta"], 4)], inputs, ScanOptions())
    assert merged.requests_sent == 7
    assert [p.name for p in merged.packages] == ["alpha", "beta"]
    assert merged.roots == ("alpha", "beta") and merged.source == "a, b"


def test_requests_sent_by_the_resolver_and_the_facts_are_counted(fixture_index, tmp_path):
    options = options_for(fixture_index, tmp_path, python_version="3.11", platform="linux")
    resolution = read_targets(("six==1.16.0",), options)
    assert resolution.requests_sent == len(fixture_index.requests) > 0
    result = scan(resolution, options)
    assert f"requests sent: {len(fixture_index.requests)}" in result.notes


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_index_is_a_network_error(lab_venv, tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/simple"
    options = ScanOptions(index_url=url, cache_path=tmp_path / "cache.db", request_timeout=2.0)
    resolution = read_targets((str(lab_venv),), options)
    with pytest.raises(NetworkError, match=r"cannot reach the index at http://127\.0\.0\.1:"):
        scan(resolution, options)


def _gathered(*causes: FailureCause | None, reason: str = "") -> GatheredData:
    records = {
        f"p{n}": IndexRecord(f"p{n}", "unknown", reason=reason, cause=cause)
        for n, cause in enumerate(causes)
    }
    return GatheredData(index=records, top_packages=bundled_top_packages(), notes=())


def test_the_index_is_unreachable_when_every_lookup_failed_there_whatever_the_words():
    """Decided on each record's cause, set where the failure happened: never on the words
    of its reason."""
    options = ScanOptions()
    down = _gathered(FailureCause.UNREACHABLE, FailureCause.BAD_ANSWER, reason="no words")
    with pytest.raises(NetworkError, match="cannot reach the index at https://x: no words"):
        _fail_if_index_unreachable(down, "https://x", options)
    # The scan's own clock ran out: nothing is said about the index, even in these words.
    late = _gathered(
        FailureCause.TIME_LIMIT, FailureCause.UNREACHABLE, reason="the index could not be read"
    )
    _fail_if_index_unreachable(late, "https://x", options)
    # One package the index answered for (here: has no such project) is enough.
    _fail_if_index_unreachable(
        _gathered(FailureCause.NOT_FOUND, FailureCause.UNREACHABLE), "https://x", options
    )


def test_offline_with_an_empty_cache_is_unknown_facts_not_a_network_error(lab_venv, tmp_path):
    options = ScanOptions(cache_path=tmp_path / "cache.db", offline=True)
    result = scan(read_targets((str(lab_venv),), options), options)
    assert "offline: answered from the cache alone" in result.notes
    assert all("publishers" in result.facts[name].unknown for name in result.facts)


def test_the_summary_and_the_blast_radius_are_computed_once(
    lab_venv, fixture_index, tmp_path, monkeypatch
):
    calls = {"blast_radius": 0, "summarize": 0, "account_index": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    radius = counted("blast_radius", graph_stage.blast_radius)
    monkeypatch.setattr(graph_stage, "blast_radius", radius)
    monkeypatch.setattr(summary_stage, "blast_radius", radius)
    monkeypatch.setattr(summary_stage, "summarize", counted("summarize", summary_stage.summarize))
    account_index = summary_stage.account_index
    monkeypatch.setattr(
        summary_stage, "account_index", counted("account_index", summary_stage.account_index)
    )
    options = options_for(fixture_index, tmp_path)
    result = scan(read_targets((str(lab_venv),), options), options)
    # The account index the facts stage built is the summary's: not rebuilt from the facts.
    assert calls == {"blast_radius": 1, "summarize": 1, "account_index": 0}
    # and says what the facts say.
    assert result.summary.publishing_accounts == len(account_index(result.summary.owners)) > 0
    from_facts = summary_stage.summarize(result)
    assert from_facts.top_accounts == result.summary.top_accounts
    assert from_facts.concentrated_accounts == result.summary.concentrated_accounts
    assert result.summary.packages == len(LAB_DISTS)
    assert result.summary.radius["urllib3"].dependents == 1  # requests
    assert result.facts["urllib3"].values["dependents"] == 1  # the same figures


def test_the_rule_files_are_read_once_per_scan(lab_venv, fixture_index, tmp_path, monkeypatch):
    (tmp_path / "trustmap.toml").write_text("[rules.low-usage]\nparams = { top_n = 50 }\n")
    monkeypatch.chdir(tmp_path)
    read: list[str] = []
    load_rule_file = rules_stage.load_rule_file

    def counted(path):
        read.append(path.name)
        return load_rule_file(path)

    monkeypatch.setattr(rules_stage, "load_rule_file", counted)
    options = scan_options(
        CommandLineSettings(index_url=fixture_index.simple_url, cache_path=str(tmp_path / "c.db"))
    )
    assert options.rules.get("low-usage").params["top_n"] == 50
    scan(read_targets((str(lab_venv),), options), options)
    shipped = sorted(p.name for p in rules_stage.shipped_rules_dir().glob("*.toml"))
    assert sorted(read) == shipped  # each file once


def _big_venv(tmp_path: Path) -> Path:
    """The lab environment and enough packages of its own (unknown to the index) to pass
    the prefetch threshold."""
    venv = build_venv(tmp_path / "venv", LAB_DISTS)
    for number in range(http.PREFETCH_MINIMUM):
        add_dist(site_packages(venv), f"localpkg{number:02d}", "1.0")
    return venv


def _project_requests(index) -> list[str]:
    return [p for p in index.paths() if re.fullmatch(r"/pypi/[^/]+/json", p)]


@pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods(),
    reason="the prefetch forks only where fork exists and there is a second core",
)
def test_documents_are_fetched_while_the_environment_is_read(fixture_index, tmp_path):
    """fetching_ahead starts the workers from the dist-info folder names alone: the index
    is asked for every project before the environment is read, and the scan then
    collects those answers instead of asking again."""
    venv = _big_venv(tmp_path)
    options = options_for(fixture_index, tmp_path).started()
    wanted = len(LAB_DISTS) + http.PREFETCH_MINIMUM
    with fetching_ahead((str(venv),), options) as ahead:
        assert ahead is not None
        deadline = time.monotonic() + 60
        while len(_project_requests(fixture_index)) < wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_project_requests(fixture_index)) == wanted  # nothing read yet
        resolution = read_targets((str(venv),), options)
        result = scan(resolution, options, ahead=ahead)
    assert result.summary.packages == wanted
    assert result.facts["idna"].get("publishers")
    assert result.facts["localpkg03"].get("known_to_index") is False
    requests = _project_requests(fixture_index)
    assert len(requests) == len(set(requests)) == wanted  # each asked once, ahead
    assert f"requests sent: {len(fixture_index.paths())}" in result.notes

    # Warm: nothing to fetch, so nothing is forked and nothing asked.
    fixture_index.requests.clear()
    with fetching_ahead((str(venv),), options) as ahead:
        assert ahead is None
        scan(read_targets((str(venv),), options), options, ahead=ahead)
    assert fixture_index.paths() == []


def test_workers_started_ahead_end_when_the_scan_does_not_come(fixture_index, tmp_path):
    """Input that fails to read after the workers started (here: the block is left
    with an error before the scan) ends them: none outlives the block."""
    venv = _big_venv(tmp_path)
    options = options_for(fixture_index, tmp_path).started()
    for name in ("idna", "six"):
        fixture_index.delays[f"/pypi/{name}/json"] = 30.0  # still in flight when it ends
    with pytest.raises(InputError):
        with fetching_ahead((str(venv),), options) as ahead:
            if ahead is None:
                pytest.skip("the prefetch forks only where fork exists and with a second core")
            workers = [p.pid for p in ahead.pool._processes.values()]
            assert workers
            raise InputError("requirements.txt, line 3: bad")
    for pid in workers:
        deadline = time.monotonic() + 15
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(pid), f"worker {pid} outlived the block"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods(),
    reason="the prefetch forks only where fork exists and there is a second core",
)
def test_a_cold_scan_asks_one_per_version_page_and_each_simple_page_once(fixture_index, tmp_path):
    """On an index without per-version JSON (as this mirror), one probe during the prefetch
    finds that out, not one 404 per package off its latest release after it; and the
    simple page that tells provenance and project status is fetched once for both."""
    venv = _big_venv(tmp_path)
    options = options_for(fixture_index, tmp_path)
    result = scan(read_targets((str(venv),), options), options)
    per_version = [p for p in fixture_index.paths() if re.fullmatch(r"/pypi/[^/]+/[^/]+/json", p)]
    assert len(per_version) == 1
    behind = [
        name
        for name, facts in result.facts.items()
        if facts.get("known_to_index") and facts.get("latest_version") != facts.get("version")
    ]
    assert len(behind) > 1  # else one probe is all the old way asked too
    for name in behind:  # unknown with the reason, never "no vulnerabilities"
        assert "no per-version JSON" in result.facts[name].unknown["vulnerability_count"]
    pages = [p for p in fixture_index.paths() if p.startswith("/simple/")]
    assert len(pages) == len(set(pages))  # no page twice
    # The index's own projects: one page, the probe's (the local packages' pages say
    # whether the index knows them at all).
    assert len([p for p in pages if "localpkg" not in p]) == 1


def test_refresh_asks_each_document_once(fixture_index, tmp_path):
    """--refresh asks again what was cached before the scan, and only once: what the
    prefetch has just fetched is not fetched a second time by the lookups."""
    venv = _big_venv(tmp_path)
    options = options_for(fixture_index, tmp_path)
    scan(read_targets((str(venv),), options), options)  # fills the cache
    fixture_index.requests.clear()
    refreshed = options_for(fixture_index, tmp_path, refresh=True)
    result = scan(read_targets((str(venv),), refreshed), refreshed)
    requests = _project_requests(fixture_index)
    assert len(requests) == len(set(requests)) == len(LAB_DISTS) + http.PREFETCH_MINIMUM
    assert result.facts["idna"].get("publishers")


def test_a_project_in_two_site_folders_is_fetched_once_ahead(fixture_index, tmp_path):
    """fetching_ahead reads the folder names of every site folder: a project installed
    in two of them (a venv with the system site-packages) is still asked for once."""
    venv = _big_venv(tmp_path)
    system = build_venv(tmp_path / "system", LAB_DISTS)
    (venv / "pyvenv.cfg").write_text(
        f"home = {system / 'bin'}\ninclude-system-site-packages = true\nversion = 3.11.7\n"
    )
    options = options_for(fixture_index, tmp_path).started()
    with fetching_ahead((str(venv),), options) as ahead:
        scan(read_targets((str(venv),), options), options, ahead=ahead)
    requests = _project_requests(fixture_index)
    assert len(requests) == len(set(requests)) == len(LAB_DISTS) + http.PREFETCH_MINIMUM
