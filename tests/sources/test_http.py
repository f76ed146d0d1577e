"""The shared fetcher and its SQLite cache, against the local fixture index: TTL and
revalidation, offline answers, retries, what is (and is not) cached, and failures that
must end in a result, never an exception."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from scanner.records import FailureCause
from scanner.sources import http
from scanner.sources.http import Fetcher, FetchResult
from scanner.store import Store

KIND = "test-kind-v1"
OLD = 3 * 24 * 3600.0  # older than the default TTL and the not-found TTL


def name_of(doc: Any, url: str) -> dict[str, Any]:
    return {"name": doc["info"]["name"], "version": doc["info"]["version"]}


def fetch(fetcher: Fetcher, url: str, extract=name_of, **kwargs: Any) -> FetchResult:
    async def run() -> FetchResult:
        try:
            return await fetcher.get_json(url, KIND, extract, **kwargs)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


def lower_keys(headers: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def closed_port_url() -> str:
    """A 127.0.0.1 URL nothing listens on: an index that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def store(tmp_path: Path):
    store = Store(tmp_path / "cache" / "trustmap.db")
    yield store
    store.close()


def test_fresh_cache_entry_within_ttl_sends_no_request(fixture_index, store):
    url = f"{fixture_index.url}/pypi/six/json"
    first = fetch(Fetcher(store), url)
    assert first.status == "ok" and not first.from_cache
    assert first.data["name"] == "six"
    assert fixture_index.paths() == ["/pypi/six/json"]

    second = fetch(Fetcher(store), url)
    assert second == FetchResult("ok", first.data, from_cache=True)
    assert fixture_index.paths() == ["/pypi/six/json"]


def test_expired_entry_is_revalidated_with_etag_and_304_keeps_data(fixture_index, store):
    """A 304 carries no body: the stored extraction is served as it is, and only its
    fetch time moves forward."""
    url = f"{fixture_index.url}/pypi/six/json"
    fetch(Fetcher(store), url)
    etag = store.get(url, KIND).etag
    assert etag
    marker = {"marker": "kept from the cache"}
    long_ago = time.time() - OLD
    store.put(url, KIND, marker, etag, None, fetched_at=long_ago)
    fixture_index.requests.clear()

    result = fetch(Fetcher(store), url)

    assert result.status == "ok" and result.from_cache and not result.stale
    assert result.data == marker
    [(_, path, headers)] = fixture_index.requests
    assert path == "/pypi/six/json"
    assert lower_keys(headers)["if-none-match"] == etag
    entry = store.get(url, KIND)
    assert entry.data == marker
    assert entry.fetched_at > long_ago + OLD / 2


def test_small_ttl_makes_an_entry_expire(fixture_index, store):
    url = f"{fixture_index.url}/pypi/idna/json"
    fetch(Fetcher(store), url)
    fetch(Fetcher(store, ttl=0.0), url)
    assert fixture_index.paths() == ["/pypi/idna/json", "/pypi/idna/json"]
    assert "if-none-match" in lower_keys(fixture_index.requests[1][2])


def test_refresh_ignores_the_ttl(fixture_index, store):
    url = f"{fixture_index.url}/pypi/six/json"
    fetch(Fetcher(store), url)
    fixture_index.requests.clear()

    result = fetch(Fetcher(store, refresh=True), url)

    assert result.status == "ok" and not result.from_cache
    assert fixture_index.paths() == ["/pypi/six/json"]


def test_offline_answers_from_cache_including_stale_and_sends_nothing(fixture_index, store):
    fresh_url = f"{fixture_index.url}/pypi/six/json"
    stale_url = f"{fixture_index.url}/pypi/idna/json"
    missing_url = f"{fixture_index.url}/pypi/rich/json"
    fetch(Fetcher(store), fresh_url)
    fetch(Fetcher(store), stale_url)
    store.touch(stale_url, KIND, time.time() - OLD)
    fixture_index.requests.clear()
    fetcher = Fetcher(store, offline=True)

    fresh = fetch(fetcher, fresh_url)
    stale = fetch(fetcher, stale_url)
    missing = fetch(fetcher, missing_url)

    assert fresh.status == "ok" and fresh.from_cache and not fresh.stale
    assert stale.status == "ok" and stale.from_cache and stale.stale
    assert stale.data["name"] == "idna"
    assert missing.status == "offline-miss" and missing.data is None
    assert fixture_index.requests == []
    assert fetcher.requests_sent == 0
    assert fetcher._client is None  # no HTTP client was even made


