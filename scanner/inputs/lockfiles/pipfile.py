"""Pipfile.lock: the packages `pipenv sync` installs, by category and marker."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ...model import Location, Package, Problem, Resolution
from .._common import (
    LineFinder,
    canonical,
    expect_list,
    expect_table,
    input_error,
    is_valid_name,
    load_json,
    read_text,
)
from ..interface import Sniffed, register
from ._shared import (
    LockBuilder,
    LockfileKind,
    Selection,
    checked_version,
    hash_strings,
    lock_target,
    optional_str,
    other_index,
    parsed_marker,
    pinned_version,
    selection_or_default,
)

# Pipfile's [packages] and [dev-packages] are locked as "default" and "develop"; other
# categories keep their names.
_PIPFILE_CATEGORIES = {"packages": "default", "dev": "develop", "dev-packages": "develop"}


def read_pipfile_lock(
    path: str | os.PathLike[str], selection: Selection | None = None
) -> Resolution:
    """The packages `pipenv sync` installs: the default category (plus develop with
    --group dev, or any category by name), each entry's markers evaluated for the target."""
    selection = selection_or_default(selection)
    shown = str(path)
    text = read_text(path, shown_as=shown)
    document = load_json(text, shown)
    document = expect_table(document, "the Pipfile.lock document", shown)
    if "_meta" not in document:
        raise input_error(shown, None, "not a Pipfile.lock: no '_meta' section")
    meta = expect_table(document["_meta"], "'_meta'", shown)
    sections = [key for key in document if key != "_meta"]
    chosen = _pipfile_sections(sections, selection, shown)
    # A package's "index" names one of _meta.sources; the first source is the default.
    index_urls = {
        source["name"]: source["url"]
        for source in (meta.get("sources") if isinstance(meta.get("sources"), list) else [])
        if isinstance(source, dict)
        and isinstance(source.get("name"), str)
        and isinstance(source.get("url"), str)
    }
    lines = LineFinder(text)
    builder = LockBuilder(shown)
    for section in chosen:
        section_line = lines.find(f'"{section}": {{') or 0
        entries = expect_table(document.get(section, {}), f"'{section}'", shown, section_line)
        for display_name, entry in entries.items():
            line = lines.find(f'"{display_name}": {{', section_line) or section_line or None
            if not is_valid_name(display_name):
                raise input_error(shown, line, f"invalid package name {display_name!r}")
            entry = expect_table(entry, f"entry {display_name!r}", shown, line)
            marker = parsed_marker(entry.get("markers"), "markers", shown, line)
            if not selection.holds(marker):
                continue
            package = _pipfile_package(display_name, entry, shown, line, index_urls)
            if not package.version and not package.direct_url:
                builder.problems.append(_unpinned_pipfile_entry(display_name, entry, shown, line))
                continue
            builder.add_package(package)
    requires = meta.get("requires") if isinstance(meta.get("requires"), dict) else {}
    python = requires.get("python_full_version") or requires.get("python_version")
    outside = selection.python_outside(f"=={python}" if isinstance(python, str) else None)
    if outside:
        builder.problems.append(Problem("target-outside-lock", f"{shown}: {outside}"))
    notes = []
    if selection.extras or selection.all_extras:
        notes.append("a Pipfile.lock has no project extras: --extra does not apply")
    target = lock_target(
        selection,
        chosen,
        None,
        requires_python=f"=={python}" if isinstance(python, str) else None,
        extra_notes=notes,
    )
    # Pipfile.lock lists the closure flat: no edges, and no record of what was direct.
    return builder.resolution(None, target)


def _pipfile_sections(sections: list[str], selection: Selection, path: str) -> list[str]:
    if selection.all_groups:
        return sections
    chosen = ["default"]
    for group in selection.groups:
        section = _PIPFILE_CATEGORIES.get(group, group)
        if section not in sections and section != "default":
            known = ", ".join(sections) or "none"
            raise input_error(path, None, f"no category named {group!r} is locked ({known})")
        chosen.append(section)
    return list(dict.fromkeys(chosen))


def _unpinned_pipfile_entry(
    name: str, entry: Mapping[str, Any], path: str, line: int | None
) -> Problem:
    # pipenv writes "*" for a package whose marker did not hold where it locked.
    locked = entry.get("version")
    return Problem(
        kind="unpinned-lock-entry",
        message=f"{Location(path, line)}: {name} is not pinned (version {locked!r}): pipenv "
        "would install whatever the index has; lock again on the target platform",
        package=canonical(name),
        location=Location(path, line),
        fatal=True,
    )


def _pipfile_package(
    display_name: str,
    entry: Mapping[str, Any],
    path: str,
    line: int | None,
    index_urls: Mapping[str, str],
) -> Package:
    specifier = optional_str(entry.get("version"), f"version of {display_name}", path, line)
    version = pinned_version(specifier) or ""
    if version:
        version = checked_version(version, display_name, path, line, required=True)
    direct_url = None
    for key in ("git", "file", "path"):
        if isinstance(entry.get(key), str):
            direct_url = entry[key]
            if key == "git":
                reference = entry.get("ref")
                direct_url = "git+" + direct_url + (f"@{reference}" if reference else "")
            break
    hashes = expect_list(entry.get("hashes", []), f"hashes of {display_name}", path, line)
    index = entry.get("index")
    return Package(
        name=canonical(display_name),
        version=version,
        display_name=display_name,
        origin=Location(path, line),
        direct_url=direct_url,
        editable=entry.get("editable") is True,
        hashes=hash_strings(hashes),
        index_url=other_index(index_urls.get(index)) if isinstance(index, str) else None,
    )


@register
class PipfileLock(LockfileKind):
    name = "Pipfile.lock"
    priority = 20  # before the other TOML kinds: a Pipfile is refused, not misread

    def matches_name(self, file_name: str) -> bool:
        return file_name == "Pipfile.lock"

    def detect(self, sniffed: Sniffed) -> bool:
        if sniffed.format == "json":
            document = sniffed.json
            return (
                isinstance(document, dict)
                and "_meta" in document
                and ("default" in document or "develop" in document)
            )
        document = sniffed.toml
        if document is not None and (
            sniffed.file_name == "Pipfile" or ("packages" in document and "source" in document)
        ):
            raise input_error(
                sniffed.path,
                None,
                "a Pipfile is not read directly; run `pipenv lock` and give Pipfile.lock",
            )
        return False

    def read_lock(self, path: str | os.PathLike[str], selection: Selection | None) -> Resolution:
        return read_pipfile_lock(path, selection)
