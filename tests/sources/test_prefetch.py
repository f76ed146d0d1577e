"""Fetcher.prefetch: above its threshold, a cold batch is split between this process and
forked workers, and what the workers fetched lands in this process's cache."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
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