def test_server_error_then_success_is_retried(fixture_index, store):
    url = f"{fixture_index.url}/pypi/six/json"
    fixture_index.failures["/pypi/six/json"] = [(500, {})]

    result = fetch(Fetcher(store), url)

    assert result.status == "ok" and result.data["name"] == "six"
    assert fixture_index.paths() == ["/pypi/six/json", "/pypi/six/json"]


def test_429_with_retry_after_is_retried_after_the_given_seconds(fixture_index, store, monkeypatch):
    """The backoff hook hands stamina the Retry-After value as the wait (stamina's
    testing mode, set in conftest, then skips the actual sleep)."""
    waits: list[bool | float] = []
    real_hook = http._backoff_hook

    def recording_hook(exc: Exception) -> bool | float:
        waits.append(real_hook(exc))
        return waits[-1]

    monkeypatch.setattr(http, "_backoff_hook", recording_hook)
    url = f"{fixture_index.url}/pypi/six/json"
    fixture_index.failures["/pypi/six/json"] = [(429, {"Retry-After": "1"})]

    result = fetch(Fetcher(store), url)

    assert result.status == "ok" and result.data["name"] == "six"
    assert waits == [1.0]
    assert len(fixture_index.requests) == 2


def test_backoff_hook_returns_retry_after_or_plain_retry():
    import httpx

    assert http._backoff_hook(http._Retryable("HTTP 429", 7.0, 429)) == 7.0
    assert http._backoff_hook(http._Retryable("HTTP 503", None, 503)) is True
    assert http._backoff_hook(httpx.ConnectError("refused")) is True
    assert http._backoff_hook(ValueError("too large")) is False


def test_retry_after_parses_seconds_and_http_dates():
    assert http._retry_after_seconds("1") == 1.0
    assert http._retry_after_seconds("100000") == 120.0  # capped
    assert http._retry_after_seconds(None) is None
    assert http._retry_after_seconds("soon") is None
    gmt_in_30s = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25.0 <= http._retry_after_seconds(gmt_in_30s) <= 30.0
    assert http._retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # past


def test_persistent_503_ends_in_error_and_is_not_cached(fixture_index, store):
    url = f"{fixture_index.url}/pypi/six/json"
    fixture_index.failures["/pypi/six/json"] = [(503, {})] * 10

    result = fetch(Fetcher(store), url)

    assert result.status == "error"
    assert "503" in result.error
    assert (result.cause, result.http_status) == (FailureCause.BAD_ANSWER, 503)
    assert len(fixture_index.requests) > 1  # retried before giving up
    assert store.get(url, KIND) is None
    fixture_index.failures.clear()
    again = fetch(Fetcher(store), url)
    assert again.status == "ok" and not again.from_cache


def test_other_client_errors_end_in_error_without_retry_or_caching(fixture_index, store):
    url = f"{fixture_index.url}/pypi/six/json"
    fixture_index.failures["/pypi/six/json"] = [(400, {})]

    result = fetch(Fetcher(store), url)

    assert result.status == "error" and result.error == "HTTP 400"
    assert len(fixture_index.requests) == 1
    assert store.get(url, KIND) is None


@pytest.mark.parametrize("status", [401, 403])
def test_a_refusal_is_denied_naming_the_index_and_never_answered_stale(
    fixture_index, store, status
):
    url = f"{fixture_index.url}/pypi/six/json"
    store.put(url, KIND, {"name": "six"}, None, None, fetched_at=time.time() - OLD)
    fixture_index.failures["/pypi/six/json"] = [(status, {})]
    fetcher = Fetcher(store)
    fetcher.use_index(fixture_index.url.replace("http://", "http://alice:pw9@") + "/simple")

    result = fetch(fetcher, url)

    assert result.status == "denied" and result.data is None
    assert (result.cause, result.http_status) == (FailureCause.REFUSED, status)
    assert f"the index {fixture_index.url}/simple refused access (HTTP {status})" in result.error
    assert "pw9" not in result.error
    assert len(fixture_index.requests) == 1


