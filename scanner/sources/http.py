"""The one shared HTTP client every source uses: httpx.AsyncClient over HTTP/2, bounded
concurrency, connect/read timeouts, retries with backoff on 429/5xx that honour
Retry-After, and the SQLite cache in front of it all.

A warm scan never imports httpx: the client is made on the first request that the cache
cannot answer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from scanner.store import CachedResponse, Store

if TYPE_CHECKING:
    import httpx

DEFAULT_TTL = 24 * 3600.0
# A 404 is the index's answer "no such project", not an error: kept briefly so that a warm
# or offline scan can still say so. Errors (429, 5xx, timeouts) are never stored.
NOT_FOUND_TTL = 3600.0
_NOT_FOUND = {"trustmap:not-found": True}
MAX_PREFETCH_PROCESSES = 4
PREFETCH_MINIMUM = 24  # below this, forking costs more than it saves
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # numpy's project JSON is 3.6 MB
PARENT_CHECK_SECONDS = 0.5  # how often a worker checks that the scan is still alive
USER_AGENT = "trustmap (supply-chain risk scanner; +https://pypi.org/project/trustmap/)"

Status = Literal["ok", "not-found", "error", "offline-miss"]


@dataclass(frozen=True)
class FetchResult:
    status: Status
    data: Any = None
    from_cache: bool = False
    stale: bool = False  # answered from an expired cache entry (offline, or index down)
    error: str = ""

    def describe(self, not_found: str) -> str:
        """Why no data came back, in words for a report."""
        if self.status == "offline-miss":
            return "offline, and not in the cache"
        if self.status == "not-found":
            return not_found
        return f"the index could not be read: {self.error}"


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def redact(url: str) -> str:
    """The URL without credentials: private mirrors put tokens in the index URL, and
    those must never reach the cache, a log or a report."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, min(float(value), 120.0))
    except ValueError:
        pass
    import email.utils  # only for an HTTP-date Retry-After

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min(when.timestamp() - time.time(), 120.0))


def _backoff_hook(exc: Exception) -> bool | float:
    import httpx

    if isinstance(exc, _Retryable):
        return exc.retry_after if exc.retry_after is not None else True
    return isinstance(exc, httpx.TransportError)


