"""Fetcher.prefetch: above its threshold, a cold batch is split between this process and
forked workers, and what the workers fetched lands in this process's cache."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scanner.sources import http
from scanner.sources.http import Fetcher
from scanner.store import Store

KIND = "test-prefetch-v1"

pytestmark = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods(),
    reason="the prefetch forks only where fork exists and there is a second core",
)


def who_extracted(doc: Any, url: str) -> dict[str, Any]:
    """Records which process did the work (module level: it is pickled to the worker)."""
    return {"name": doc["info"]["name"], "pid": os.getpid()}


def prefetched(urls: list[str], tmp_path: Path, **settings: Any) -> tuple[Fetcher, dict]:
    """A fetcher that prefetched `urls` into a new cache, and what the cache holds."""
    store = Store(tmp_path / "cache.db")
    fetcher = Fetcher(store, **settings)

    async def run() -> None:
        try:
            await fetcher.prefetch(urls, KIND, who_extracted)
        finally:
            await fetcher.aclose()

    asyncio.run(run())
    store.flush()
    stored = {url: store.get(url, KIND) for url in urls}
    store.close()
    return fetcher, stored


def test_prefetch_over_the_threshold_uses_a_forked_worker(fixture_index, tmp_path: Path):
    names = sorted(fixture_index.projects)
    # Enough URLs to pass the threshold: the recorded projects, and copies of them
    # served under other names.
    urls = [f"{fixture_index.url}/pypi/{name}/json" for name in names]
    for copy in range(http.PREFETCH_MINIMUM // len(names) + 1):
        for name in names:
            alias = f"{name}-copy{copy}"
            fixture_index.projects[alias] = fixture_index.projects[name]
            urls.append(f"{fixture_index.url}/pypi/{alias}/json")
    assert len(urls) > http.PREFETCH_MINIMUM

    fetcher, stored = prefetched(urls, tmp_path)

    assert all(entry is not None for entry in stored.values()), "some URLs were not cached"
    pids = {entry.data["pid"] for entry in stored.values()}
    assert os.getpid() in pids  # this process took its share
    assert pids - {os.getpid()}, "no URL was fetched by a forked worker"
    # Each worker's requests are counted in this process, once.
    assert fetcher.requests_sent == len(urls)


def test_prefetch_divides_the_concurrency_among_its_processes(fixture_index, tmp_path: Path):
    """The fetcher's concurrency bounds the whole prefetch, not each process: a worker
    and this process each holding all of it doubles the connections (and on a busy
    machine fetches slower)."""
    name = sorted(fixture_index.projects)[0]
    urls = []
    for copy in range(http.PREFETCH_MINIMUM + 8):
        alias = f"{name}-copy{copy}"
        fixture_index.projects[alias] = fixture_index.projects[name]
        fixture_index.delays[f"/pypi/{alias}/json"] = 0.05  # so that requests overlap
        urls.append(f"{fixture_index.url}/pypi/{alias}/json")
    _, stored = prefetched(urls, tmp_path, concurrency=4)
    assert all(entry is not None for entry in stored.values())
    assert 2 <= fixture_index.most_in_flight <= 4


HALF_SENT = """
import gc, multiprocessing.queues, os, struct, sys, time
from pathlib import Path
from scanner.sources import http

def send_half_a_result(marker):
    # In the worker: the start of a result promising 1 MiB, then nothing more, as when
    # the worker is killed halfway through sending it.
    queue = next(o for o in gc.get_objects() if isinstance(o, multiprocessing.queues.SimpleQueue))
    os.write(queue._writer.fileno(), struct.pack("!i", 1 << 20) + b"half")
    Path(marker).touch()
    time.sleep(600)

if __name__ == "__main__":
    marker = Path(sys.argv[1])
    pool = http._worker_pool(1)
    pool.submit(send_half_a_result, str(marker))
    while not marker.exists():
        time.sleep(0.01)
    http._stop(pool)
    print("stopped", flush=True)
"""
HANG_BOUND = 60.0  # seconds: the interpreter ends in well under one; a hang never does


def test_a_worker_stopped_while_sending_its_result_never_hangs_the_exit(tmp_path: Path):
    """A prefetch that is interrupted or runs out of time stops its workers wherever they
    are, one perhaps halfway through sending its result. The pool's manager thread was
    then left reading the rest for ever, and the interpreter joins that thread at exit:
    pytest once hung after printing its results. The worker is made to stop halfway for
    certain (by writing the start of a result itself), in a child interpreter."""
    script = tmp_path / "half_sent.py"
    script.write_text(HALF_SENT)
    try:
        done = subprocess.run(
            [sys.executable, str(script), str(tmp_path / "sending")],
            capture_output=True,
            text=True,
            timeout=HANG_BOUND,
            cwd=Path(__file__).resolve().parents[2],
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the interpreter did not exit after the pool was stopped: {exc.stdout!r}")
    assert (done.returncode, done.stdout, done.stderr) == (0, "stopped\n", "")
