"""The one shared HTTP client every source uses: httpx.AsyncClient over HTTP/1.1 (HTTP/2
with TRUSTMAP_HTTP2=1), bounded concurrency, retries with backoff on 429/5xx that honour
Retry-After, and the SQLite cache in front of it all.

An index is hostile until it answers well, so every request is bounded: an overall
deadline per attempt that covers the body too (a read timeout restarts with every byte,
so an index dripping one byte a second would otherwise hang the scan), a deadline for the
whole scan after which nothing more is asked, a size cap that holds for compressed bodies,
and redirects followed only within the host that was asked. An index's credentials (from
its URL, or ~/.netrc as pip reads it) go to that index's own origin only, and never into a
URL, the cache, a log or a report.

A warm scan never imports httpx: the client is made on the first request that the cache
cannot answer.

Why HTTP/1.1 by default: a cold scan moves about 150 MB of project JSON, and Python's HTTP/2
framing (h2) costs about a second more CPU for that than HTTP/1.1 over as many connections
(benchmarks/README.md has the figures). JSON bodies are decoded with msgspec, about twice
as fast as the stdlib here, which still decides for any body msgspec refuses.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from scanner.model import InputError, NetworkError
from scanner.records import FailureCause
from scanner.store import CachedResponse, Store
from scanner.urls import without_credentials

if TYPE_CHECKING:
    import httpx

    from scanner.sources.shared import SharedAnswers

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
REQUEST_TIMEOUT = 30.0  # one attempt, body included (config `request-timeout`)
CONNECT_TIMEOUT = 10.0
SCAN_TIMEOUT = 600.0  # all the network work of one scan (config `scan-timeout`)
RETRY_BUDGET = 90.0  # all the attempts at one request, backoff included
MAX_REDIRECTS = 5
# Enrichment hosts (OSV, GitHub, deps.dev, ...) are optional: the scan must not wait for
# one that does not answer. Until a host has answered once in this scan, a few requests
# at a time go to it, with short deadlines to connect and for the first byte; after
# BREAKER_FAILURES consecutive connection failures it is not asked again in this scan.
BREAKER_FAILURES = 3
ENRICHMENT_CONNECT_TIMEOUT = 1.0
ENRICHMENT_FIRST_BYTE_TIMEOUT = 1.0
_REDIRECTS = (301, 302, 303, 307, 308)
_DEFAULT_PORTS = {"http": 80, "https": 443}

Status = Literal["ok", "not-found", "error", "offline-miss", "denied"]
Origin = tuple[str, str, int]  # scheme, host, port


@dataclass(frozen=True)
class FetchResult:
    status: Status
    data: Any = None
    from_cache: bool = False
    stale: bool = False  # answered from an expired cache entry (offline, or index down)
    error: str = ""
    # Why no data (or only stale data) came back, as a value: callers decide on this,
    # never on the words of `error`. None for a fresh answer.
    cause: FailureCause | None = None
    http_status: int = 0  # the status that said so, when one did (404, 401, 503, ...)

    def describe(self, not_found: str) -> str:
        """Why no data came back, in words for a report."""
        if self.status == "offline-miss":
            return "offline, and not in the cache"
        if self.status == "not-found":
            return not_found
        return f"the index could not be read: {self.error}"


class AccessDenied(NetworkError):
    """The index refused the request (HTTP 401/403): its credentials are missing or
    wrong. Never a silent gap in the graph: the scan ends with this one line."""


class _Failure(Exception):
    """A request that failed in a way worth saying as it is (str: the reason), and why."""

    def __init__(
        self, message: str, cause: FailureCause = FailureCause.BAD_ANSWER, http_status: int = 0
    ) -> None:
        super().__init__(message)
        self.cause = cause
        self.http_status = http_status


class _Silent(_Failure):
    """The host took the connection but sent nothing within the deadline."""


class _Retryable(_Failure):
    def __init__(self, message: str, retry_after: float | None, http_status: int) -> None:
        super().__init__(message, FailureCause.BAD_ANSWER, http_status)
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Answer:
    status_code: int
    headers: Any  # httpx.Headers
    body: bytes
    url: str  # where it finally came from, without credentials


@dataclass(frozen=True)
class _Bounds:
    attempts: int
    timeout: float  # one attempt, body included
    connect_timeout: float
    read_timeout: float | None = None  # between bytes (None: `timeout`)
    method: str = "GET"
    content: bytes | None = None


@dataclass(frozen=True)
class RawAnswer:
    """An enrichment host's answer as it came: status, headers (names in lower case) and
    body (read under the size cap, whatever the status)."""

    status_code: int
    headers: dict[str, str]
    body: bytes
    url: str


class HostUnreachable(OSError):
    """An enrichment host did not answer (str: why, naming the host), or its circuit
    breaker is open after earlier failures in this scan."""


@dataclass
class _HostState:
    """What this scan has seen of one enrichment host: its circuit breaker."""

    gate: asyncio.Semaphore  # requests in flight until the host has answered once
    failures: int = 0  # consecutive connection failures
    answered: bool = False
    broken: str = ""  # why the breaker opened; "" while closed
    skipped: int = 0  # requests not sent because it is open


@dataclass
class Prefetch:
    """Forked workers fetching documents of one `kind` (Fetcher.start_prefetch)."""

    kind: str
    urls: frozenset[str]
    share: int  # connections per process
    pool: concurrent.futures.ProcessPoolExecutor
    futures: list[concurrent.futures.Future[Any]]

    def stop(self) -> None:
        """End the workers now, whatever they are doing (collected or not)."""
        _stop(self.pool)


def _may_redirect(asked: Origin, target: Origin) -> bool:
    """Only within the host that was asked: the same origin, or its https upgrade."""
    if target == asked:
        return True
    return target[1] == asked[1] and (asked[0], target[0]) == ("http", "https")


def _origin(url: str) -> Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def _host_label(origin: Origin) -> str:
    """The host as messages name it: with its port when that is not the scheme's."""
    scheme, host, port = origin
    return host if port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"


