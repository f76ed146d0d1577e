"""pylock.toml (PEP 751): the packages an installer installs for the target."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from ...model import Edge, Location, Package, Problem, Resolution
from .._common import (
    LineFinder,
    canonical,
    expect_list,
    expect_str,
    expect_table,
    input_error,
    load_toml,
    read_text,
)
from ..interface import Sniffed, register
from ._shared import (
    LockBuilder,
    LockfileKind,
    Selection,
    array_entry_lines,
    checked_name,
    checked_version,
    lock_target,
    optional_str,
    other_index,
    parsed_marker,
    selection_or_default,
)


def read_pylock(path: str | os.PathLike[str], selection: Selection | None = None) -> Resolution:
    """PEP 751: a package is installed when its marker holds for the target, with
    `extras` and `dependency_groups` set to what was selected (default: the lock's
    `default-groups`, no extras)."""
    selection = selection_or_default(selection)
    shown = str(path)
    text = read_text(path, shown_as=shown)
    document = load_toml(text, shown)
    lock_version = document.get("lock-version")
    if not isinstance(lock_version, str):
        raise input_error(shown, None, "not a pylock.toml: no 'lock-version' string")
    # PEP 751: tools must refuse a major version they do not know.
    if lock_version.split(".", 1)[0] != "1":
        raise input_error(shown, None, f"pylock lock-version {lock_version} is not supported")
    lines = LineFinder(text)
    extras = _pylock_choice(document, "extras", selection.extras, selection.all_extras, shown)
    groups = _pylock_choice(
        document, "dependency-groups", selection.groups, selection.all_groups, shown
    )
    if not selection.all_groups:
        defaults = _pylock_names(document, "default-groups", shown)
        groups = list(dict.fromkeys([*defaults, *groups]))
    entries = expect_list(document.get("packages", []), "[[packages]]", shown)
    entry_lines = array_entry_lines(lines, "packages", entries)
    builder = LockBuilder(shown)
    for entry, line in zip(entries, entry_lines, strict=True):
        entry = expect_table(entry, "a [[packages]] entry", shown, line)
        name = checked_name(entry.get("name"), "package name", shown, line)
        marker_line = lines.find_key("marker", line or 0) if line else None
        marker = parsed_marker(entry.get("marker"), f"marker of {name}", shown, marker_line or line)
        package = _pylock_package(name, entry, shown, line)
        if not selection.holds(marker, extras, groups):
            continue
        builder.add_package(package)
        for dependency in expect_list(
            entry.get("dependencies", []), f"dependencies of {name}", shown, line
        ):
            dependency = expect_table(dependency, f"a dependency of {name}", shown, line)
            if "name" in dependency:
                child = checked_name(dependency["name"], "dependency name", shown, line)
                builder.add_edge(Edge(parent=name, child=child))
    notes = []
    created_by = document.get("created-by")
    if isinstance(created_by, str):
        notes.append(f"created by {created_by}")
    outside = selection.python_outside(document.get("requires-python"))
    if outside:
        builder.problems.append(Problem("target-outside-lock", f"{shown}: {outside}"))
    target = lock_target(
        selection,
        groups,
        extras,
        requires_python=document.get("requires-python"),
        environments=document.get("environments"),
        extra_notes=notes,
    )
    return builder.resolution(None, target)


def _pylock_names(document: Mapping[str, Any], key: str, path: str) -> list[str]:
    values = expect_list(document.get(key, []), key, path)
    return [canonical(expect_str(value, f"an entry of {key}", path)) for value in values]


def _pylock_choice(
    document: Mapping[str, Any], key: str, asked: tuple[str, ...], everything: bool, path: str
) -> list[str]:
    """The extras or groups selected, refusing any the lock does not list."""
    available = _pylock_names(document, key, path)
    if everything:
        return available
    what = "extra" if key == "extras" else "dependency group"
    for name in asked:
        if name not in available:
            known = ", ".join(available) or "none"
            raise input_error(path, None, f"no {what} named {name!r} is locked ({known})")
    return list(asked)


def _pylock_package(name: str, entry: Mapping[str, Any], path: str, line: int | None) -> Package:
    hashes: list[str] = []
    direct_url = None
    editable = False

    def archive_hashes(item: Any, what: str) -> None:
        item = expect_table(item, what, path, line)
        table = expect_table(item.get("hashes", {}), f"{what}.hashes", path, line)
        for algorithm, digest in table.items():
            if isinstance(digest, str):
                hashes.append(f"{algorithm.lower()}:{digest.lower()}")

    if "vcs" in entry:
        vcs = expect_table(entry["vcs"], f"vcs of {name}", path, line)
        location = vcs.get("url") or vcs.get("path")
        kind = vcs.get("type", "git")
        if isinstance(location, str):
            commit = vcs.get("commit-id")
            direct_url = f"{kind}+{location}" + (f"@{commit}" if isinstance(commit, str) else "")
    if "directory" in entry:
        directory = expect_table(entry["directory"], f"directory of {name}", path, line)
        if isinstance(directory.get("path"), str):
            direct_url = directory["path"]
        editable = directory.get("editable") is True
    if "archive" in entry:
        archive_hashes(entry["archive"], f"archive of {name}")
        archive = entry["archive"]
        direct_url = archive.get("url") or archive.get("path") or direct_url
    if "sdist" in entry:
        archive_hashes(entry["sdist"], f"sdist of {name}")
    for wheel in expect_list(entry.get("wheels", []), f"wheels of {name}", path, line):
        archive_hashes(wheel, f"a wheel of {name}")
    # PEP 751: only a package from a source tree may omit its version.
    from_index = not any(key in entry for key in ("vcs", "directory", "archive"))
    return Package(
        name=name,
        version=checked_version(entry.get("version"), name, path, line, required=from_index),
        display_name=entry["name"],
        requires_python=optional_str(
            entry.get("requires-python"), f"requires-python of {name}", path, line
        ),
        origin=Location(path, line),
        direct_url=direct_url if isinstance(direct_url, str) else None,
        editable=editable,
        hashes=tuple(dict.fromkeys(hashes)),
        index_url=other_index(entry.get("index")),
    )


_PYLOCK_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")


@register
class Pylock(LockfileKind):
    name = "pylock"
    priority = 30

    def matches_name(self, file_name: str) -> bool:
        return _PYLOCK_NAME.match(file_name) is not None

    def detect(self, sniffed: Sniffed) -> bool:
        document = sniffed.toml
        return document is not None and "lock-version" in document and "packages" in document

    def read_lock(self, path: str | os.PathLike[str], selection: Selection | None) -> Resolution:
        return read_pylock(path, selection)
