"""An interrupted or killed scan leaves nothing behind: no prefetch worker outlives the
scan, the caller's pipes reach end-of-file, the cache database stays intact and the next
scan works. These run the real command on a cold cache of more packages than the prefetch
threshold, against a local index that answers slowly, and signal it midway."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanner.sources import http
from tests.conftest import LAB_DISTS, add_dist, build_venv, default_sigint, site_packages

REPO = Path(__file__).resolve().parent.parent
SLOW_PACKAGES = 20
# The index stalls this long on each slow project: far longer than the test waits, so
# that the scan is certainly midway when it is signalled.
STALL_SECONDS = 20.0

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists() or (os.cpu_count() or 1) < 2,
    reason="needs /proc and two cores (the prefetch forks only with a second core)",
)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # the command name may hold spaces
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")  # a zombie has ended


def _is_a_scan(pid: int) -> bool:
    """Guards the clean-up against a PID the system has since given to another process."""
    try:
        return b"scanner\0scan" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid:
                found.add(int(entry.name))
    return found


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _env(cache_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PIP_INDEX_URL", "TRUSTMAP_DEBUG")}
    env["TRUSTMAP_CACHE_DIR"] = str(cache_dir)
    env["TRUSTMAP_TOP_PACKAGES_URL"] = "off"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1"
    return env


@pytest.fixture
def big_venv(tmp_path: Path) -> Path:
    """The lab environment plus enough packages of its own to pass the prefetch threshold."""
    venv = build_venv(tmp_path / "venv", LAB_DISTS)
    for number in range(SLOW_PACKAGES):
        add_dist(site_packages(venv), f"slowpkg{number:02d}", "1.0")
    assert len(LAB_DISTS) + SLOW_PACKAGES > http.PREFETCH_MINIMUM
    return venv


def _start(venv: Path, index, cache_dir: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "scanner", "scan", str(venv), "--index-url"]
    return subprocess.Popen(
        [*command, index.simple_url, "-f", "json"],
        cwd=REPO,
        env=_env(cache_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )


def _midway(process: subprocess.Popen[str], index, workers: set[int]) -> None:
    """Wait until the scan has forked its prefetch worker and the slow requests are in
    flight; add the worker PIDs to `workers`."""
    slow = {f"/pypi/slowpkg{n:02d}/json" for n in range(SLOW_PACKAGES)}

    def started() -> bool:
        workers.update(_children(process.pid))
        in_flight = sum(1 for path in index.paths() if path in slow)
        return bool(workers) and in_flight >= SLOW_PACKAGES

    assert _wait_for(started, 60), f"no prefetch worker seen; index saw {index.paths()}"


def _check_cache_and_rescan(venv: Path, index, cache_dir: Path) -> None:
    db = cache_dir / "trustmap.db"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    index.delays.clear()
    again = _start(venv, index, cache_dir)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert len(json.loads(out)["packages"]) == len(LAB_DISTS) + SLOW_PACKAGES


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_signalled_scan_leaves_no_worker_and_a_sound_cache(
    big_venv, fixture_index, tmp_path, signal_number
):
    for number in range(SLOW_PACKAGES):
        fixture_index.delays[f"/pypi/slowpkg{number:02d}/json"] = STALL_SECONDS
    cache_dir = tmp_path / "cache"
    process = _start(big_venv, fixture_index, cache_dir)
    workers: set[int] = set()
    try:
        _midway(process, fixture_index, workers)
        os.kill(process.pid, signal_number)
        # Every holder of the pipes must let go for communicate() to see end-of-file: a
        # worker that kept the caller's stdout would make this time out.
        _out, err = process.communicate(timeout=30)
        survivors = {pid for pid in workers if not _wait_for(lambda p=pid: not _alive(p), 15)}
        assert not survivors, f"prefetch workers outlived the scan: {sorted(survivors)}"
    finally:
        # Leave the machine clean whatever the outcome.
        for pid in [process.pid, *workers]:
            if _alive(pid) and _is_a_scan(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait()

    if signal_number == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "interrupted" in lines[0], err
        assert "Traceback" not in err
    _check_cache_and_rescan(big_venv, fixture_index, cache_dir)


def test_cold_scan_over_the_threshold_forks_and_reports_every_package(
    big_venv, fixture_index, tmp_path
):
    """The forked prefetch itself: what the worker fetched reaches the report and the
    cache, and a warm scan then sends nothing."""
    cache_dir = tmp_path / "cache"
    process = _start(big_venv, fixture_index, cache_dir)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    packages = {p["name"]: p for p in json.loads(out)["packages"]}
    assert len(packages) == len(LAB_DISTS) + SLOW_PACKAGES
    assert packages["idna"]["facts"]["publishers"]
    assert packages["slowpkg03"]["facts"]["known_to_index"] is False
    # Every project document was asked for exactly once, whichever process asked.
    project_requests = [p for p in fixture_index.paths() if re.fullmatch(r"/pypi/[^/]+/json", p)]
    assert len(project_requests) == len(set(project_requests)) == len(packages)

    fixture_index.requests.clear()
    warm = _start(big_venv, fixture_index, cache_dir)
    out, err = warm.communicate(timeout=120)
    assert warm.returncode == 0, err
    assert fixture_index.requests == []
