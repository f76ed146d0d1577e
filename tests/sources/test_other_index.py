"""Packages a lockfile locked from another index, looked up on that index (a local
127.0.0.1 server serving a PEP 503 HTML page modelled on download.pytorch.org/whl/cpu),
never on the configured index, and never with the configured index's credentials."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.records import Project, Release, ReleaseSummary
from scanner.sources.other_index import extract_project, parse_simple_page
from tests.conftest import FIXTURES

TORCH_PAGE = (FIXTURES / "other-index" / "torch-cpu.html").read_bytes()
UV_LOCK = FIXTURES / "lockfiles" / "other-index" / "uv.lock"
SECRET = "s3cret-configured-index"  # noqa: S105 (a test value)


@dataclass
class OtherIndex:
    """A simple index on 127.0.0.1 serving `pages[path]` as HTML (or JSON), answering
    `status` instead when set, and recording every request's path and headers."""

    url: str = ""
    pages: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    status: int | None = None
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def index_url(self) -> str:
        return f"{self.url}/whl/cpu"


@pytest.fixture
def other_index() -> Iterator[OtherIndex]:
    index = OtherIndex(pages={"/whl/cpu/torch/": (TORCH_PAGE, "text/html")})

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            index.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            page = index.pages.get(self.path)
            status = index.status or (200 if page else 404)
            body, content_type = page if status == 200 and page else (b"", "text/plain")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    index.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()


def lockfile(tmp_path: Path, registry: str) -> Path:
    """The uv.lock fixture with torch's registry pointed at `registry`."""
    text = UV_LOCK.read_text().replace("https://download.pytorch.org/whl/cpu", registry)
    path = tmp_path / "project" / "uv.lock"
    path.parent.mkdir()
    path.write_text(text)
    return path


def scan_json(*args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(main, ["scan", *args, "-f", "json"], catch_exceptions=False)
    document = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, document, result.stderr


def package(document: dict, name: str) -> dict:
    return next(p for p in document["packages"] if p["name"] == name)


def sha256_of(filename: str) -> str:
    """The page's sha256 for `filename` (its #sha256= fragment)."""
    page = TORCH_PAGE.decode()
    quoted = filename.replace("+", "%2B")
    start = page.index(f"{quoted}#sha256=") + len(quoted) + len("#sha256=")
    return page[start : start + 64]


# --- parsing --------------------------------------------------------------------------------


def test_the_html_page_gives_the_locked_versions_files_and_hashes():
    page = parse_simple_page(TORCH_PAGE)
    project = Project.from_dict(
        extract_project(page, "http://x/whl/cpu/torch/", "torch", frozenset({"2.9.1+cpu"}))
    )

    files = project.files_of("2.9.1+cpu")
    assert len(files) == 15  # five CPythons x (Linux x86-64, Linux aarch64, Windows)
    linux = "torch-2.9.1+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert (linux, sha256_of(linux), "bdist_wheel") in [
        (f.filename, f.sha256, f.packagetype) for f in files
    ]
    assert all(len(f.sha256) == 64 for f in files)
    # The macOS wheels carry no local version: another release, not these files.
    assert {"2.9.1", "2.9.1+cpu", "2.8.0+cpu"} <= set(project.release_versions)
    assert project.latest_version == "2.9.1+cpu"
    assert project.releases["2.9.1+cpu"] == Release(None, False, "")
    assert project.release_summary.count == 0  # HTML has no upload times
    assert project.ownership is None and project.api == "html"


def test_a_pep_691_page_gives_upload_times_and_yanking():
    document = {
        "meta": {"api-version": "1.1"},
        "name": "torch",
        "files": [
            {
                "filename": "torch-2.9.1+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
                "url": "https://x/torch-2.9.1%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl",
                "hashes": {"sha256": "ab" * 32},
                "requires-python": ">=3.10",
                "yanked": "broken ABI",
                "upload-time": "2025-11-12T17:01:02.345Z",
            },
            {
                "filename": "torch-2.8.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
                "url": "https://x/torch-2.8.0.whl",
                "hashes": {"sha256": "cd" * 32},
                "upload-time": "2025-08-06T10:00:00Z",
            },
        ],
    }
    page = parse_simple_page(json.dumps(document).encode())
    project = Project.from_dict(
        extract_project(page, "https://x/torch/", "torch", frozenset({"2.9.1+cpu"}))
    )

    assert project.api == "json"
    assert project.releases["2.9.1+cpu"] == Release("2025-11-12T17:01:02.345Z", True, "broken ABI")
    assert project.files_of("2.9.1+cpu")[0].sha256 == "ab" * 32
    assert project.release_summary == ReleaseSummary(
        "2025-08-06T10:00:00Z", "2025-11-12T17:01:02.345Z", 2
    )
    assert project.latest_version == "2.8.0+cpu"  # the newest is wholly yanked


