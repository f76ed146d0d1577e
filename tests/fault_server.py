"""A misbehaving package index on 127.0.0.1 for the fault suite: a real socket server in
a thread (not a mock transport), so that resets, stalls and drips happen on the wire.

It serves the recorded PyPI responses of fixtures/ like tests.conftest's index does
(`/pypi/<name>/json`, `/simple/<name>/`, files and their PEP 658 metadata, with range
requests), and answers a path with a fault first when one is queued for it. Every request
is counted, so that a test can bound the retries. Nothing here talks to any address but
127.0.0.1.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import socket
import socketserver
import stat
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.conftest import FIXTURES, INDEX_FIXTURES, RECORDED_PAGES, RECORDED_PROJECTS

# How each fault answers; the values the suite passes to FaultIndex.fail().
STATUS_FAULTS = {"429": 429, "500": 500, "502": 502, "503": 503, "401": 401, "403": 403}
BODY_FAULTS = {
    "truncated-json": (b'{"info": {"name": "six", "version": "1.', "application/json"),
    "invalid-json": (b"this is not JSON at all", "application/json"),
    "html": (b"<!doctype html><html><body><h1>Sign in</h1></body></html>", "text/html"),
    "list": (b'[{"info": {"name": "six"}}]', "application/json"),
    "info-null": (b'{"info": null, "releases": {}, "urls": []}', "application/json"),
    "info-string": (b'{"info": "six", "releases": {}}', "application/json"),
    "releases-list": (
        b'{"info": {"name": "six", "version": "1.16.0"}, "releases": [1, 2]}',
        "application/json",
    ),
}
DRIP_INTERVAL = 0.2  # seconds between bytes: below any read timeout, so only a deadline ends it
DRIP_BYTES = 60  # then the connection is cut (a scan without a deadline still ends, slowly)


def _gzip_bomb(expanded: int) -> bytes:
    """`expanded` bytes of zeros, gzip-compressed (about a thousandth of the size)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(expanded // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


@dataclass
class FaultIndex:
    url: str = ""
    projects: dict[str, bytes] = field(default_factory=dict)
    pages: dict[str, bytes] = field(default_factory=dict)
    faults: dict[str, list[str]] = field(default_factory=dict)  # path -> faults, in order
    # A fault for every path that has none queued and that the index would answer 404.
    missing_fault: str | None = None
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # Basic credentials every request must carry ("user:password"), or None.
    required_auth: str | None = None
    redirect_to: str = ""  # where "cross-host" redirects to
    # Called in the connection's thread just before a fault is served (a test's probe).
    before_fault: Callable[[], None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def simple_url(self) -> str:
        return f"{self.url}/simple"

    def fail(self, path: str, fault: str, times: int = 1) -> None:
        """Answer `path` (or any path ending in the file name `path`) with `fault`."""
        if fault == "gzip-bomb":
            BOMB.payload()  # built now, so that making it never counts against a deadline
        with self.lock:
            self.faults.setdefault(path, []).extend([fault] * times)

    def heal(self) -> None:
        with self.lock:
            self.faults.clear()
            self.missing_fault = None

    def hits(self, path: str | None = None) -> int:
        with self.lock:
            return sum(1 for p, _ in self.requests if path is None or p == path)

    def next_fault(self, path: str) -> str | None:
        """The next fault queued for this path, or for its file name (files live under
        hashed folders)."""
        with self.lock:
            for key in (path, path.rpartition("/")[2]):
                queued = self.faults.get(key)
                if queued:
                    return queued.pop(0)
            return None


def _head(length: int) -> bytes:
    """The head of a 200 answer that promises `length` bytes of JSON."""
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {length}"]
    return ("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode()


class _Handler(socketserver.BaseRequestHandler):
    index: FaultIndex

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)
        try:
            head = self._read_head(sock)
        except OSError:
            return
        if head is None:
            return
        lines = head.decode("latin-1").split("\r\n")
        _method, path, _ = [*lines[0].split(" "), "", ""][:3]
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        index = self.index
        with index.lock:
            index.requests.append((path, headers))
        if index.required_auth is not None:
            expected = "Basic " + base64.b64encode(index.required_auth.encode()).decode()
            if headers.get("authorization") != expected:
                return self._send(sock, 401, b"", {"WWW-Authenticate": 'Basic realm="index"'})
        fault = index.next_fault(path)
        body, content_type, status = self._lookup(path, headers)
        if fault is None and status == 404 and index.missing_fault:
            fault = index.missing_fault
        try:
            if fault is None:
                return self._send(sock, status, body, {"Content-Type": content_type}, headers)
            if index.before_fault is not None:
                index.before_fault()
            self._misbehave(sock, fault, path, body)
        except OSError:
            pass  # the client hung up: what a deadline does

    def _misbehave(self, sock: socket.socket, fault: str, path: str, body: bytes) -> None:
        index = self.index
        if fault in STATUS_FAULTS:
            extra = {"Retry-After": "1"} if fault == "429" else {}
            return self._send(sock, STATUS_FAULTS[fault], b"", extra)
        if fault in BODY_FAULTS:
            payload, content_type = BODY_FAULTS[fault]
            return self._send(sock, 200, payload, {"Content-Type": content_type})
        if fault == "reset":
            # SO_LINGER with a zero timeout: close() sends a TCP reset, not a FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return None
        if fault == "stall":
            index.stop.wait(60)  # accepted, read, and never answered
            return None
        if fault == "drip":
            payload = body or b"{}" * 1000
            sock.sendall(_head(len(payload)))
            for byte in payload[:DRIP_BYTES]:
                if index.stop.wait(DRIP_INTERVAL):
                    return None
                sock.sendall(bytes([byte]))
            return None
        if fault == "truncated":
            payload = body or b"{}" * 1000
            sock.sendall(_head(len(payload)) + payload[: len(payload) // 2])
            return None
        if fault == "oversized":
            # Streams zeros, and says so up front; a capped client hangs up early.
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
            sock.sendall(head.encode())
            chunk = b" " * 65536
            for _ in range(2048):  # up to 128 MiB
                sock.sendall(chunk)
            return None
        if fault == "gzip-bomb":
            return self._send(
                sock,
                200,
                BOMB.payload(),
                {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            )
        if fault == "redirect-loop":
            return self._send(sock, 302, b"", {"Location": path})
        if fault == "cross-host":
            return self._send(sock, 302, b"", {"Location": f"{index.redirect_to}{path}"})
        raise ValueError(f"unknown fault {fault!r}")

    def _lookup(self, path: str, headers: dict[str, str]) -> tuple[bytes, str, int]:
        index = self.index
        match = re.fullmatch(r"/pypi/([^/]+)/json", path)
        if match and match.group(1) in index.projects:
            return index.projects[match.group(1)], "application/json", 200
        match = re.fullmatch(r"/simple/([^/]+)/", path)
        if match and match.group(1) in index.pages:
            return index.pages[match.group(1)], "application/vnd.pypi.simple.v1+json", 200
        if path.startswith("/packages/"):
            filename = path.rpartition("/")[2]
            for folder in ("metadata", "files"):
                candidate = INDEX_FIXTURES / folder / filename
                if candidate.is_file():
                    return candidate.read_bytes(), "application/octet-stream", 200
        return b"", "text/plain", 404

    @staticmethod
    def _read_head(sock: socket.socket) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        return data.partition(b"\r\n\r\n")[0]

    @staticmethod
    def _send(
        sock: socket.socket,
        status: int,
        body: bytes,
        extra: dict[str, str] | None = None,
        request_headers: dict[str, str] | None = None,
    ) -> None:
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", (request_headers or {}).get("range", ""))
        if status == 200 and wanted and body:
            first, last = wanted.groups()
            if first == "":
                start, end = max(0, len(body) - int(last)), len(body) - 1
            else:
                start, end = int(first), min(int(last or len(body) - 1), len(body) - 1)
            extra = {**(extra or {}), "Content-Range": f"bytes {start}-{end}/{len(body)}"}
            status, body = 206, body[start : end + 1]
        reason = {200: "OK", 206: "Partial Content", 302: "Found", 404: "Not Found"}.get(
            status, "Error"
        )
        lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{key}: {value}" for key, value in (extra or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)


class _Bomb:
    """Made once per test run, when first queued: about 256 KB that expand to 256 MiB."""

    def __init__(self) -> None:
        self._payload: bytes | None = None
        self._lock = threading.Lock()

    def payload(self) -> bytes:
        with self._lock:
            if self._payload is None:
                self._payload = _gzip_bomb(256 * 1024 * 1024)
            return self._payload


BOMB = _Bomb()


# The ports of the fault servers running in this process (see _drop_inherited_connections).
_SERVING_PORTS: set[int] = set()


def _drop_inherited_connections() -> None:
    """In a child forked from this process: close its copies of the fault servers'
    sockets at once. The scan under test forks (its JSON decoder process, the prefetch
    workers) while the server's threads hold connections open, and a fork copies every
    descriptor. A connection the server closes stays open while a copy lives, so a
    reset (or the end of a truncated body) would never reach the client, which then
    waits out its timeout instead: the fault served would depend on when the scan
    forked. Found by the socket's own address, never by a descriptor number kept
    aside, so that no moment between accept() and bookkeeping escapes it."""
    if not _SERVING_PORTS:
        return
    try:
        descriptors = [int(name) for name in os.listdir("/dev/fd")]
    except OSError:
        return
    for descriptor in descriptors:
        try:
            if not stat.S_ISSOCK(os.fstat(descriptor).st_mode):
                continue
            sock = socket.socket(fileno=descriptor)
        except OSError:
            continue
        try:
            address = sock.getsockname()
        except OSError:
            address = None
        if (
            sock.family == socket.AF_INET
            and isinstance(address, tuple)
            and address[0] == "127.0.0.1"
            and address[1] in _SERVING_PORTS
        ):
            sock.close()
        else:
            sock.detach()


os.register_at_fork(after_in_child=_drop_inherited_connections)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        pass


@contextmanager
def fault_index() -> Iterator[FaultIndex]:
    index = FaultIndex()
    for name in RECORDED_PROJECTS:
        index.projects[name] = gzip.decompress((FIXTURES / "pypi" / f"{name}.json.gz").read_bytes())
    for name in RECORDED_PAGES:
        page = gzip.decompress((INDEX_FIXTURES / "simple" / f"{name}.json.gz").read_bytes())
        index.pages[name] = page.replace(
            b"https://files.pythonhosted.org/packages/", b"../../packages/"
        )
    handler = type("Handler", (_Handler,), {"index": index})
    server = _Server(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    index.url = f"http://127.0.0.1:{port}"
    _SERVING_PORTS.add(port)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield index
    finally:
        index.stop.set()
        server.shutdown()
        server.server_close()
        _SERVING_PORTS.discard(port)


@dataclass
class Unanswered:
    url: str
    connections: list[socket.socket] = field(default_factory=list)  # accepted, never answered


@contextmanager
def unanswered_port(mode: str) -> Iterator[Unanswered]:
    """A 127.0.0.1 URL whose server never answers. `stall`: it accepts the connection and
    reads the request, then says nothing. `drop`: its accept queue is full, so the kernel
    drops the SYN and the connect itself hangs (as behind a firewall that drops)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    stop = threading.Event()
    unanswered = Unanswered(f"http://127.0.0.1:{port}/top-pypi-packages.json")
    if mode == "drop":
        listener.listen(0)
        # Linux keeps backlog + 1 connections queued; the ones after that hang in SYN-SENT.
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.05)
        thread = None
    else:
        listener.listen(16)

        def accept() -> None:
            listener.settimeout(0.1)
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                unanswered.connections.append(conn)
            for conn in unanswered.connections:
                conn.close()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
    try:
        yield unanswered
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=5)
        for filler in fillers:
            filler.close()
        listener.close()


def recorded_json(name: str) -> dict:
    return json.loads(gzip.decompress((FIXTURES / "pypi" / f"{name}.json.gz").read_bytes()))