def test_404_is_cached_as_not_found_for_an_hour(fixture_index, store):
    url = f"{fixture_index.url}/pypi/no-such-project/json"

    first = fetch(Fetcher(store), url)
    second = fetch(Fetcher(store), url)

    assert first.status == "not-found" and not first.from_cache
    assert second.status == "not-found" and second.from_cache
    assert first.cause == second.cause == FailureCause.NOT_FOUND
    assert fixture_index.paths() == ["/pypi/no-such-project/json"]
    # Over an hour later the index is asked again, even though the TTL is a day.
    store.touch(url, KIND, time.time() - 3700)
    third = fetch(Fetcher(store), url)
    assert third.status == "not-found" and not third.from_cache
    assert len(fixture_index.requests) == 2


def test_offline_answers_a_cached_404_as_not_found(fixture_index, store):
    url = f"{fixture_index.url}/pypi/no-such-project/json"
    fetch(Fetcher(store), url)
    store.touch(url, KIND, time.time() - OLD)

    result = fetch(Fetcher(store, offline=True), url)

    assert result.status == "not-found" and result.from_cache
    assert len(fixture_index.requests) == 1


@pytest.mark.parametrize("outage", ["connection refused", "persistent 503"])
def test_expired_entry_is_used_as_stale_when_the_index_is_down(fixture_index, store, outage):
    base = closed_port_url() if outage == "connection refused" else fixture_index.url
    url = f"{base}/pypi/six/json"
    fixture_index.failures["/pypi/six/json"] = [(503, {})] * 10
    saved = {"name": "six", "version": "1.16.0"}
    store.put(url, KIND, saved, '"etag"', None, fetched_at=time.time() - OLD)

    result = fetch(Fetcher(store), url)

    assert result.status == "ok"
    assert result.stale and result.from_cache
    assert result.data == saved
    assert result.error  # says why the answer is stale
    expected = (
        (FailureCause.UNREACHABLE, 0)
        if outage == "connection refused"
        else (FailureCause.BAD_ANSWER, 503)
    )
    assert (result.cause, result.http_status) == expected


def test_extractor_sees_the_response_url_without_credentials(fixture_index, store):
    """Private mirrors put tokens in the index URL; they must not reach an extractor (which
    resolves file URLs against it) nor the cache."""
    seen: list[str] = []

    def extract(doc: Any, url: str) -> dict[str, Any]:
        seen.append(url)
        return {"name": doc["info"]["name"], "base": url}

    authed = fixture_index.url.replace("http://", "http://alice:s3cret-token@")
    result = fetch(Fetcher(store), f"{authed}/pypi/six/json", extract)

    assert result.status == "ok"
    assert seen == [f"{fixture_index.url}/pypi/six/json"]
    assert "authorization" in lower_keys(fixture_index.requests[0][2])  # the token was used
    store.flush()
    rows = store.conn.execute("SELECT url, data, etag FROM http_answers").fetchall()
    assert rows and all("s3cret" not in " ".join(map(str, row)) for row in rows)
    # Kept under the user it was asked as, never the password.
    user_url = fixture_index.url.replace("http://", "http://alice@")
    assert store.get(f"{user_url}/pypi/six/json", KIND) is not None
    assert store.get(f"{fixture_index.url}/pypi/six/json", KIND) is None


def test_error_message_carries_no_credentials(store):
    authed = closed_port_url().replace("http://", "http://alice:s3cret-token@")

    result = fetch(Fetcher(store), f"{authed}/pypi/six/json")

    assert result.status == "error"
    assert "s3cret" not in result.error


def cap_responses(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", limit)


def test_oversized_response_ends_in_an_error_not_an_exception(fixture_index, store, monkeypatch):
    cap_responses(monkeypatch, 1000)
    url = f"{fixture_index.url}/pypi/six/json"

    result = fetch(Fetcher(store), url)

    assert result.status == "error"
    assert "larger than 1000 bytes" in result.error
    assert store.get(url, KIND) is None
    assert len(fixture_index.requests) == 1  # a size cap is not worth retrying


def test_max_response_bytes_is_read_when_fetching(fixture_index, store, monkeypatch):
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 1000)

    result = fetch(Fetcher(store), f"{fixture_index.url}/pypi/six/json")

    assert result.status == "error"
    assert "larger than 1000 bytes" in result.error


def test_invalid_json_ends_in_an_error_not_an_exception(fixture_index, store):
    fixture_index.projects["broken"] = b"not json"
    url = f"{fixture_index.url}/pypi/broken/json"

    result = fetch(Fetcher(store), url)

    assert result.status == "error"
    assert "invalid JSON" in result.error
    assert result.cause is FailureCause.BAD_ANSWER
    assert store.get(url, KIND) is None