def _strip_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without its user info, and the (user, password) it held."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    bare = redact(url)
    return bare, (unquote(parts.username or ""), unquote(parts.password or ""))


def _user_label(user: str, password: str) -> str:
    """Who the cache entries of an authenticated index belong to. A user name beside a
    password is a name; alone it is usually a token (pip's `https://TOKEN@host`), so only
    a digest of it is kept."""
    if password:
        return quote(user, safe="")
    return "token-" + hashlib.sha256(user.encode()).hexdigest()[:16]


def _netrc_credentials(host: str) -> tuple[str, str] | None:
    """The ~/.netrc entry for `host` ($NETRC names another file), read with the stdlib
    netrc module as pip does; None when there is no file or no entry."""
    import netrc

    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    if not os.path.isfile(path):
        return None
    try:
        entry = netrc.netrc(path).authenticators(host)
    except netrc.NetrcParseError as exc:
        where = f"{exc.filename}:{exc.lineno}" if exc.lineno else str(exc.filename or path)
        raise InputError(f"{where}: cannot read the netrc file: {exc.msg}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the netrc file: {exc}") from None
    if entry is None:
        return None
    login, _account, password = entry
    return (login or "", password or "") if login or password else None


def redact(url: str) -> str:
    """The URL without credentials: private mirrors put tokens in the index URL, and
    those must never reach the cache, a log or a report. Never raises, and keeps the
    host as written (an IPv6 address keeps its brackets)."""
    return without_credentials(url)


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


def use_http2() -> bool:
    """HTTP/2 only when asked for (TRUSTMAP_HTTP2=1): see the module's docstring."""
    return os.environ.get("TRUSTMAP_HTTP2", "0").strip() == "1"


_ssl_context: Any = None


def shared_ssl_context() -> Any:
    """One TLS context for every client of this process and of the prefetch workers it
    forks: loading the CA bundle costs about 0.15 s of CPU each time."""
    global _ssl_context
    if _ssl_context is None:
        import httpx

        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


def decode_json(body: bytes) -> Any:
    """A JSON body, decoded by msgspec; a body msgspec refuses (NaN, a lone surrogate,
    UTF-16, a byte-order mark...) is decoded by the stdlib, which raises ValueError for
    what is not JSON. The same values as json.loads, in half the time."""
    import msgspec.json

    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return json.loads(body)


class DecodeShaped:
    """A JSON decoder that builds only the fields `shape` declares (a msgspec Struct type,
    named "module:Name" and imported on first use) and skips the rest unbuilt: a project
    document's file entries carry URLs, sizes and digests no extraction reads, and
    building them is most of the decoding time. A body that does not fit the shape (or is
    no JSON msgspec reads) is decoded whole by decode_json, and the extraction decides
    what to do with it. Picklable: sent to the prefetch workers."""

    def __init__(self, shape: str) -> None:
        self.shape = shape

    def __call__(self, body: bytes) -> Any:
        import msgspec.json

        decoder = _shaped_decoders.get(self.shape)
        if decoder is None:
            import importlib

            module, _, name = self.shape.partition(":")
            struct = getattr(importlib.import_module(module), name)
            decoder = _shaped_decoders[self.shape] = msgspec.json.Decoder(struct)
        try:
            return decoder.decode(body)
        except msgspec.DecodeError:  # ValidationError included
            return decode_json(body)


_shaped_decoders: dict[str, Any] = {}


def _stamina() -> Any:
    """stamina, imported on the first request that may be retried (0.13 s with tenacity:
    a warm scan whose only requests go to enrichment hosts, which are never retried,
    does without it)."""
    global _stamina_quiet
    import stamina

    if not _stamina_quiet:
        import stamina.instrumentation

        # stamina logs every retry through `logging`, which would print warnings in the
        # middle of the report; a retry that ends in failure is reported anyway.
        stamina.instrumentation.set_on_retry_hooks([])
        _stamina_quiet = True
    return stamina


_stamina_quiet = False