def test_a_hostile_page_gives_only_well_formed_files_of_this_project():
    page = b"""<html><body>
    <a>no href</a><a href="">empty</a>
    <a href="/evil-1.0-py3-none-any.whl#sha256=%s">another project's file</a>
    <a href="/torch-1.0-py3-none-any.whl#sha256=nothex">torch-1.0-py3-none-any.whl</a>
    <a href="/torch-1.0.tar.gz#md5=0123" data-yanked>yanked, no value</a>
    <a href="/torch-not-a-version-at-all.whl">junk name</a>
    <a href="/torch-1.0.exe">an installer</a>
    <a href="/torch-1.0-py3-none-any.whl#sha256=%s" data-yanked="%s">
    <script>alert(1)</script>\x00\xff
    """ % (b"a" * 64, b"b" * 64, b"r" * 5000)
    project = extract_project(
        parse_simple_page(page), "http://x/torch/", "torch", frozenset({"1.0"})
    )

    project = Project.from_dict(project)
    files = project.files_of("1.0")
    assert {f.filename for f in files} == {"torch-1.0-py3-none-any.whl", "torch-1.0.tar.gz"}
    assert sorted(f.sha256 for f in files) == ["", "", "b" * 64]  # bad and md5-only: none
    assert project.release_versions == ("1.0",)
    assert project.releases["1.0"].yanked is False  # one file of the release is not yanked
    assert len(project.releases["1.0"].yanked_reason) <= 300


# --- through the command line ---------------------------------------------------------------


def test_torch_is_looked_up_on_its_own_index_without_the_configured_credentials(
    fixture_index, other_index, tmp_path
):
    lock = lockfile(tmp_path, other_index.index_url)
    configured = fixture_index.simple_url.replace("http://", f"http://alice:{SECRET}@")

    code, document, stderr = scan_json(
        str(lock), "--index-url", configured, "--cache", str(tmp_path / "c.db")
    )

    assert code == 0, stderr
    # The other index was asked for torch, and never sent credentials.
    assert [path for path, _ in other_index.requests] == ["/whl/cpu/torch/"]
    assert all("authorization" not in headers for _, headers in other_index.requests)
    assert "application/vnd.pypi.simple.v1+json" in other_index.requests[0][1]["accept"]
    # The configured index was asked for requests (with its credentials), never for torch.
    paths = fixture_index.paths()
    assert "/pypi/requests/json" in paths
    assert not [p for p in paths if "torch" in p]
    torch = package(document, "torch")
    facts, unknown = torch["facts"], torch["unknown_facts"]
    assert facts["known_to_index"] is True
    linux = "torch-2.9.1+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert f"sha256:{sha256_of(linux)}" in facts["file_hashes"]
    assert len(facts["file_hashes"]) == 15
    assert facts["has_wheel"] is True and facts["file_types"] == ["bdist_wheel"]
    assert facts["version_yanked"] is False
    assert facts["latest_version"] == "2.9.1+cpu"
    assert facts["release_count"] == 6  # 2.8.0, 2.9.0, 2.9.1, each with and without +cpu
    # What a simple index cannot say is unknown, with why: never PyPI's torch.
    index = other_index.index_url
    assert unknown["publishers"] == f"{index} is not PyPI: it does not say who can publish"
    assert torch["publishers"]["known"] is False
    for fact in ("organization", "previous_publishers", "busiest_account"):
        assert "is not PyPI" in unknown[fact], fact
    assert "download counts are PyPI's" in unknown["in_top_packages"]
    assert "no project URLs" in unknown["source_repository"]
    assert "PEP 700" in unknown["first_release"]
    assert "PEP 700" in unknown["version_upload_time"]
    assert "lists no vulnerabilities" in unknown["vulnerabilities"]
    assert "provenance" in unknown["has_provenance"]
    assert "sdist-only" not in {f["rule"] for f in torch["findings"]}
    assert "other-index" in {f["rule"] for f in torch["findings"]}
    assert any(n.startswith(f"other index {index}: its simple index") for n in document["notes"])
    assert SECRET not in json.dumps(document) + stderr


def test_an_other_index_on_the_configured_host_gets_no_credentials(other_index, tmp_path):
    """Credentials go per origin: the lockfile's index on the configured index's host
    must still be asked without them."""
    lock = lockfile(tmp_path, other_index.index_url)
    configured = f"{other_index.url}/simple".replace("http://", f"http://alice:{SECRET}@")

    code, document, stderr = scan_json(
        str(lock), "--index-url", configured, "--cache", str(tmp_path / "c.db")
    )

    assert code == 0, stderr
    by_path = {path: headers for path, headers in other_index.requests}
    assert "authorization" in by_path["/pypi/requests/json"]  # the configured index's
    assert "authorization" not in by_path["/whl/cpu/torch/"]
    assert package(document, "torch")["facts"]["known_to_index"] is True


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (401, "refused access (HTTP 401); trustmap sends no credentials"),
        (404, "has no page for torch (HTTP 404)"),
    ],
)
def test_an_index_that_refuses_leaves_the_facts_unknown_and_the_scan_completes(
    fixture_index, other_index, tmp_path, status, says
):
    other_index.status = status
    lock = lockfile(tmp_path, other_index.index_url)

    code, document, stderr = scan_json(
        str(lock), "--index-url", fixture_index.simple_url, "--cache", str(tmp_path / "c.db")
    )

    assert code == 0, stderr
    assert other_index.requests  # it was asked
    torch = package(document, "torch")
    assert says in torch["unknown_facts"]["known_to_index"]
    assert other_index.index_url in torch["unknown_facts"]["publishers"]
    assert package(document, "requests")["facts"]["publishers"]  # the rest is scanned