def test_unexpected_document_shape_ends_in_an_error(fixture_index, store):
    fixture_index.projects["odd"] = b'{"not-info": 1}'

    result = fetch(Fetcher(store), f"{fixture_index.url}/pypi/odd/json")

    assert result.status == "error"
    assert "unexpected response shape" in result.error


def db_bytes(store: Store) -> bytes:
    """The database file and its WAL, as they are on disk."""
    store.flush()
    return b"".join(p.read_bytes() for p in store.path.parent.iterdir() if p.is_file())


def test_cache_entries_of_an_authenticated_index_are_kept_apart_per_user(fixture_index, store):
    alice = fixture_index.url.replace("http://", "http://alice:alice-pw-1@")
    bob = fixture_index.url.replace("http://", "http://bob:bob-pw-2@")

    fetch(Fetcher(store), f"{alice}/pypi/six/json")
    fetch(Fetcher(store), f"{bob}/pypi/six/json")  # not answered from alice's entry
    again = fetch(Fetcher(store), f"{alice}/pypi/six/json")

    assert fixture_index.paths() == ["/pypi/six/json"] * 2
    assert again.status == "ok" and again.from_cache
    stored = db_bytes(store)
    assert b"alice-pw-1" not in stored and b"bob-pw-2" not in stored


def test_index_credentials_go_to_the_index_host_only(fixture_index, store):
    from tests.fault_server import fault_index

    with fault_index() as elsewhere:
        fetcher = Fetcher(store)
        fetcher.use_index(fixture_index.url.replace("http://", "http://alice:pw@") + "/simple")
        fetch(fetcher, f"{fixture_index.url}/pypi/six/json")
        fetch(Fetcher(store, credentials=fetcher.credentials), f"{elsewhere.url}/pypi/idna/json")

        assert "authorization" in lower_keys(fixture_index.requests[0][2])
        assert elsewhere.requests and "authorization" not in elsewhere.requests[0][1]


def test_netrc_credentials_are_used_for_the_index_host(fixture_index, store, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login carol password netrc-pw\n")
    monkeypatch.setenv("NETRC", str(netrc))
    fetcher = Fetcher(store)

    index_url = fetcher.use_index(f"{fixture_index.url}/simple")
    fetch(fetcher, f"{fixture_index.url}/pypi/six/json")

    assert index_url == f"{fixture_index.url}/simple"
    assert lower_keys(fixture_index.requests[0][2])["authorization"].startswith("Basic ")
    assert b"netrc-pw" not in db_bytes(store)


def test_a_malformed_netrc_is_one_line_naming_the_file(fixture_index, store, tmp_path, monkeypatch):
    from scanner.model import InputError

    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice passwrd secret\n")
    monkeypatch.setenv("NETRC", str(netrc))

    with pytest.raises(InputError, match=str(netrc)):
        Fetcher(store).use_index(f"{fixture_index.url}/simple")


def test_a_gzip_bomb_is_cut_off_without_being_expanded(store, monkeypatch):
    import tracemalloc

    from tests.fault_server import BOMB, fault_index

    BOMB.payload()  # made before measuring
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 1024 * 1024)
    with fault_index() as index:
        index.fail("/pypi/six/json", "gzip-bomb")
        tracemalloc.start()
        try:
            result = fetch(Fetcher(store), f"{index.url}/pypi/six/json")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert result.status == "error" and "larger than" in result.error
    assert peak < 16 * 1024 * 1024  # a 64 KiB chunk of the bomb alone expands to 64 MiB


def test_retry_after_beyond_the_time_left_is_not_waited_for(fixture_index, store, monkeypatch):
    monkeypatch.setattr(http, "_retry_after_seconds", lambda value: 100.0)
    fixture_index.failures["/pypi/six/json"] = [(429, {"Retry-After": "100"})] * 5

    result = fetch(Fetcher(store, scan_timeout=5.0), f"{fixture_index.url}/pypi/six/json")

    assert result.status == "error" and "Retry-After" in result.error
    assert len(fixture_index.requests) == 1