def _backoff_hook(exc: Exception) -> bool | float:
    import httpx

    if isinstance(exc, _Retryable):
        return exc.retry_after if exc.retry_after is not None else True
    # A read that timed out already took its whole deadline: asking again would only
    # multiply it. Refused or reset connections are worth another try.
    slow = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout)
    return isinstance(exc, httpx.TransportError) and not isinstance(exc, slow)


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
        request_timeout: float = REQUEST_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        scan_timeout: float | None = None,
        deadline: float | None = None,
        credentials: dict[Origin, tuple[str, str]] | None = None,
        shared: SharedAnswers | None = None,
    ) -> None:
        """`scan_timeout`: seconds from now after which nothing more is asked and what
        is in flight is cut off (`deadline`, a time.monotonic() value, sets it outright:
        forked prefetch workers share their parent's). `credentials`: per origin, as
        `credentials` of another fetcher (the prefetch workers'). `shared`: the fresh
        answers of the command's other scans, for the sources to reuse (see
        scanner.sources.shared)."""
        self.store = store
        self.shared = shared
        self.offline = offline
        self.refresh = refresh
        self.ttl = ttl
        self.attempts = attempts
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.scan_timeout = scan_timeout
        if deadline is None and scan_timeout is not None:
            deadline = time.monotonic() + scan_timeout
        self.deadline = deadline
        # Kept in memory only: never in a URL, the cache or a message.
        self.credentials: dict[Origin, tuple[str, str]] = dict(credentials or {})
        self._indexes: dict[Origin, str] = {}  # origin -> the index's URL, for messages
        self._concurrency = concurrency
        self._semaphore: asyncio.Semaphore | None = None
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._primed: dict[tuple[str, str], CachedResponse] = {}
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._pool_failed = False
        self._pending: Prefetch | None = None  # see adopt()
        self._fetched: set[tuple[str, str]] = set()  # (cache key, kind) stored by this scan
        self.requests_sent = 0
        # Answers taken from expired cache entries: (URL without credentials, why the
        # index was not asked or failed; "" when offline), for the report.
        self.stale_answers: list[tuple[str, str]] = []
        self._never_credentials = False  # see anonymous()
        self._hosts: dict[Origin, _HostState] = {}  # enrichment hosts' circuit breakers

    def start_prefetch(
        self,
        urls: list[str],
        kind: str,
        extract: Callable[[Any, str], Any],
        parse: Callable[[bytes], Any] | None = None,
    ) -> Prefetch | None:
        """Start fetching, in forked workers (one per core), the documents of `urls` the
        cache has never seen, and return at once: a scan starts this before it reads its
        inputs, and `prefetch` with the same `kind` (on a fetcher that has `adopt`ed the
        handle) then only collects what the workers fetched. None when there is too little
        to fetch for forking to pay (or no fork, or one core). The caller stops the
        handle if it is never collected."""
        workers = min(os.cpu_count() or 1, MAX_PREFETCH_PROCESSES)
        if not self.refresh:  # only whether they are cached: their data is read later
            cached = self.store.cached_urls([self.cache_key(u) for u in urls], kind)
            urls = [u for u in urls if self.cache_key(u) not in cached]
        todo = self._worth_prefetching(urls, kind, workers)
        if not todo:
            return None
        return self._fork_workers([todo[i::workers] for i in range(workers)], kind, extract, parse)

    def adopt(self, pending: Prefetch | None) -> None:
        """Take a prefetch that another fetcher of this scan started (`start_prefetch`),
        so that this one's `prefetch` of the same kind collects it."""
        self._pending = pending

    async def prefetch(
        self,
        urls: list[str],
        kind: str,
        extract: Callable[[Any, str], Any],
        parse: Callable[[bytes], Any] | None = None,
    ) -> None:
        """Fill the cache for many documents the cache has never seen, using every core.

        Python's HTTP/2 framing and JSON parsing hold the GIL, and a cold scan moves about
        100 MB of project JSON: one process is CPU-bound. So the URLs are split across
        this process and forked workers, each with its own client; the workers send back
        only the small extractions. Failures are left to the normal path, which retries
        and reports them. `extract` must be picklable (a module-level function or a
        functools.partial of one), and so must `parse` (as for get_json). What an adopted
        prefetch of this kind fetches is collected, not fetched again."""
        pending, self._pending = self._pending, None
        if pending is not None and pending.kind == kind:
            await self._collect(pending)
            urls = [u for u in urls if u not in pending.urls]
        elif pending is not None:
            pending.stop()
        workers = min(os.cpu_count() or 1, MAX_PREFETCH_PROCESSES)
        todo = self._worth_prefetching(urls, kind, workers)
        if not todo:
            return
        chunks = [todo[i::workers] for i in range(workers)]
        started = self._fork_workers(chunks[1:], kind, extract, parse, share_of=workers)
        limit = asyncio.Semaphore(started.share)

        async def fetch_here(url: str) -> FetchResult:
            async with limit:
                return await self.get_json(url, kind, extract, parse=parse)

        await self._collect(started, [fetch_here(u) for u in chunks[0]])

    def _worth_prefetching(self, urls: list[str], kind: str, workers: int) -> list[str]:
        """The URLs to prefetch: none offline, in tests (a transport), without fork or a
        second core, or below the threshold. What prime() found in the cache is not
        fetched here, fresh or not: stale entries are revalidated by the normal path,
        cheaply."""
        if self.offline or self._transport is not None or workers < 2:
            return []
        if "fork" not in multiprocessing.get_all_start_methods():
            return []
        todo = [u for u in urls if self.refresh or (self.cache_key(u), kind) not in self._primed]
        return todo if len(todo) >= PREFETCH_MINIMUM else []

    def _fork_workers(
        self,
        chunks: list[list[str]],
        kind: str,
        extract: Callable[[Any, str], Any],
        parse: Callable[[bytes], Any] | None,
        share_of: int | None = None,
    ) -> Prefetch:
        """One forked worker per chunk, each fetching its chunk with its own client."""
        # The fetcher's concurrency is the scan's, divided among the processes: each
        # holding as many connections as one would costs more than it gains (on 2
        # cores, 12 + 12 connections fetch faster than 24 + 24; benchmarks/README.md).
        share = max(1, self._concurrency // (share_of or len(chunks)))
        # The workers keep this fetcher's deadline and credentials (passed over the
        # pool's pipe, never written anywhere).
        settings = {
            "ttl": self.ttl,
            "concurrency": share,
            "attempts": self.attempts,
            "request_timeout": self.request_timeout,
            "connect_timeout": self.connect_timeout,
            "scan_timeout": self.scan_timeout,
            "deadline": self.deadline,
            "credentials": self.credentials,
        }
        _before_forking()
        pool = _worker_pool(len(chunks))
        try:
            futures = [
                pool.submit(_fetch_in_worker, chunk, kind, extract, parse, settings)
                for chunk in chunks
            ]
        except BaseException:
            _stop(pool)
            raise
        return Prefetch(kind, frozenset(u for chunk in chunks for u in chunk), share, pool, futures)

    async def _collect(self, pending: Prefetch, here: list[Any] = ()) -> None:
        """Wait for the workers of `pending` (and this process's own share, `here`), then
        store what they fetched. The workers' requests end by the deadline; a worker that
        does not is ended with the pool, and the normal path says what is missing."""
        left = self._time_left()
        try:
            remote = [asyncio.wrap_future(f) for f in pending.futures]
            async with asyncio.timeout(None if left is None else left + 5.0):
                results = await asyncio.gather(asyncio.gather(*remote), asyncio.gather(*here))
        except TimeoutError:
            return
        finally:
            pending.stop()
        now = time.time()
        for rows in results[0]:
            for key, data, etag, last_modified, sent in rows:
                self.store.put(key, pending.kind, data, etag, last_modified, now)
                self._fetched.add((key, pending.kind))
                # Answered from memory next: reading it back from the store would decode
                # again the JSON just encoded (a fifth of a second for 200 projects).
                self._primed[key, pending.kind] = CachedResponse(
                    key, pending.kind, data, etag, last_modified, now
                )
                self.requests_sent += sent

    def prime(self, urls: list[str], kind: str) -> None:
        """Read the cache entries for many URLs in one go."""
        for key, cached in self.store.get_many([self.cache_key(u) for u in urls], kind).items():
            self._primed[(key, kind)] = cached

    def anonymous(self) -> Fetcher:
        """A fetcher like this one (the same cache, bounds and scan deadline) that sends
        no credentials to any host, reads no ~/.netrc and takes none from a URL: for
        indexes a scanned file names, which the user did not configure. Its requests are
        its own to count (`requests_sent`)."""
        sibling = Fetcher(
            self.store,
            offline=self.offline,
            refresh=self.refresh,
            ttl=self.ttl,
            concurrency=self._concurrency,
            attempts=self.attempts,
            transport=self._transport,
            request_timeout=self.request_timeout,
            connect_timeout=self.connect_timeout,
            scan_timeout=self.scan_timeout,
            deadline=self.deadline,
        )
        sibling._never_credentials = True
        return sibling

    def use_index(self, url: str) -> str:
        """Take on an index: its credentials (from its URL, else from ~/.netrc) are sent
        with every request to its origin and to no other. Returns the URL without them."""
        bare, credentials = _strip_credentials(url)
        origin = _origin(bare)
        if credentials is None and origin not in self.credentials:
            credentials = _netrc_credentials(origin[1])
        if credentials is not None:
            self.credentials[origin] = credentials
        self._indexes.setdefault(origin, bare.rstrip("/"))
        return bare

    def cache_key(self, url: str) -> str:
        """Where `url`'s answer is cached: the URL without credentials and, for an origin
        that is sent credentials, the user it was asked as (never the password), so that
        two accounts of a private index never share answers."""
        bare, credentials = _strip_credentials(url)
        credentials = credentials or self.credentials.get(_origin(bare))
        if credentials is None:
            return bare
        parts = urlsplit(bare)
        netloc = f"{_user_label(*credentials)}@{parts.netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def _take_url(self, url: str) -> str:
        """A URL handed in with credentials (an old-style caller) teaches them for its
        origin; requests only ever go out without them."""
        bare, credentials = _strip_credentials(url)
        if credentials is not None and not self._never_credentials:
            self.credentials.setdefault(_origin(bare), credentials)
        return bare

    def _time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def _out_of_time(self) -> str:
        return f"the scan's time limit of {self.scan_timeout:g} s (scan-timeout) ran out"

    def denied_message(self, url: str, status: int) -> str:
        index = self._indexes.get(_origin(url))
        who = f"the index {index}" if index else f"{_origin(url)[1]}"
        return (
            f"{who} refused access (HTTP {status}) to {redact(url)}: check the credentials "
            "in the index URL or in ~/.netrc ($NETRC)"
        )

    def _cached(self, key: str, kind: str) -> CachedResponse | None:
        cached = self._primed.pop((key, kind), None)
        return cached if cached is not None else self.store.get(key, kind)

    def _client_for_request(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            # Every connection kept alive: over HTTP/1.1 each one closed is a new TLS
            # handshake (httpx keeps 20 by default). As many to each host as requests
            # may be in flight (the index and its file host: the resolver's range reads),
            # so that neither host's idle connections are closed to open the other's;
            # the semaphore still bounds the requests in flight.
            limits = httpx.Limits(
                max_connections=self._concurrency, max_keepalive_connections=self._concurrency
            )
            transport = self._transport
            if transport is None:
                lookups = _ResolvedOnce(None)

                def pool() -> httpx.AsyncHTTPTransport:
                    made = httpx.AsyncHTTPTransport(
                        http2=use_http2(), limits=limits, verify=shared_ssl_context()
                    )
                    _resolve_once_for(made, lookups)
                    return made

                transport = _PoolPerHost(pool)
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.request_timeout, connect=self.connect_timeout),
                # Only what _Inflater can decode within the size cap.
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
                # Redirects are followed by _exchange, within the asked host only.
                follow_redirects=False,
                transport=transport,
                # For a proxy from the environment, which gets a transport of its own.
                http2=use_http2(),
                limits=limits,
                verify=shared_ssl_context() if self._transport is None else True,
            )
            self._semaphore = asyncio.Semaphore(self._concurrency)
        return self._client

    async def aclose(self) -> None:
        if self._pending is not None:
            self._pending.stop()
            self._pending = None
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
        parse: Callable[[bytes], Any] | None = None,
        offload: bool = False,
        attempts: int | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> FetchResult:
        """`force`: the cached extraction lacks something the caller needs, so fetch the
        whole document afresh (no TTL, no revalidation: a 304 carries no body).
        `offload`: parse and extract in the decoder process (for large documents;
        `parse` and `extract` must then be picklable: module-level functions or
        functools.partial of them). `attempts`, `timeout`, `connect_timeout`: other
        bounds than the fetcher's, for a remote the scan can do without."""
        parse = decode_json if parse is None else parse
        url = self._take_url(url)
        key = self.cache_key(url)
        cached = self._cached(key, kind)
        # --refresh asks again what was cached before this scan, not what it just fetched.
        fresh_enough = not force and (not self.refresh or (key, kind) in self._fetched)
        max_age = self.ttl if ttl is None else ttl
        if cached is not None and cached.data == _NOT_FOUND:
            if self.offline or (fresh_enough and cached.age() < min(max_age, NOT_FOUND_TTL)):
                return FetchResult(
                    "not-found",
                    from_cache=True,
                    error="HTTP 404 (cached)",
                    cause=FailureCause.NOT_FOUND,
                    http_status=404,
                )
            cached = None  # revalidating a 404 means asking again
        if cached is not None and fresh_enough and cached.age() < max_age:
            return FetchResult("ok", cached.data, from_cache=True)
        if self.offline:
            if cached is not None:
                self.stale_answers.append((redact(url), ""))
                return FetchResult(
                    "ok", cached.data, from_cache=True, stale=True, cause=FailureCause.OFFLINE
                )
            return FetchResult(
                "offline-miss", error="not in the cache (offline)", cause=FailureCause.OFFLINE
            )
        headers = {"Accept": accept}
        if cached is not None and fresh_enough:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        bounds = _Bounds(
            attempts or self.attempts,
            timeout or self.request_timeout,
            connect_timeout or self.connect_timeout,
        )
        import httpx

        try:
            return await self._fetch(
                url, key, kind, extract, headers, cached, parse, offload, bounds
            )
        except _Failure as exc:
            return self._failed(str(exc), cached, url, exc.cause, exc.http_status)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, *_READ_FAILURES) as exc:
            # A transport or decoding failure is reported (facts unknown), never raised.
            cause = FailureCause.BAD_ANSWER
            if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
                cause = FailureCause.UNREACHABLE  # the host, not this page
            return self._failed(_describe(exc), cached, url, cause)

    async def call(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        limit: int | None = None,
    ) -> RawAnswer:
        """One request to an enrichment host, uncached and not retried (the source
        decides what a status means and what to cache), behind the host's circuit
        breaker. Raises HostUnreachable when it cannot be reached or its breaker is
        open; the answer may be any status."""
        import httpx

        url = self._take_url(url)
        origin = _origin(url)
        label = _host_label(origin)
        host = self._hosts.get(origin)
        if host is None:
            host = self._hosts[origin] = _HostState(asyncio.Semaphore(BREAKER_FAILURES))
        if host.broken:
            host.skipped += 1
            raise HostUnreachable(host.broken)
        gate = None if host.answered else host.gate
        if gate is not None:
            await gate.acquire()
        try:
            if host.broken:  # it broke while this request waited at the gate
                host.skipped += 1
                raise HostUnreachable(host.broken)
            bounds = _Bounds(
                1,
                self.request_timeout,
                min(self.connect_timeout, ENRICHMENT_CONNECT_TIMEOUT),
                None if host.answered else ENRICHMENT_FIRST_BYTE_TIMEOUT,
                method,
                content,
            )
            try:
                answer = await self._exchange(url, headers or {}, limit, bounds, None)
            except (httpx.TransportError, _Silent) as exc:
                host.failures += 1
                why = str(exc) if isinstance(exc, _Silent) else _describe(exc)
                reason = f"{label} could not be reached ({why})"
                # The packages asked after the breaker opened are given the same reason
                # as those asked before: one cause, said in one way (the scan's note
                # adds that the host was given up).
                if host.failures >= BREAKER_FAILURES and not host.broken:
                    host.broken = reason
                raise HostUnreachable(reason) from None
            except _Failure as exc:
                raise HostUnreachable(str(exc)) from None
            except (httpx.HTTPError, *_READ_FAILURES) as exc:
                raise OSError(f"{label}: {_describe(exc)}") from None
        finally:
            if gate is not None:
                gate.release()
        host.failures = 0
        host.answered = True
        headers_seen = {k.lower(): v for k, v in answer.headers.items()}
        return RawAnswer(answer.status_code, headers_seen, answer.body, answer.url)

    def unreachable_hosts(self) -> dict[str, str]:
        """Enrichment hosts whose circuit breaker opened in this scan: host -> why."""
        return {_host_label(o): state.broken for o, state in self._hosts.items() if state.broken}

    async def get_range(self, url: str, byte_range: str, limit: int) -> tuple[bytes, int] | None:
        """Part of a file by an HTTP range request, uncached: (bytes, the file's size), or
        None when the server does not honour ranges. Errors raise OSError/ValueError;
        a refusal (401/403) raises AccessDenied."""
        import httpx

        url = self._take_url(url)
        bounds = _Bounds(1, self.request_timeout, self.connect_timeout)
        try:
            answer = await self._exchange(url, {"Range": byte_range}, limit, bounds, (206,))
        except _Failure as exc:
            raise OSError(str(exc)) from None
        except httpx.HTTPError as exc:
            raise OSError(_describe(exc)) from None
        if answer.status_code in (401, 403):
            raise AccessDenied(self.denied_message(url, answer.status_code))
        if answer.status_code != 206:
            return None
        size = answer.headers.get("Content-Range", "").rpartition("/")[2]
        return (answer.body, int(size)) if size.isdigit() else None

    def _failed(
        self,
        message: str,
        cached: CachedResponse | None,
        url: str,
        cause: FailureCause,
        http_status: int = 0,
    ) -> FetchResult:
        if cached is not None:
            # An expired answer beats none; the report says it is stale.
            self.stale_answers.append((redact(url), message))
            return FetchResult(
                "ok",
                cached.data,
                from_cache=True,
                stale=True,
                error=message,
                cause=cause,
                http_status=http_status,
            )
        return FetchResult("error", error=message, cause=cause, http_status=http_status)

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
        bounds: _Bounds,
    ) -> FetchResult:
        stamina = _stamina()
        left = self._time_left()
        budget = RETRY_BUDGET if left is None else max(0.001, min(RETRY_BUDGET, left))
        started = time.monotonic()
        async for attempt in stamina.retry_context(
            on=_backoff_hook, attempts=bounds.attempts, timeout=budget, wait_initial=0.5
        ):
            with attempt:
                answer = await self._exchange(url, headers, None, bounds, (200,))
                status = answer.status_code
                if status == 429 or status >= 500:
                    retry_after = _retry_after_seconds(answer.headers.get("Retry-After"))
                    message = f"HTTP {status} from {answer.url}"
                    if retry_after is not None and retry_after > budget - (
                        time.monotonic() - started
                    ):
                        # Waiting would outlast the time this request has: say so now.
                        raise _Failure(
                            f"{message} (Retry-After {retry_after:g} s)",
                            FailureCause.BAD_ANSWER,
                            status,
                        )
                    raise _Retryable(message, retry_after, status)
        if status == 304 and cached is not None:
            self.store.touch(key, kind)
            self._fetched.add((key, kind))
            return FetchResult("ok", cached.data, from_cache=True)
        if status in (404, 410):
            self.store.put(key, kind, _NOT_FOUND, None, None)
            self._fetched.add((key, kind))
            return FetchResult(
                "not-found",
                error=f"HTTP {status}",
                cause=FailureCause.NOT_FOUND,
                http_status=status,
            )
        if status in (401, 403):
            # Never answered from an expired entry: wrong credentials are to be fixed.
            return FetchResult(
                "denied",
                error=self.denied_message(url, status),
                cause=FailureCause.REFUSED,
                http_status=status,
            )
        if status != 200:
            return self._failed(f"HTTP {status}", cached, url, FailureCause.BAD_ANSWER, status)
        pool = self._decoder_pool() if offload else None
        if pool is not None:
            loop = asyncio.get_running_loop()
            ok, data = await loop.run_in_executor(
                pool, _decode, answer.body, answer.url, parse, extract
            )
        else:
            ok, data = _decode(answer.body, answer.url, parse, extract)
        if not ok:
            return self._failed(data, cached, url, FailureCause.BAD_ANSWER)
        self.store.put(
            key, kind, data, answer.headers.get("ETag"), answer.headers.get("Last-Modified")
        )
        self._fetched.add((key, kind))
        return FetchResult("ok", data)

    async def _exchange(
        self,
        url: str,
        headers: dict[str, str],
        limit: int | None,
        bounds: _Bounds,
        with_body: tuple[int, ...] | None,
    ) -> _Answer:
        """One attempt at `url`, redirects included, within the attempt's deadline (or
        what is left of the scan's, if less): the status, headers and (for a status in
        `with_body`, or any when None) the body read under the size cap."""
        client = self._client_for_request()
        assert self._semaphore is not None
        async with self._semaphore:
            left = self._time_left()
            if left is not None and left <= 0:
                raise _Failure(self._out_of_time(), FailureCause.TIME_LIMIT)
            seconds = bounds.timeout if left is None else min(bounds.timeout, left)
            self.requests_sent += 1
            try:
                async with asyncio.timeout(seconds):
                    return await self._follow(client, url, headers, limit, bounds, with_body)
            except TimeoutError:
                if seconds < bounds.timeout:
                    raise _Failure(self._out_of_time(), FailureCause.TIME_LIMIT) from None
                raise _Silent(
                    f"it did not answer within {seconds:g} s", FailureCause.UNREACHABLE
                ) from None

    async def _follow(
        self,
        client: httpx.AsyncClient,
        url: str,
        headers: dict[str, str],
        limit: int | None,
        bounds: _Bounds,
        with_body: tuple[int, ...] | None,
    ) -> _Answer:
        import httpx

        asked = _origin(url)
        current = url
        timeout = httpx.Timeout(
            bounds.timeout,
            connect=bounds.connect_timeout,
            read=bounds.read_timeout or bounds.timeout,
        )
        for hop in range(MAX_REDIRECTS + 1):
            if hop:
                self.requests_sent += 1
            credentials = self.credentials.get(_origin(current))
            request = client.build_request(
                bounds.method, current, headers=headers, content=bounds.content, timeout=timeout
            )
            response = await client.send(
                request, stream=True, auth=httpx.BasicAuth(*credentials) if credentials else None
            )
            try:
                location = response.headers.get("Location")
                if response.status_code in _REDIRECTS and location:
                    # Credentials in a Location are the server's words: never taken.
                    target, _ = _strip_credentials(urljoin(current, location))
                    if not _may_redirect(asked, _origin(target)):
                        raise _Failure(
                            f"redirected from {redact(current)} to another host "
                            f"({redact(target)}); not followed"
                        )
                    current = target
                    continue
                body = b""
                if with_body is None or response.status_code in with_body:
                    body = await _read_capped(response, limit)
                else:
                    await _drain_short_body(response)
                return _Answer(response.status_code, response.headers, body, redact(current))
            finally:
                await response.aclose()
        raise _Failure(f"more than {MAX_REDIRECTS} redirects from {redact(url)}")

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


