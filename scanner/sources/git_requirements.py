"""The declared dependencies of a requirement that names a GitHub repository
(`pkg @ git+https://github.com/OWNER/REPO@REF`, common in research code), read at that
ref through GitHub's contents API: `pyproject.toml` (PEP 621 `project.dependencies`, or
Poetry's `tool.poetry.dependencies`), else `setup.cfg` (`options.install_requires`).
Nothing is built or run: a repository that declares its dependencies only in `setup.py`
has unknown dependencies, and the reason says so.

A ref that is not a full commit hash is a branch or a tag: it can move, so it is no pin,
and the notes say so.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PackagingRequirement
from packaging.utils import canonicalize_name

from scanner.model import Edge, Problem, Requirement
from scanner.sources.github import github_token
from scanner.sources.http import DEFAULT_TTL, Fetcher

RAW = "application/vnd.github.raw+json"
MAX_FILE_BYTES = 1024 * 1024
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class GitDependencies:
    requirements: tuple[str, ...] | None  # PEP 508 strings; None when unknown
    read_from: str = ""  # the file they were read from
    why: str = ""  # why they are unknown


def github_reference(url: str) -> tuple[str, str, str] | None:
    """(owner, repository, ref) of a `git+https://github.com/OWNER/REPO[.git][@REF]`
    URL; ref "" when none is named (the default branch). None for anything else."""
    if not url.startswith("git+"):
        return None
    parts = urlsplit(url.removeprefix("git+"))
    if parts.scheme not in ("https", "http", "ssh") or (parts.hostname or "") != "github.com":
        return None
    path, _, ref = parts.path.partition("@")
    segments = [s for s in path.split("/") if s]
    if len(segments) != 2:
        return None
    return segments[0], segments[1].removesuffix(".git"), ref


def is_commit(ref: str) -> bool:
    return bool(_COMMIT.match(ref.lower()))


def ref_note(name: str, ref: str) -> str:
    """What the report says of a ref that is no pin ("" for a commit)."""
    if not ref:
        return (
            f"{name}: installed from its repository's default branch, which is no pin: it can move"
        )
    if is_commit(ref):
        return ""
    return f"{name}: installed from ref {ref!r}, a branch or tag, which is no pin: it can move"


async def declared_dependencies(
    fetcher: Fetcher, api_base: str, owner: str, repository: str, ref: str
) -> GitDependencies:
    """What the repository declares at `ref`, or why that is unknown."""
    token = github_token()
    found: dict[str, bytes | None] = {}
    for filename in ("pyproject.toml", "setup.cfg", "setup.py"):
        body, why = await _file(fetcher, api_base, owner, repository, ref, filename, token)
        if why:
            return GitDependencies(None, why=why)
        found[filename] = body
        if filename == "pyproject.toml" and body is not None:
            declared = _from_pyproject(body)
            if declared is not None:
                return GitDependencies(tuple(declared), "pyproject.toml")
        if filename == "setup.cfg" and body is not None:
            declared = _from_setup_cfg(body)
            if declared is not None:
                return GitDependencies(tuple(declared), "setup.cfg")
    if found.get("setup.py") is not None:
        return GitDependencies(
            None,
            why="it declares its dependencies only in setup.py, which trustmap never runs: unknown",
        )
    return GitDependencies(None, why="it has no pyproject.toml, setup.cfg or setup.py at that ref")


async def _file(
    fetcher: Fetcher,
    api_base: str,
    owner: str,
    repository: str,
    ref: str,
    filename: str,
    token: str,
) -> tuple[bytes | None, str]:
    """(the file's bytes, "") or (None, "") when it does not exist, or (None, why)."""
    url = f"{api_base.rstrip('/')}/repos/{quote(owner)}/{quote(repository)}/contents/{filename}"
    if ref:
        url += f"?ref={quote(ref, safe='')}"
    cached = fetcher.store.get(url, "github-file-v1")
    # A commit's files never change; a branch's are asked again after the time-to-live.
    if cached is not None and (
        fetcher.offline or is_commit(ref) or (cached.age() < DEFAULT_TTL and not fetcher.refresh)
    ):
        text = cached.data.get("text")
        return (text.encode() if text is not None else None), ""
    if fetcher.offline:
        return None, "offline, and its files are not in the cache"
    headers = {"Accept": RAW, "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        answer = await fetcher.call(url, headers=headers, limit=MAX_FILE_BYTES)
    except (OSError, ValueError) as exc:
        return None, f"GitHub: {exc}"
    if answer.status_code == 404:
        fetcher.store.put(url, "github-file-v1", {"text": None}, None, None)
        return None, ""
    if answer.status_code != 200:
        return None, f"GitHub answered HTTP {answer.status_code} for {filename} ({answer.url})"
    text = answer.body.decode("utf-8", "replace")
    fetcher.store.put(url, "github-file-v1", {"text": text}, None, None)
    return answer.body, ""


def _from_pyproject(body: bytes) -> list[str] | None:
    """PEP 621 dependencies, else Poetry's; None when it declares neither statically."""
    try:
        data = tomllib.loads(body.decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError:
        return None
    project = data.get("project")
    if isinstance(project, dict) and "dependencies" not in (project.get("dynamic") or []):
        dependencies = project.get("dependencies", [])
        if isinstance(dependencies, list):
            return [str(d) for d in dependencies if isinstance(d, str)]
    poetry = ((data.get("tool") or {}).get("poetry") or {}).get("dependencies")
    if isinstance(poetry, dict):
        return [r for r in (_poetry(n, s) for n, s in poetry.items()) if r]
    return None


def _from_setup_cfg(body: bytes) -> list[str] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(body.decode("utf-8", "replace"))
    except configparser.Error:
        return None
    if not parser.has_option("options", "install_requires"):
        return None
    lines = parser.get("options", "install_requires").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def _poetry(name: str, spec: Any) -> str:
    """A Poetry dependency as PEP 508 ("" for python itself and optional ones)."""
    if name.lower() == "python":
        return ""
    if isinstance(spec, dict):
        if spec.get("optional"):
            return ""
        if "git" in spec or "path" in spec or "url" in spec:
            return name  # its own source: the name is all that can be resolved here
        spec = spec.get("version", "*")
    return name + _poetry_version(str(spec))


def _poetry_version(spec: str) -> str:
    spec = spec.strip()
    if spec in ("", "*"):
        return ""
    if spec[0] in "^~" and spec[1:2] != "=":
        parts = [int(p) if p.isdigit() else 0 for p in spec[1:].split(".")]
        base = spec[1:]
        if spec[0] == "^":
            first = next((i for i, p in enumerate(parts) if p), len(parts) - 1)
            upper = [*parts[:first], parts[first] + 1]
        else:
            upper = [parts[0], parts[1] + 1] if len(parts) > 1 else [parts[0] + 1]
        return f">={base},<{'.'.join(map(str, upper))}"
    if spec[0].isdigit():
        return f"=={spec}"
    return spec


@dataclass
class Expansion:
    """What the GitHub requirements add to a resolution: their dependencies (to resolve
    as requirements), the edges from them, and what is unknown or unpinned about them."""

    requirements: list[Requirement] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def expand(
    declared: Sequence[Requirement], fetcher: Fetcher, api_base: str | None
) -> Expansion:
    """The declared dependencies of every requirement that names a GitHub repository
    (`api_base`: GitHub's API, None when switched off)."""
    expansion = Expansion()
    for requirement in declared:
        reference = github_reference(requirement.url or "")
        if reference is None:
            continue
        owner, repository, ref = reference
        note = ref_note(requirement.name, ref)
        if note:
            expansion.notes.append(note)
        if api_base is None:
            found = GitDependencies(None, why="GitHub is switched off")
        else:
            found = await declared_dependencies(fetcher, api_base, owner, repository, ref)
        if found.requirements is None:
            expansion.problems.append(
                Problem(
                    "unknown-dependencies",
                    f"{requirement.name} (github.com/{owner}/{repository}"
                    f"{'@' + ref if ref else ''}): its dependencies are unknown: {found.why}",
                    package=requirement.name,
                    location=requirement.location,
                )
            )
            continue
        for text in found.requirements:
            try:
                parsed = PackagingRequirement(text)
            except InvalidRequirement:
                expansion.problems.append(
                    Problem(
                        "bad-metadata",
                        f"{requirement.name}: {found.read_from} declares {text[:100]!r}, "
                        "which is not a requirement; left out",
                        package=requirement.name,
                    )
                )
                continue
            name = canonicalize_name(parsed.name)
            marker = str(parsed.marker) if parsed.marker else None
            expansion.requirements.append(
                Requirement(
                    name,
                    str(parsed.specifier),
                    frozenset(parsed.extras),
                    marker,
                    parsed.url,
                    location=requirement.location,
                )
            )
            expansion.edges.append(Edge(requirement.name, name, str(parsed.specifier), marker))
    return expansion
