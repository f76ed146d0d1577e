"""A remote API on 127.0.0.1 for the enrichment sources' tests: it answers each request
from a queue of recorded replies per method and path (the last reply repeats), and keeps
every request it saw (method, path, headers, body). Nothing here talks to any address but
127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # bytes, or JSON-able
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ReplayServer:
    url: str = ""
    routes: dict[str, list[Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def route(self, method_and_path: str, *replies: Reply) -> None:
        """`GET /repos/o/r` (the query string included when it matters)."""
        self.routes[method_and_path] = list(replies)

    def answer(self, method: str, path: str) -> Reply:
        for key in (f"{method} {path}", f"{method} {path.split('?', 1)[0]}"):
            replies = self.routes.get(key)
            if replies:
                return replies.pop(0) if len(replies) > 1 else replies[0]
        return Reply(404, {"message": "Not Found"})


@contextmanager
def replay_server() -> Iterator[ReplayServer]:
    server_state = ReplayServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            server_state.seen.append(
                Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            reply = server_state.answer(self.command, self.path)
            payload = reply.body
            if payload is None:
                payload = b""
            elif not isinstance(payload, bytes):
                payload = json.dumps(payload).encode()
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value.replace("{url}", server_state.url))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _serve
        do_POST = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()