def resolve_each_host_once(client: httpx.AsyncClient) -> None:
    """Look each host up once per client, not once per connection: a scan opens 24
    connections or more at once, and resolvers that drop bursts of lookups (this is
    seen behind container and VPC resolvers) answer some of them only on the retry,
    five seconds later. httpx has no setting for it: the backend of its default
    transport's connection pool is wrapped (left alone if httpx changes its shape)."""
    _resolve_once_for(getattr(client, "_transport", None), _ResolvedOnce(None))


def _resolve_once_for(transport: Any, lookups: _ResolvedOnce) -> None:
    """Wrap the network backend of `transport`'s pool (an httpx.AsyncHTTPTransport) in
    a _ResolvedOnce that shares the lookups of `lookups`."""
    import httpcore

    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if type(pool) is httpcore.AsyncConnectionPool and backend is not None:
        pool._network_backend = _ResolvedOnce(backend, lookups._lookups)


class _PoolPerHost:
    """An httpx transport with a connection pool for each origin. httpcore's pool looks
    at every connection it holds each time it assigns a request (some checks at every
    connection for every idle one: the square of its size); the resolver keeps 24
    connections to the index and as many to its file host, and one pool for both cost
    a tenth of a cold resolution's CPU."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._pools: dict[tuple[bytes, bytes, int | None], Any] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._make()
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()


class _ResolvedOnce:
    """An httpcore network backend that resolves each (host, port) once, shared by every
    connection to it, then connects to its addresses in turn (the one that answered
    last, first), all within the connect timeout, as the wrapped backend would. A
    failed lookup is not kept: the next connection asks again. `lookups`: those of
    another _ResolvedOnce, to share them (each pool has its own backend)."""

    def __init__(
        self, inner: Any, lookups: dict[tuple[str, int], asyncio.Future[list[str]]] | None = None
    ) -> None:
        self._inner = inner
        self._lookups: dict[tuple[str, int], asyncio.Future[list[str]]] = (
            {} if lookups is None else lookups
        )

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Any = None) -> Any:  # fmt: skip
        import httpcore

        deadline = None if timeout is None else time.monotonic() + timeout
        addresses = await self._addresses(host, port, timeout)
        failure: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in list(addresses):
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise httpcore.ConnectTimeout(f"connecting to {host} took over {timeout:g} s")
            try:
                stream = await self._inner.connect_tcp(
                    address, port, timeout=left, local_address=local_address,
                    socket_options=socket_options,
                )  # fmt: skip
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            if addresses[0] != address:  # tried first by the next connection
                addresses.remove(address)
                addresses.insert(0, address)
            return _ReadableCheaply(stream)
        raise failure

    async def _addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        import httpcore

        key = (host, port)
        lookup = self._lookups.get(key)
        if lookup is None:
            lookup = self._lookups[key] = asyncio.ensure_future(_lookup(host, port))
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(lookup)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"looking up {host} took over {timeout:g} s") from None
        except OSError as exc:
            if self._lookups.get(key) is lookup:
                del self._lookups[key]
            raise httpcore.ConnectError(str(exc)) from exc

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        return await self._inner.connect_unix_socket(*args, **kwargs)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _ReadableCheaply:
    """An httpcore network stream whose "is_readable" (asked of every idle connection
    each time the pool assigns a request, to find the ones the server closed) is one
    poll of the socket. anyio's answer rebuilds every attribute of the TLS and socket
    layers first, a getpeername call included: with 48 connections kept alive that was
    a quarter of a cold resolution's event-loop time."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> Any:  # fmt: skip
        return _ReadableCheaply(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return _socket_readable(self._socket)
        return self._inner.get_extra_info(info)


def _socket_readable(sock: Any) -> bool:
    """Whether reading the socket would not block (data, or the peer's close); a socket
    already closed counts as readable, as httpcore has it."""
    import select

    descriptor = sock.fileno()
    if descriptor < 0:
        return True
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([descriptor], [], [], 0)[0])
    poll = select.poll()
    poll.register(descriptor, select.POLLIN)
    return bool(poll.poll(0))