def test_an_unreachable_index_leaves_the_facts_unknown_with_the_reason(fixture_index, tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    registry = f"http://127.0.0.1:{closed.getsockname()[1]}/whl/cpu"
    closed.close()  # nothing listens there: connections are refused
    lock = lockfile(tmp_path, registry)

    code, document, stderr = scan_json(
        str(lock), "--index-url", fixture_index.simple_url, "--cache", str(tmp_path / "c.db")
    )

    assert code == 0, stderr
    reason = package(document, "torch")["unknown_facts"]["file_hashes"]
    assert reason.startswith(f"{registry}, the index the lockfile names, gave no usable answer: ")
    assert "ConnectError" in reason
    assert package(document, "requests")["facts"]["known_to_index"] is True


def test_an_unreachable_index_alone_is_no_unreachable_configured_index(fixture_index, tmp_path):
    """Every package of the scan from the other index, and that index down: the facts are
    unknown, not "cannot reach the index" (the configured one was never needed)."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    registry = f"http://127.0.0.1:{closed.getsockname()[1]}/whl/cpu"
    closed.close()
    lock = tmp_path / "uv.lock"
    lock.write_text(
        'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n\n'
        '[[package]]\nname = "lab"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
        'dependencies = [{ name = "torch" }]\n\n'
        f'[[package]]\nname = "torch"\nversion = "2.9.1+cpu"\n'
        f'source = {{ registry = "{registry}" }}\n'
    )

    code, document, stderr = scan_json(
        str(lock), "--index-url", fixture_index.simple_url, "--cache", str(tmp_path / "c.db")
    )

    assert code == 0, stderr
    assert {p["name"] for p in document["packages"]} == {"torch"}
    assert "gave no usable answer" in package(document, "torch")["unknown_facts"]["known_to_index"]


def test_switched_off_nothing_is_sent_to_the_other_index(fixture_index, other_index, tmp_path):
    lock = lockfile(tmp_path, other_index.index_url)
    config = tmp_path / "trustmap.toml"
    config.write_text("other-indexes = false\n")

    for switch in (["--no-other-indexes"], ["--config", str(config)]):
        code, document, stderr = scan_json(
            str(lock), "--index-url", fixture_index.simple_url, *switch
        )
        assert code == 0, stderr
        assert "switched off" in package(document, "torch")["unknown_facts"]["known_to_index"]
        assert any("not asked (switched off)" in note for note in document["notes"])
    assert other_index.requests == []
    assert not [p for p in fixture_index.paths() if "torch" in p]


def test_an_internal_name_locked_from_the_labs_own_index_is_no_dependency_confusion(
    fixture_index, other_index, tmp_path
):
    """torch is "internal" here and its lockfile index has it: that index is the lab's,
    so its name being known there is no internal name taken on the configured index."""
    lock = lockfile(tmp_path, other_index.index_url)
    config = tmp_path / "trustmap.toml"
    config.write_text('internal-packages = ["torch"]\n')

    code, document, stderr = scan_json(
        str(lock), "--index-url", fixture_index.simple_url, "--config", str(config)
    )

    assert code == 0, stderr
    torch = package(document, "torch")
    assert torch["facts"]["known_to_index"] is True
    assert torch["facts"]["matches_internal_pattern"] is True
    assert "dependency-confusion" not in {f["rule"] for f in torch["findings"]}


def test_an_unreachable_index_is_asked_once_for_all_its_packages(fixture_index, tmp_path):
    """Each of its packages would otherwise wait out the retries of its own request."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    registry = f"http://127.0.0.1:{closed.getsockname()[1]}/whl/cpu"
    closed.close()
    names = ("torch", "torchvision", "torchaudio")
    lock = tmp_path / "uv.lock"
    lock.write_text(
        'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n\n'
        '[[package]]\nname = "lab"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
        f"dependencies = [{', '.join(f'{{ name = {n!r} }}' for n in names)}]\n\n".replace("'", '"')
        + "".join(
            f'[[package]]\nname = "{n}"\nversion = "2.9.1+cpu"\n'
            f'source = {{ registry = "{registry}" }}\n\n'
            for n in names
        )
    )

    code, document, stderr = scan_json(
        str(lock), "--index-url", fixture_index.simple_url, "--cache", str(tmp_path / "c.db")
    )

    assert code == 0, stderr
    reasons = {n: package(document, n)["unknown_facts"]["known_to_index"] for n in names}
    assert len(set(reasons.values())) == 1  # the first package's failure, said for all
    assert "ConnectError" in reasons["torch"]
    assert "requests sent: 3" in document["notes"]  # stamina's test mode: three attempts