def test_each_failure_carries_its_cause_set_where_it_failed(fixture_index, store):
    """Callers tell an index that is down from the scan's own clock running out by the
    cause, never by the words of the error."""
    refused = fetch(Fetcher(store), f"{closed_port_url()}/pypi/six/json")
    assert (refused.status, refused.cause) == ("error", FailureCause.UNREACHABLE)

    # The scan's time is already spent.
    out_of_time = Fetcher(store, scan_timeout=30.0, deadline=time.monotonic() - 1.0)
    late = fetch(out_of_time, f"{fixture_index.url}/pypi/six/json")
    assert (late.status, late.cause) == ("error", FailureCause.TIME_LIMIT)
    assert fixture_index.paths() == []

    offline = fetch(Fetcher(store, offline=True), f"{fixture_index.url}/pypi/six/json")
    assert (offline.status, offline.cause) == ("offline-miss", FailureCause.OFFLINE)

    fresh = fetch(Fetcher(store), f"{fixture_index.url}/pypi/six/json")
    assert (fresh.status, fresh.cause, fresh.http_status) == ("ok", None, 0)


def _counting_lookups(monkeypatch) -> list[str]:
    """Every host name the event loop is asked to look up."""
    asked: list[str] = []
    real = asyncio.base_events.BaseEventLoop.getaddrinfo

    async def counting(self, host, *args, **kwargs):
        asked.append(host.decode() if isinstance(host, bytes) else host)
        return await real(self, host, *args, **kwargs)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", counting)
    return asked


def test_a_host_is_looked_up_once_for_all_its_connections(fixture_index, store, monkeypatch):
    """The fixture index closes every connection after one answer (HTTP/1.0), so each
    of these requests opens a connection of its own: one lookup serves them all."""
    asked = _counting_lookups(monkeypatch)
    base = fixture_index.url.replace("127.0.0.1", "localhost")
    names = sorted(fixture_index.projects)
    fetcher = Fetcher(store, concurrency=8)

    async def run() -> list[FetchResult]:
        try:
            return await asyncio.gather(
                *(fetcher.get_json(f"{base}/pypi/{n}/json", KIND, name_of) for n in names)
            )
        finally:
            await fetcher.aclose()

    results = asyncio.run(run())
    assert [r.status for r in results] == ["ok"] * len(names)
    assert len(fixture_index.requests) == len(names) > 8
    assert asked.count("localhost") == 1, asked