class Fetcher:
    """Cached JSON GETs. `extract` turns a parsed response body into the small value
    that is stored and returned; its `kind` names it, so that a changed extractor never
    reads values stored by an older one."""

    def __init__(
        self,
        store: Store,
        *,
        offline: bool = False,
        refresh: bool = False,
        ttl: float = DEFAULT_TTL,
        concurrency: int = 24,
        attempts: int = 4,
        transport: Any = None,
    ) -> None:
        self.store = store
        self.offline = offline
        self.refresh = refresh
        self.ttl = ttl
        self.attempts = attempts
        self._concurrency = concurrency
        self._semaphore: asyncio.Semaphore | None = None
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._primed: dict[tuple[str, str], CachedResponse] = {}
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._pool_failed = False
        self.requests_sent = 0

    async def prefetch(
        self, urls: list[str], kind: str, extract: Callable[[Any, str], Any]
    ) -> None:
        """Fill the cache for many documents the cache has never seen, using every core.

        Python's HTTP/2 framing and JSON parsing hold the GIL, and a cold scan moves about
        100 MB of project JSON: one process is CPU-bound. So the URLs are split across
        this process and forked workers, each with its own client; the workers send back
        only the small extractions. Failures are left to the normal path, which retries
        and reports them. `extract` must be picklable (a module-level function or a
        functools.partial of one)."""
        workers = min(os.cpu_count() or 1, MAX_PREFETCH_PROCESSES)
        if self.offline or self._transport is not None or workers < 2:
            return
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        # What prime() found in the cache is not fetched here, fresh or not: stale
        # entries are revalidated by the normal path, cheaply.
        todo = [u for u in urls if self.refresh or (redact(u), kind) not in self._primed]
        if len(todo) < PREFETCH_MINIMUM:
            return
        chunks = [todo[i::workers] for i in range(workers)]
        loop = asyncio.get_running_loop()
        settings = {"ttl": self.ttl, "concurrency": self._concurrency, "attempts": self.attempts}
        pool = _worker_pool(workers - 1)
        try:
            remote = [
                loop.run_in_executor(pool, _fetch_in_worker, chunk, kind, extract, settings)
                for chunk in chunks[1:]
            ]
            here = [self.get_json(u, kind, extract) for u in chunks[0]]
            results = await asyncio.gather(asyncio.gather(*remote), asyncio.gather(*here))
        finally:
            _stop(pool)
        for rows in results[0]:
            for url, data, etag, last_modified, sent in rows:
                self.store.put(redact(url), kind, data, etag, last_modified)
                self.requests_sent += sent

    def prime(self, urls: list[str], kind: str) -> None:
        """Read the cache entries for many URLs in one go."""
        for url, cached in self.store.get_many([redact(u) for u in urls], kind).items():
            self._primed[(url, kind)] = cached

    def _cached(self, key: str, kind: str) -> CachedResponse | None:
        cached = self._primed.pop((key, kind), None)
        return cached if cached is not None else self.store.get(key, kind)

    def _client_for_request(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx
            import stamina.instrumentation

            # stamina logs every retry through `logging`, which would print warnings in
            # the middle of the report; a retry that ends in failure is reported anyway.
            stamina.instrumentation.set_on_retry_hooks([])

            self._client = httpx.AsyncClient(
                http2=os.environ.get("TRUSTMAP_HTTP2", "1") != "0",
                timeout=httpx.Timeout(30.0, connect=10.0),
                limits=httpx.Limits(max_connections=self._concurrency),
                headers={"User-Agent": USER_AGENT},
                follow_redirects=True,
                transport=self._transport,
            )
            self._semaphore = asyncio.Semaphore(self._concurrency)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def get_json(
        self,
        url: str,
        kind: str,
        extract: Callable[[Any, str], Any],
        *,
        accept: str = "application/json",
        force: bool = False,
        ttl: float | None = None,
        parse: Callable[[bytes], Any] = json.loads,
        offload: bool = False,
    ) -> FetchResult:
        """`force`: the cached extraction lacks something the caller needs, so fetch the
        whole document afresh (no TTL, no revalidation: a 304 carries no body).
        `offload`: parse and extract in the decoder process (for large documents;
        `parse` and `extract` must then be picklable: module-level functions or
        functools.partial of them)."""
        key = redact(url)
        cached = self._cached(key, kind)
        fresh_enough = not (self.refresh or force)
        max_age = self.ttl if ttl is None else ttl
        if cached is not None and cached.data == _NOT_FOUND:
            if self.offline or (fresh_enough and cached.age() < min(max_age, NOT_FOUND_TTL)):
                return FetchResult("not-found", from_cache=True, error="HTTP 404 (cached)")
            cached = None  # revalidating a 404 means asking again
        if cached is not None and fresh_enough and cached.age() < max_age:
            return FetchResult("ok", cached.data, from_cache=True)
        if self.offline:
            if cached is not None:
                return FetchResult("ok", cached.data, from_cache=True, stale=True)
            return FetchResult("offline-miss", error="not in the cache (offline)")
        headers = {"Accept": accept}
        if cached is not None and fresh_enough:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        try:
            return await self._fetch(url, key, kind, extract, headers, cached, parse, offload)
        except _Retryable as exc:
            return self._failed(str(exc), cached)
        except Exception as exc:  # any transport failure is reported, never raised
            return self._failed(_describe(exc), cached)

    async def get_range(self, url: str, byte_range: str, limit: int) -> tuple[bytes, int] | None:
        """Part of a file by an HTTP range request, uncached: (bytes, the file's size), or
        None when the server does not honour ranges. Errors raise OSError/ValueError."""
        import httpx

        client = self._client_for_request()
        assert self._semaphore is not None
        try:
            async with self._semaphore:
                self.requests_sent += 1
                async with client.stream("GET", url, headers={"Range": byte_range}) as response:
                    if response.status_code != 206:
                        return None
                    size = response.headers.get("Content-Range", "").rpartition("/")[2]
                    body = await _read_capped(response, limit)
        except httpx.HTTPError as exc:
            raise OSError(_describe(exc)) from None
        return (body, int(size)) if size.isdigit() else None

    def _failed(self, message: str, cached: CachedResponse | None) -> FetchResult:
        if cached is not None:
            # An expired answer beats none; the report says it is stale.
            return FetchResult("ok", cached.data, from_cache=True, stale=True, error=message)
        return FetchResult("error", error=message)

    async def _fetch(
        self,
        url: str,
        key: str,
        kind: str,
        extract: Callable[[Any, str], Any],
        headers: dict[str, str],
        cached: CachedResponse | None,
        parse: Callable[[bytes], Any],
        offload: bool,
    ) -> FetchResult:
        import stamina

        client = self._client_for_request()
        assert self._semaphore is not None
        async for attempt in stamina.retry_context(
            on=_backoff_hook, attempts=self.attempts, timeout=90.0, wait_initial=0.5
        ):
            with attempt:
                async with self._semaphore:
                    self.requests_sent += 1
                    async with client.stream("GET", url, headers=headers) as response:
                        if response.status_code == 304 and cached is not None:
                            self.store.touch(key)
                            return FetchResult("ok", cached.data, from_cache=True)
                        if response.status_code in (404, 410):
                            self.store.put(key, kind, _NOT_FOUND, None, None)
                            return FetchResult("not-found", error=f"HTTP {response.status_code}")
                        if response.status_code == 429 or response.status_code >= 500:
                            raise _Retryable(
                                f"HTTP {response.status_code} from {redact(str(response.url))}",
                                _retry_after_seconds(response.headers.get("Retry-After")),
                            )
                        if response.status_code != 200:
                            return self._failed(f"HTTP {response.status_code}", cached)
                        body = await _read_capped(response)
                        final_url = str(response.url)
                        etag = response.headers.get("ETag")
                        last_modified = response.headers.get("Last-Modified")
        pool = self._decoder_pool() if offload else None
        if pool is not None:
            loop = asyncio.get_running_loop()
            ok, data = await loop.run_in_executor(
                pool, _decode, body, redact(final_url), parse, extract
            )
        else:
            ok, data = _decode(body, redact(final_url), parse, extract)
        if not ok:
            return self._failed(data, cached)
        self.store.put(key, kind, data, etag, last_modified)
        return FetchResult("ok", data)

    def _decoder_pool(self) -> concurrent.futures.ProcessPoolExecutor | None:
        """A worker process that parses large documents while this one keeps reading the
        network: parsing holds the GIL, so a thread would not help. Only where fork is
        cheap and there is a second core."""
        if self._pool is None and not self._pool_failed:
            if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
                self._pool_failed = True
                return None
            self._pool = _worker_pool(1)
        return self._pool


def _worker_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """Forked worker processes that end with the scan, however it ends."""
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _start_worker(parent: int) -> None:
    """First thing in a forked worker. A scan killed outright (SIGKILL, or SIGTERM before
    its handler runs) cannot stop its workers, and one left waiting for work would live
    for ever, holding the cache and the caller's pipes open. So the worker dies with
    its parent: by the kernel's parent-death signal where there is one (Linux), and
    by watching its parent PID everywhere (an orphan is re-parented)."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watcher below still ends it
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    # Ctrl-C reaches the whole process group; the parent alone decides, and stops
    # the workers itself (a worker's KeyboardInterrupt would print a traceback). The
    # parent's handlers were inherited: SIGTERM, how the parent stops a worker, kills.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Never hold the caller's stdin or stdout: `trustmap scan | head` must see the end
    # of its input when the scan ends, whatever a worker is doing.
    devnull = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1):
        os.dup2(devnull, descriptor)
    os.close(devnull)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _stop(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """End the workers now: an interrupted scan must not wait for their requests.
    (Workers that finished have nothing left to lose.)"""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()


def _fetch_in_worker(
    urls: list[str], kind: str, extract: Callable[[Any, str], Any], settings: dict[str, Any]
) -> list[tuple[str, Any, str | None, str | None, int]]:
    """In a forked worker: fetch and extract `urls` with a client of its own and a
    throw-away in-memory cache; return what should be stored, with its validators."""
    store = Store(":memory:")
    fetcher = Fetcher(store, **settings)

    async def run() -> None:
        try:
            await asyncio.gather(*(fetcher.get_json(u, kind, extract) for u in urls))
        finally:
            await fetcher.aclose()

    asyncio.run(run())
    rows = []
    store.flush()
    sent = fetcher.requests_sent
    for url in urls:
        cached = store.get(redact(url), kind)
        if cached is not None:
            rows.append((url, cached.data, cached.etag, cached.last_modified, sent))
            sent = 0  # counted once
    store.close()
    return rows


def _decode(
    body: bytes, url: str, parse: Callable[[bytes], Any], extract: Callable[[Any, str], Any]
) -> tuple[bool, Any]:
    """(True, extraction) or (False, why). Runs in the decoder process when offloaded, so
    it returns its failures instead of raising them."""
    try:
        document = parse(body)
    except ValueError:
        what = "JSON" if parse is json.loads else "document"
        return False, f"invalid {what} from {url}"
    try:
        return True, extract(document, url)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return False, f"unexpected response shape ({exc!r:.200})"


async def _read_capped(response: httpx.Response, limit: int | None = None) -> bytes:
    limit = MAX_RESPONSE_BYTES if limit is None else limit
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ValueError(f"response larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {redact(text)}"[:300]
