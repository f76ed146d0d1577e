"""Requirements that name a GitHub repository: their declared dependencies read at the
ref through the contents API of a local server on 127.0.0.1 (pyproject.toml PEP 621 and
Poetry, setup.cfg; setup.py-only is unknown with the reason), never built; a ref that is
not a commit is said to be no pin."""

from __future__ import annotations

import asyncio
from pathlib import Path

from scanner.endpoints import choose_endpoints
from scanner.model import Requirement
from scanner.options import ScanOptions
from scanner.scan import read_targets
from scanner.sources.git_requirements import (
    _from_pyproject,
    _poetry_version,
    expand,
    github_reference,
)
from scanner.sources.http import Fetcher
from scanner.store import Store
from tests.api_server import Reply, replay_server

PEP621 = b"""
[project]
name = "labtool"
version = "0.1"
dependencies = ["six>=1.16", "idna; python_version >= '3.8'"]
"""
SETUP_CFG = b"""
[metadata]
name = labtool
[options]
install_requires =
    six>=1.10  # the old API
    idna
"""
SHA = "0123456789abcdef0123456789abcdef01234567"


def expanded(tmp_path: Path, url: str, routes: dict[str, Reply], api: str | None = "server"):
    requirement = Requirement("labtool", url=url)
    with replay_server() as server:
        for route, reply in routes.items():
            server.route(route, reply)

        async def go():
            store = Store(tmp_path / "db")
            fetcher = Fetcher(store)
            try:
                return await expand([requirement], fetcher, server.url if api else None)
            finally:
                await fetcher.aclose()
                store.close()

        return asyncio.run(go()), server.seen


def test_a_github_reference_is_read_from_the_url():
    assert github_reference("git+https://github.com/o/r.git@v1") == ("o", "r", "v1")
    assert github_reference("git+https://github.com/o/r") == ("o", "r", "")
    assert github_reference("git+https://gitlab.com/o/r@v1") is None
    assert github_reference("https://github.com/o/r") is None


def test_pep_621_dependencies_at_a_branch_which_is_no_pin(tmp_path):
    found, seen = expanded(
        tmp_path,
        "git+https://github.com/lab/labtool@main",
        {"GET /repos/lab/labtool/contents/pyproject.toml": Reply(200, PEP621)},
    )
    assert [(r.name, r.specifier, r.marker) for r in found.requirements] == [
        ("six", ">=1.16", None),
        ("idna", "", 'python_version >= "3.8"'),
    ]
    assert [(e.parent, e.child) for e in found.edges] == [("labtool", "six"), ("labtool", "idna")]
    assert seen[0].path == "/repos/lab/labtool/contents/pyproject.toml?ref=main"
    assert found.notes == [
        "labtool: installed from ref 'main', a branch or tag, which is no pin: it can move"
    ]


def test_setup_cfg_when_pyproject_declares_nothing_and_a_commit_is_a_pin(tmp_path):
    found, _ = expanded(
        tmp_path,
        f"git+https://github.com/lab/labtool@{SHA}",
        {
            "GET /repos/lab/labtool/contents/pyproject.toml": Reply(
                200, b"[build-system]\nrequires = ['setuptools']\n"
            ),
            "GET /repos/lab/labtool/contents/setup.cfg": Reply(200, SETUP_CFG),
        },
    )
    assert [(r.name, r.specifier) for r in found.requirements] == [("six", ">=1.10"), ("idna", "")]
    assert found.notes == [] and found.problems == []


def test_a_setup_py_only_repository_has_unknown_dependencies_with_the_reason(tmp_path):
    found, _ = expanded(
        tmp_path,
        "git+https://github.com/lab/labtool@v2",
        {"GET /repos/lab/labtool/contents/setup.py": Reply(200, b"from setuptools import setup")},
    )
    assert found.requirements == []
    [problem] = found.problems
    assert problem.kind == "unknown-dependencies" and "only in setup.py" in problem.message
    assert "github.com/lab/labtool@v2" in problem.message


def test_github_unreachable_or_switched_off_leaves_them_unknown(tmp_path):
    found, seen = expanded(tmp_path, "git+https://github.com/lab/labtool@v2", {}, api=None)
    assert seen == [] and "switched off" in found.problems[0].message
    found, _ = expanded(
        tmp_path / "b",
        "git+https://github.com/lab/labtool@v2",
        {"GET /repos/lab/labtool/contents/pyproject.toml": Reply(502, b"bad gateway")},
    )
    assert "HTTP 502" in found.problems[0].message


def test_poetry_dependencies_become_pep_508():
    doc = b"""
[tool.poetry.dependencies]
python = "^3.10"
requests = "^2.31"
numpy = "~1.26.4"
rich = "*"
click = "8.1.7"
torch = { version = "^2.1", optional = true }
"""
    assert _from_pyproject(doc) == [
        "requests>=2.31,<3",
        "numpy>=1.26.4,<1.27",
        "rich",
        "click==8.1.7",
    ]
    assert _poetry_version("^0.2.3") == ">=0.2.3,<0.3"


def test_a_scanned_requirements_file_resolves_what_the_repository_declares(fixture_index, tmp_path):
    manifest = tmp_path / "requirements.txt"
    manifest.write_text("labtool @ git+https://github.com/lab/labtool@main\n")
    with replay_server() as server:
        server.route("GET /repos/lab/labtool/contents/pyproject.toml", Reply(200, PEP621))
        options = ScanOptions(
            index_url=fixture_index.simple_url,
            cache_path=tmp_path / "cache.db",
            python_version="3.11",
            platform="linux",
            endpoints=choose_endpoints((), {}, {"TRUSTMAP_GITHUB_API_URL": server.url}),
        )
        resolution = read_targets((str(manifest),), options)
    names = {p.name for p in resolution.packages}
    assert {"labtool", "six", "idna"} <= names
    assert ("labtool", "six") in {(e.parent, e.child) for e in resolution.edges}
    assert resolution.roots == ("labtool",)
    assert any("no pin" in note for note in resolution.notes)
