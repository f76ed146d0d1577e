"""The allowlist as installers take it (`trustmap allowlist export`): hash-pinned
requirements for `pip install --require-hashes -r`, a constraints file for `-c`, and a
static simple index (PEP 503 HTML with PEP 691 JSON beside it) that lists only the
approved files, so that an installer pointed at it can install nothing else. Pure: the
allowlist and the approved files (scanner.policy.allowlist.approved_files) in, text out.
Every value from the index is escaped for where it goes (HTML attributes, JSON)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence

from scanner.model import Allowlist, IndexFile

PROJECT_JSON = "application/vnd.pypi.simple.v1+json"


def _head(kind: str, source: str) -> str:
    return (
        f"# {kind} exported by `trustmap allowlist export` from {source.replace(chr(10), ' ')}.\n"
        "# Generated: edit the allowlist, not this file.\n"
    )


def requirements_text(allowlist: Allowlist, pins: Mapping[str, tuple[str, Sequence[str]]]) -> str:
    """`pins`: name -> (the one version, its approved hashes), for the entries that have
    both (the others are said in notes by the caller)."""
    lines = [_head("Hash-pinned requirements", allowlist.source)]
    lines.append("# pip install --require-hashes --no-deps -r THIS_FILE\n")
    for name in sorted(pins):
        version, hashes = pins[name]
        parts = [f"{name}=={version}", *(f"    --hash={h}" for h in sorted(hashes))]
        lines.append(" \\\n".join(parts) + "\n")
    return "".join(lines)


def constraints_text(allowlist: Allowlist) -> str:
    """Every entry's versions as a constraint: `pip install -c THIS_FILE` keeps each
    package within its approved versions (it does not stop other packages: the simple
    index does)."""
    lines = [_head("Constraints", allowlist.source)]
    for name in sorted(allowlist.packages):
        versions = allowlist.packages[name].versions
        if versions:
            lines.append(f"{name}{versions}\n")
    return "".join(lines)


def _file_json(file: IndexFile) -> dict:
    entry: dict = {
        "filename": file.filename,
        "url": file.url,
        "hashes": {"sha256": file.sha256},
    }
    if file.requires_python:
        entry["requires-python"] = file.requires_python
    if file.yanked is not None:
        entry["yanked"] = file.yanked or True
    return entry


def _anchor(file: IndexFile) -> str:
    attributes = [f'href="{html.escape(file.url, quote=True)}#sha256={file.sha256}"']
    if file.requires_python:
        attributes.append(f'data-requires-python="{html.escape(file.requires_python, quote=True)}"')
    if file.yanked is not None:
        attributes.append(f'data-yanked="{html.escape(file.yanked, quote=True)}"')
    return f"    <a {' '.join(attributes)}>{html.escape(file.filename)}</a><br>\n"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        '    <meta name="pypi:repository-version" content="1.1">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"{body}  </body>\n</html>\n"
    )


def simple_index(approved: Mapping[str, Sequence[IndexFile]]) -> dict[str, str]:
    """The index as files: relative path -> text. `index.html` and `index.json` at the
    root list the projects; `NAME/index.html` and `NAME/index.json` their approved files
    with absolute URLs and sha256 hashes (installers check every download against them)."""
    pages: dict[str, str] = {}
    names = sorted(approved)
    links = "".join(f'    <a href="{name}/">{name}</a><br>\n' for name in names)
    pages["index.html"] = _page("Simple index", links)
    pages["index.json"] = _json(
        {"meta": {"api-version": "1.1"}, "projects": [{"name": name} for name in names]}
    )
    for name in names:
        files = sorted(approved[name], key=lambda f: (f.version, f.filename))
        pages[f"{name}/index.html"] = _page(f"Links for {name}", "".join(_anchor(f) for f in files))
        pages[f"{name}/index.json"] = _json(
            {
                "meta": {"api-version": "1.1"},
                "name": name,
                "files": [_file_json(f) for f in files],
                "versions": sorted({f.version for f in files}),
            }
        )
    return pages


def _json(document: dict) -> str:
    return json.dumps(document, indent=1, sort_keys=True) + "\n"
