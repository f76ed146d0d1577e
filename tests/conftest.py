"""Shared test fixtures: a local package index serving recorded real PyPI responses, and
small installed environments built from real dist-info folders.

Nothing here talks to any address but 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import stamina

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DIST_INFO = FIXTURES / "dist-info"
RECORDED_PROJECTS = sorted(p.name.removesuffix(".json.gz") for p in (FIXTURES / "pypi").iterdir())
INDEX_FIXTURES = FIXTURES / "index"
RECORDED_PAGES = sorted(
    p.name.removesuffix(".json.gz") for p in (INDEX_FIXTURES / "simple").iterdir()
)


def recorded_project(name: str) -> dict:
    with gzip.open(FIXTURES / "pypi" / f"{name}.json.gz") as fh:
        return json.load(fh)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own cache, never refreshes the usage dataset from the
    internet nor asks an enrichment service there, never waits out a retry backoff, and
    sees no pip index settings or GitHub token."""
    monkeypatch.setenv("TRUSTMAP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TRUSTMAP_TOP_PACKAGES_URL", "off")
    # The enrichment services are never asked unless a test serves them on 127.0.0.1.
    for name in ("OSV", "GITHUB", "DEPSDEV", "SCORECARD", "PYPISTATS"):
        monkeypatch.setenv(f"TRUSTMAP_{name}_API_URL", "off")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    # Capped, not set: a loop the code gives fewer attempts (the usage refresh: one) keeps
    # its own count, so that tests can count it (set, it would be three everywhere).
    stamina.set_testing(True, attempts=3, cap=True)
    yield
    stamina.set_testing(False)


@dataclass
class FixtureIndex:
    """A PyPI-like index on 127.0.0.1: `/pypi/<name>/json` from recorded responses with
    ETags, `/simple/<name>/` (PEP 691 JSON), and no per-version JSON (like this
    workplace's mirror). `failures[path]` lists status codes to answer first."""

    url: str = ""
    projects: dict[str, bytes] = field(default_factory=dict)
    pages: dict[str, bytes] = field(default_factory=dict)  # recorded simple pages
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)  # path -> seconds to stall
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0  # requests being answered now
    most_in_flight: int = 0  # the most answered at once, from every client

    @property
    def simple_url(self) -> str:
        return f"{self.url}/simple"

    def add(self, name: str, document: dict) -> None:
        self.projects[name] = json.dumps(document).encode()

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]


def _handler(index: FixtureIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with index.lock:
                index.in_flight += 1
                index.most_in_flight = max(index.most_in_flight, index.in_flight)
            try:
                self._answer()
            finally:
                with index.lock:
                    index.in_flight -= 1

        def _answer(self) -> None:
            with index.lock:
                index.requests.append(("GET", self.path, dict(self.headers)))
                queued = index.failures.get(self.path)
                failure = queued.pop(0) if queued else None
                delay = index.delays.get(self.path, 0.0)
            if delay:
                time.sleep(delay)
            if failure:
                status, headers = failure
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            match = re.fullmatch(r"/pypi/([^/]+)/json", self.path)
            if match and match.group(1) in index.projects:
                return self._json(index.projects[match.group(1)], "application/json")
            match = re.fullmatch(r"/simple/([^/]+)/", self.path)
            if match and match.group(1) in index.pages:
                return self._json(
                    index.pages[match.group(1)], "application/vnd.pypi.simple.v1+json"
                )
            if self.path.startswith("/packages/"):
                return self._file(self.path.rpartition("/")[2])
            if match and match.group(1) in index.projects:
                doc = json.loads(index.projects[match.group(1)])
                simple = {"meta": {"api-version": "1.1"}, "name": match.group(1), "files": []}
                simple["files"] = [{"filename": f["filename"]} for f in doc.get("urls", [])]
                return self._json(
                    json.dumps(simple).encode(), "application/vnd.pypi.simple.v1+json"
                )
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _file(self, filename: str) -> None:
            """A distribution file or its PEP 658 metadata; range requests answered."""
            metadata = INDEX_FIXTURES / "metadata" / filename
            wheel = INDEX_FIXTURES / "files" / filename
            if metadata.is_file():
                return self._json(metadata.read_bytes(), "text/plain")
            if not wheel.is_file():
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = wheel.read_bytes()
            wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
            if not wanted:
                return self._json(body, "application/octet-stream")
            first, last = wanted.groups()
            if first == "":
                start, end = max(0, len(body) - int(last)), len(body) - 1
            else:
                start, end = int(first), min(int(last or len(body) - 1), len(body) - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
            self.send_header("Content-Length", str(end - start + 1))
            self.end_headers()
            self.wfile.write(body[start : end + 1])

        def _json(self, body: bytes, content_type: str) -> None:
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that hangs up early (a cancelled scan) is not the test's concern


@pytest.fixture
def fixture_index() -> Iterator[FixtureIndex]:
    index = FixtureIndex()
    for name in RECORDED_PROJECTS:
        index.projects[name] = gzip.decompress((FIXTURES / "pypi" / f"{name}.json.gz").read_bytes())
    for name in RECORDED_PAGES:
        page = gzip.decompress((INDEX_FIXTURES / "simple" / f"{name}.json.gz").read_bytes())
        # Like many mirrors, serve file URLs relative to the page.
        index.pages[name] = page.replace(
            b"https://files.pythonhosted.org/packages/", b"../../packages/"
        )
    server = _QuietServer(("127.0.0.1", 0), _handler(index))
    index.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()


def build_venv(root: Path, dist_infos: list[str], python: str = "3.11") -> Path:
    """A virtual environment laid out as `python -m venv` makes it, holding copies of the
    named real dist-info folders (from fixtures/dist-info) and nothing else."""
    site = root / "lib" / f"python{python}" / "site-packages"
    site.mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "pyvenv.cfg").write_text(
        f"home = /usr/bin\ninclude-system-site-packages = false\nversion = {python}.7\n"
    )
    for name in dist_infos:
        shutil.copytree(DIST_INFO / name, site / name)
    return root


def add_dist(site: Path, name: str, version: str, requires: list[str] = (), **headers: str) -> Path:
    """A dist-info folder written by the test, for cases no real package shows."""
    folder = site / f"{name}-{version}.dist-info"
    folder.mkdir()
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"{key.replace('_', '-').title()}: {value}" for key, value in headers.items()]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (folder / "METADATA").write_text("\n".join(lines) + "\n\n")
    return folder


LAB_DISTS = [
    "requests-2.32.3.dist-info",
    "idna-3.10.dist-info",
    "urllib3-2.2.3.dist-info",
    "certifi-2024.8.30.dist-info",
    "charset_normalizer-3.4.0.dist-info",
    "six-1.16.0.dist-info",
    "rich-13.9.4.dist-info",
    "pygments-2.18.0.dist-info",
    "markdown_it_py-3.0.0.dist-info",
    "mdurl-0.1.2.dist-info",
    "DaPy-1.16.1.dist-info",
]


@pytest.fixture
def lab_venv(tmp_path: Path) -> Path:
    """requests and rich with their real dependencies, six, and DaPy (a solo-maintained,
    little-used project whose dependencies xlrd and xlwt are not installed)."""
    return build_venv(tmp_path / "venv", LAB_DISTS)


def site_packages(venv: Path, python: str = "3.11") -> Path:
    return venv / "lib" / f"python{python}" / "site-packages"


def default_sigint() -> None:
    """`preexec_fn` for a child process a test interrupts with SIGINT. A shell starts its
    background jobs with SIGINT ignored, a child inherits that, and Python then leaves it
    ignored: the test would wait for an interrupt that never comes."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