async def _lookup(host: str, port: int) -> list[str]:
    """The host's addresses, in the resolver's order (an IPv6 one with its scope)."""
    import socket

    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = []
    for family, _, _, _, address in infos:
        text = str(address[0])
        if family == socket.AF_INET6 and len(address) > 3 and address[3]:
            text = f"{text}%{address[3]}"
        addresses.append(text)
    return list(dict.fromkeys(addresses))


def _before_forking() -> None:
    """What every prefetch worker needs, made once here and inherited: the HTTP and JSON
    modules and the TLS context (each worker would otherwise import and load them again)."""
    import msgspec.json  # noqa: F401
    import stamina  # noqa: F401

    shared_ssl_context()


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
    results = getattr(pool, "_result_queue", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    # A worker killed halfway through sending its result leaves the pool's manager thread
    # waiting for the rest for ever, and the interpreter joins that thread at exit: a
    # process that hangs after its output (pytest did). The workers' ends of the pipe
    # close as they die; closing this process's end too gives the thread end-of-file.
    if results is not None:
        results._writer.close()


def _fetch_in_worker(
    urls: list[str],
    kind: str,
    extract: Callable[[Any, str], Any],
    parse: Callable[[bytes], Any] | None,
    settings: dict[str, Any],
) -> list[tuple[str, Any, str | None, str | None, int]]:
    """In a forked worker: fetch and extract `urls` with a client of its own and a
    throw-away in-memory cache; return what should be stored (by cache key), with its
    validators."""
    store = Store(":memory:")
    fetcher = Fetcher(store, **settings)

    async def run() -> None:
        try:
            await asyncio.gather(*(fetcher.get_json(u, kind, extract, parse=parse) for u in urls))
        finally:
            await fetcher.aclose()

    asyncio.run(run())
    rows = []
    # Read back from the store's pending writes: flushing them to the in-memory database
    # first would only cost the import of sqlite-utils in every worker.
    sent = fetcher.requests_sent
    for url in urls:
        key = fetcher.cache_key(url)
        cached = store.get(key, kind)
        if cached is not None:
            rows.append((key, cached.data, cached.etag, cached.last_modified, sent))
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
        what = "JSON" if parse is decode_json or isinstance(parse, DecodeShaped) else "document"
        return False, f"invalid {what} from {url}"
    try:
        return True, extract(document, url)
    except (LookupError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        return False, f"unexpected response shape ({exc!r:.200})"


_SHORT_BODY_BYTES = 16 * 1024
_SHORT_BODY_SECONDS = 1.0


async def _drain_short_body(response: httpx.Response) -> None:
    """Read and drop the body of an answer whose body is not wanted (a 404), when it is
    declared small: a connection closed with its body unread costs the next request a
    new TLS handshake, and a resolution behind a mirror that serves some `.metadata`
    files and not others meets such a 404 for many wheels. Whatever goes wrong here (a
    body that does not come within a second, too) only costs that connection."""
    import httpx

    declared = response.headers.get("Content-Length", "")
    if not declared.isdigit() or int(declared) > _SHORT_BODY_BYTES:
        return
    try:
        async with asyncio.timeout(_SHORT_BODY_SECONDS):
            await _read_capped(response, _SHORT_BODY_BYTES)
    except (TimeoutError, httpx.HTTPError, httpx.StreamError, *_READ_FAILURES):
        pass


async def _read_capped(response: httpx.Response, limit: int | None = None) -> bytes:
    """The body, decoded, or ValueError once it passes `limit` bytes. Decoded here, not
    by httpx, so that the cap holds while inflating: httpx inflates each network chunk
    whole, and 64 KiB of a gzip bomb is 64 MiB."""
    limit = MAX_RESPONSE_BYTES if limit is None else limit
    if response.is_stream_consumed:  # made in memory (a test transport): already whole
        if len(response.content) > limit:
            raise ValueError(f"response larger than {limit} bytes")
        return response.content
    declared = response.headers.get("Content-Length", "")
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if declared.isdigit() and int(declared) > limit and encoding in ("", "identity"):
        raise ValueError(f"response larger than {limit} bytes")
    inflater = _Inflater(encoding)
    chunks: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
        chunk = inflater.feed(raw, limit - size)
        size += len(chunk)
        if size > limit:
            raise ValueError(f"response larger than {limit} bytes")
        chunks.append(chunk)
    chunks.append(inflater.finish())
    return b"".join(chunks)


class _Inflater:
    """Content-Encoding gzip or deflate, inflated at most `room` + 1 bytes at a time."""

    def __init__(self, encoding: str) -> None:
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        else:
            raise ValueError(f"unsupported Content-Encoding {encoding[:40]!r}")
        self._raw_deflate_tried = encoding != "deflate"

    def feed(self, data: bytes, room: int) -> bytes:
        if self._zlib is None:
            return data
        try:
            # Output stops one byte past the room: enough to know the cap is passed.
            return self._zlib.decompress(data, max(room, 0) + 1)
        except zlib.error:
            if self._raw_deflate_tried:
                raise ValueError("corrupt compressed response") from None
            # Some servers send "deflate" without the zlib header.
            self._raw_deflate_tried = True
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.feed(data, room)

    def finish(self) -> bytes:
        return self._zlib.flush() if self._zlib is not None else b""


# What reading and decoding an answer can raise besides httpx's errors: the socket and
# TLS layers (OSError), the size cap and a body that is not JSON (ValueError), a broken
# compression stream (zlib.error), a document nested too deep to parse (RecursionError),
# and the decoder process pool dying under the scan (BrokenExecutor). Extractors' own
# errors (KeyError, TypeError, ...) are caught where they run, in `_decode`.
_READ_FAILURES: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    zlib.error,
    RecursionError,
    concurrent.futures.BrokenExecutor,
)


def _describe(exc: BaseException) -> str:
    """`ConnectError: [Errno -2] Name or service not known`; an exception without a
    message is its name alone (not `ConnectTimeout: ConnectTimeout`)."""
    text = str(exc)
    if not text:
        return type(exc).__name__
    return f"{type(exc).__name__}: {redact(text)}"[:300]
