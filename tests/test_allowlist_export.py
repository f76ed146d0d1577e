"""`trustmap allowlist export`: what installers are given, tested with the installer.
pip runs against the exported simple index (as a file:// folder and over HTTP on
127.0.0.1) and the files are served by the fixture index from recorded real wheels."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scanner.inputs.allowlist_file import render_allowlist
from scanner.model import AllowedPackage, Allowlist, Approval, ApprovedFacts
from tests.conftest import INDEX_FIXTURES
from tests.test_cli import run

APPROVAL = Approval("reviewed, SEC-7", "alice@example.org", date(2026, 12, 4))
CERTIFI_WHEEL = "certifi-2026.10.19.post1-py3-none-any.whl"
CERTIFI_SHA256 = hashlib.sha256((INDEX_FIXTURES / "files" / CERTIFI_WHEEL).read_bytes()).hexdigest()
NOT_THE_FILE = "sha256:" + "0" * 64


@pytest.fixture
def allowlist(tmp_path: Path) -> Path:
    """certifi approved at one version (any of its files); charset-normalizer approved
    only as a file the index does not have; markdown-it-py not approved at all."""
    entries = {
        "certifi": AllowedPackage("certifi", APPROVAL, "==2026.10.19.post1",
                                  facts=ApprovedFacts(("Lukasa",), "certifi")),
        "charset-normalizer": AllowedPackage("charset-normalizer", APPROVAL, "==3.5.2",
                                             (NOT_THE_FILE,)),
        "six": AllowedPackage("six", APPROVAL, ">=1.16"),
    }  # fmt: skip
    path = tmp_path / "trustmap-allowlist.toml"
    path.write_text(render_allowlist(Allowlist(str(path), entries)))
    return path


def pip(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """pip as a person runs it, with no configuration, cache or index but the one given."""
    env = {
        **os.environ,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_NO_CACHE_DIR": "1",
    }
    env.pop("PIP_INDEX_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def export(allowlist: Path, index, fmt: str, *more: str) -> tuple[int, str, str]:
    return run("allowlist", "export", "--allowlist", str(allowlist), "--index-url",
               index.simple_url, "-f", fmt, *more)  # fmt: skip


def test_the_simple_index_serves_approved_files_only(allowlist, fixture_index, tmp_path):
    folder = tmp_path / "approved-index"
    code, _, err = export(allowlist, fixture_index, "simple-index", "-o", str(folder))
    assert code == 0, err
    assert "charset-normalizer: no file on the index matches the approved versions" in err
    page = (folder / "certifi" / "index.html").read_text()
    # Absolute URLs to where the index keeps the file, each with its hash.
    assert f"{fixture_index.url}/packages/" in page and f"#sha256={CERTIFI_SHA256}" in page
    assert 'data-requires-python="&gt;=3.7"' in page
    assert "2024.8.30" not in page  # another version: not approved, not listed

    out = tmp_path / "downloads"
    index_url = folder.as_uri()
    done = pip("download", "--no-deps", "--only-binary=:all:", "-d", str(out),
               "--index-url", index_url, "certifi", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert [p.name for p in out.iterdir()] == [CERTIFI_WHEEL]
    assert hashlib.sha256((out / CERTIFI_WHEEL).read_bytes()).hexdigest() == CERTIFI_SHA256
    for refused in ("charset-normalizer", "markdown-it-py", "certifi==2024.8.30"):
        done = pip("download", "--no-deps", "--only-binary=:all:", "-d", str(out),
                   "--index-url", index_url, refused, cwd=tmp_path)  # fmt: skip
        assert done.returncode != 0, refused
        assert "No matching distribution found" in done.stderr, done.stderr
    assert [p.name for p in out.iterdir()] == [CERTIFI_WHEEL]
    # The hash in the index is what pip holds the download to: other bytes at the URL fail.
    swapped = tmp_path / "swapped" / CERTIFI_WHEEL
    swapped.parent.mkdir()
    shutil.copy(INDEX_FIXTURES / "files" / "charset_normalizer-3.5.2-py3-none-any.whl", swapped)
    page_path = folder / "certifi" / "index.html"
    url = page.split('href="')[1].split("#")[0]
    page_path.write_text(page.replace(url, swapped.as_uri()))
    done = pip("download", "--no-deps", "--only-binary=:all:", "-d", str(tmp_path / "again"),
               "--index-url", index_url, "certifi", cwd=tmp_path)  # fmt: skip
    assert done.returncode != 0 and "DO NOT MATCH THE HASHES" in done.stderr, done.stderr


def test_pip_installs_from_the_index_served_over_http(allowlist, fixture_index, tmp_path):
    folder = tmp_path / "approved-index"
    assert export(allowlist, fixture_index, "simple-index", "-o", str(folder))[0] == 0
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        target = tmp_path / "target"
        done = pip("install", "--no-deps", "--only-binary=:all:", "--target", str(target),
                   "--index-url", url, "certifi", cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert (target / "certifi-2026.10.19.post1.dist-info").is_dir()
        done = pip("install", "--no-deps", "--only-binary=:all:", "--target", str(target),
                   "--index-url", url, "markdown-it-py", cwd=tmp_path)  # fmt: skip
        assert done.returncode != 0 and "No matching distribution found" in done.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_requirements_with_hashes_and_constraints(allowlist, fixture_index, tmp_path):
    code, out, err = export(allowlist, fixture_index, "requirements")
    assert code == 0, err
    assert f"certifi==2026.10.19.post1 \\\n    --hash=sha256:{CERTIFI_SHA256}" in out
    assert f"charset-normalizer==3.5.2 \\\n    --hash={NOT_THE_FILE}\n" in out
    assert "six" not in out.split("# pip install")[1]
    assert "six: left out: >=1.16 is not one version" in err
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        out.replace(f"charset-normalizer==3.5.2 \\\n    --hash={NOT_THE_FILE}\n", "")
    )
    folder = tmp_path / "approved-index"
    assert export(allowlist, fixture_index, "simple-index", "-o", str(folder))[0] == 0
    done = pip("download", "--require-hashes", "--no-deps", "-d", str(tmp_path / "d"), "-r",
               str(requirements), "--index-url", folder.as_uri(), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    code, out, _ = export(allowlist, fixture_index, "constraints")
    assert code == 0
    assert out.splitlines()[2:] == [
        "certifi==2026.10.19.post1", "charset-normalizer==3.5.2", "six>=1.16",
    ]  # fmt: skip


def test_an_export_over_a_folder_that_is_not_one_refuses(allowlist, fixture_index, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    code, _, err = export(allowlist, fixture_index, "simple-index", "-o", str(folder))
    assert code == 2 and "is not an exported index" in err
    assert (folder / "notes.txt").read_text() == "keep me"
    code, _, err = export(allowlist, fixture_index, "simple-index")
    assert code == 2 and "needs -o DIR" in err


def test_index_values_are_escaped_in_the_html_and_json():
    from html.parser import HTMLParser

    from scanner.model import IndexFile
    from scanner.report.allowlist_export import simple_index

    hostile = IndexFile(
        filename='x-1.0.tar.gz"><script>alert(1)</script>',
        url='https://files.example/x-1.0.tar.gz?a=1&b="2"',
        sha256="ab" * 32,
        version="1.0",
        requires_python='>=3.8"onmouseover="x',
        yanked="<b>bad</b>",
    )
    pages = simple_index({"x": [hostile]})
    page = pages["x/index.html"]
    assert "<script>" not in page and 'onmouseover="x' not in page

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[dict] = []

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.found.append(dict(attrs))

    parser = Links()
    parser.feed(page)
    (link,) = parser.found
    assert link["href"] == f"{hostile.url}#sha256={'ab' * 32}"
    assert link["data-requires-python"] == hostile.requires_python
    assert link["data-yanked"] == "<b>bad</b>"
    (entry,) = json.loads(pages["x/index.json"])["files"]
    assert entry["filename"] == hostile.filename and entry["yanked"] == "<b>bad</b>"