def test_a_failed_lookup_is_an_error_and_is_asked_again(store, monkeypatch):
    asked = _counting_lookups(monkeypatch)

    async def no_such_host(self, host, *args, **kwargs):
        asked.append(host.decode() if isinstance(host, bytes) else host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", no_such_host)
    result = fetch(Fetcher(store), "https://index.invalid/pypi/six/json")
    assert result.status == "error"
    assert result.error.startswith("ConnectError: ") and "Name or service not known" in result.error
    assert asked.count("index.invalid") >= 2  # each retry looked the host up again


def test_an_error_without_a_message_is_named_once():
    """httpx's ConnectTimeout carries no message: the unreachable warning said
    `(ConnectTimeout: ConnectTimeout)`."""
    import httpx

    from scanner.sources.http import _describe

    assert _describe(httpx.ConnectTimeout("")) == "ConnectTimeout"
    assert _describe(httpx.ConnectError("refused")) == "ConnectError: refused"


class _KeepAliveIndex:
    """An HTTP/1.1 server on 127.0.0.1 that keeps connections open (the fixture indexes
    close each after one answer), counting the connections it accepts. `/missing` answers
    404 with a short body; `/closing` answers 200 and then closes the connection from the
    server's side, after a moment; `/stalling-404` answers 404 and never sends the body
    it declares; anything else 200 with a small JSON document."""

    def __init__(self) -> None:
        import http.server
        import threading

        index = self
        self.connections = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                index.connections += 1
                super().setup()

            def do_GET(self) -> None:
                if self.path == "/stalling-404":  # a body declared, never sent
                    self.send_response(404)
                    self.send_header("Content-Length", "100")
                    self.end_headers()
                    self.wfile.flush()
                    time.sleep(4)
                    self.close_connection = True
                    return
                if self.path == "/missing":
                    status, body = 404, b"Not Found: no such file on this index\n"
                else:
                    status, body = 200, b'{"info": {"name": "six", "version": "1.16.0"}}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                if self.path == "/closing":
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def keep_alive_index():
    index = _KeepAliveIndex()
    yield index
    index.close()


def _in_turn(fetcher: Fetcher, urls: list[str], ask=None) -> list[Any]:
    """The answers to `urls`, asked one after another (`ask(url)`: a get_json by default)."""

    async def run() -> list[Any]:
        try:
            results = []
            for url in urls:
                asked = ask(url) if ask else fetcher.get_json(url, KIND, name_of)
                results.append(await asked)
                await asyncio.sleep(0.2)  # time for a closing server's FIN to arrive
            return results
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


def test_a_404_keeps_its_connection_for_the_next_request(keep_alive_index, store):
    """A 404's short body is read, not left on the wire: the next request reuses the
    connection instead of opening (over TLS: handshaking) a new one."""
    base = keep_alive_index.url
    results = _in_turn(Fetcher(store), [f"{base}/missing", f"{base}/missing", f"{base}/six"])
    assert [r.status for r in results] == ["not-found", "not-found", "ok"]
    assert keep_alive_index.connections == 1


def test_a_404_whose_short_body_never_comes_is_still_a_404(keep_alive_index, store):
    """The body of a 404 is read only to keep the connection, and not for long: an index
    that declares one and sends nothing has said "not found" all the same."""
    fetcher = Fetcher(store, request_timeout=3.0)
    (result,) = _in_turn(fetcher, [f"{keep_alive_index.url}/stalling-404"])
    assert result.status == "not-found", result.error


def test_a_connection_the_server_closed_is_not_used_again(keep_alive_index, store):
    """The pool asks each idle connection whether the server closed it (a readable
    socket): one that was closed is replaced, so the next request succeeds at its one
    attempt (a range request is never retried) rather than failing on a dead connection.
    The server answers 200, not 206: None, "ranges not served"."""
    base = keep_alive_index.url
    fetcher = Fetcher(store)
    urls = [f"{base}/closing", f"{base}/six", f"{base}/six"]
    results = _in_turn(fetcher, urls, lambda url: fetcher.get_range(url, "bytes=0-9", 100))
    assert results == [None, None, None]
    assert keep_alive_index.connections == 2


def test_a_socket_is_readable_with_data_or_when_closed():
    left, right = socket.socketpair()
    try:
        assert not http._socket_readable(left)
        right.sendall(b"x")
        assert http._socket_readable(left)
        left.recv(1)
        right.close()
        assert http._socket_readable(left)  # the peer's close reads as b""
    finally:
        left.close()
    assert http._socket_readable(left)  # closed here: fileno() is -1


def test_a_request_searches_for_no_module(keep_alive_index, store, monkeypatch):
    """httpcore imports sniffio at every lock and event it makes (about ten per
    request); without it installed, each of those imports searched sys.path and failed,
    some 7% of a cold resolution's CPU. Once the client is up, a request imports nothing."""
    import sys

    searched: list[str] = []

    class Watching:
        @staticmethod
        def find_spec(name: str, path: Any = None, target: Any = None) -> None:
            searched.append(name)
            return None

    base = keep_alive_index.url
    fetcher = Fetcher(store)

    async def run() -> list[FetchResult]:
        try:
            first = await fetcher.get_json(f"{base}/six", KIND, name_of)  # the client is made
            monkeypatch.setattr(sys, "meta_path", [Watching, *sys.meta_path])
            return [first, await fetcher.get_json(f"{base}/six", KIND, name_of, force=True)]
        finally:
            await fetcher.aclose()

    assert [r.status for r in asyncio.run(run())] == ["ok", "ok"]
    assert searched == []


def test_each_host_has_a_connection_pool_of_its_own(keep_alive_index, store):
    """httpcore's pool looks at each connection it holds for every request it assigns:
    the index's connections and its file host's are kept in separate pools, each the
    size of the fetcher's concurrency."""
    hosts = [keep_alive_index.url, keep_alive_index.url.replace("127.0.0.1", "localhost")]
    fetcher = Fetcher(store, concurrency=3)

    async def run() -> tuple[list[FetchResult], list[list[str]]]:
        try:
            results = await asyncio.gather(
                *(fetcher.get_json(f"{h}/six?{n}", KIND, name_of) for h in hosts for n in range(6))
            )
            assert fetcher._client is not None
            pools = fetcher._client._transport._pools.values()
            held = [sorted({str(c._origin) for c in p._pool.connections}) for p in pools]
            return results, held
        finally:
            await fetcher.aclose()

    results, held = asyncio.run(run())
    assert [r.status for r in results] == ["ok"] * 12
    assert sorted(held) == sorted([[h] for h in hosts])
