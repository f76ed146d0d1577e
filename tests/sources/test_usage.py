"""The usage dataset's refresh, against a misbehaving server on 127.0.0.1: behind a mirror
its public URL is unreachable, and the scan can do without it, so the refresh is tried
once, with a short connect timeout (issue 8, point 9). Attempts are counted at the server
and the timeout is read off each request as it reaches httpx, never measured."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from scanner.sources import usage
from scanner.sources.http import CONNECT_TIMEOUT, Fetcher
from scanner.store import Store
from tests.fault_server import fault_index

PATH = "/top-pypi-packages.json"
# An unreachable usage URL once cost a cold scan about 3 s. The scan waits at most
# REFRESH_GRACE for the refresh once the index lookups are done; a connect that may
# take longer than 2 s is not "short" any more.
SHORT_CONNECT = 2.0


class RecordingTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (a real socket), noting the timeouts each request carries."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[dict[str, float]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.timeouts.append(dict(request.extensions["timeout"]))
        return await super().handle_async_request(request)


def refresh(tmp_path: Path, transport: httpx.AsyncBaseTransport | None = None):
    async def run():
        store = Store(tmp_path / "cache.db")
        fetcher = Fetcher(store, transport=transport)
        try:
            return await usage.load_top_packages(fetcher)
        finally:
            await fetcher.aclose()
            store.close()

    return asyncio.run(run())


@pytest.mark.parametrize("fault", ["503", "reset"])
def test_an_unreachable_usage_url_is_asked_once(fault, tmp_path, monkeypatch):
    """A 503 and a reset connection are both worth another try for the index (the fault
    suite counts three); for the usage dataset one attempt is all it gets."""
    with fault_index() as server:
        server.fail(PATH, fault, times=10)
        monkeypatch.setenv("TRUSTMAP_TOP_PACKAGES_URL", server.url + PATH)

        dataset, note = refresh(tmp_path)

        assert server.hits(PATH) == 1
    assert dataset.origin == "bundled snapshot"
    assert note is not None and "could not refresh the top-packages dataset" in note


def test_the_usage_refresh_connects_with_a_short_timeout(tmp_path, monkeypatch):
    transport = RecordingTransport()
    with fault_index() as server:
        server.fail(PATH, "503", times=10)
        monkeypatch.setenv("TRUSTMAP_TOP_PACKAGES_URL", server.url + PATH)

        refresh(tmp_path, transport)

    assert len(transport.timeouts) == 1
    connect = transport.timeouts[0]["connect"]
    assert connect <= SHORT_CONNECT
    assert connect < CONNECT_TIMEOUT  # shorter than the index's: the scan needs the index
    # The whole download is bounded too (an attempt's read timeout is its deadline).
    assert transport.timeouts[0]["read"] <= usage.REFRESH_TIMEOUT
