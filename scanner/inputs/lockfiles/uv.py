"""uv.lock: the packages `uv sync` installs, walked from the project's members."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.markers import Marker

from ...model import Edge, Location, Package, Problem, Resolution
from .._common import (
    LineFinder,
    canonical,
    expect_list,
    expect_str,
    expect_table,
    input_error,
    is_valid_name,
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
    hash_strings,
    lock_target,
    other_index,
    parsed_marker,
    selection_or_default,
)

# uv sync installs these groups of a project that names no `default-groups`.
_UV_DEFAULT_GROUPS = ("dev",)


@dataclass
class _UvEntry:
    name: str
    table: Mapping[str, Any]
    line: int | None
    member: bool  # the project itself or a workspace member: local code, the roots
    fork: Marker | None  # which of uv's resolution forks this version belongs to


def read_uv_lock(path: str | os.PathLike[str], selection: Selection | None = None) -> Resolution:
    """The packages `uv sync` installs from a uv.lock for the selection: from each project
    member, its dependencies, its selected extras and groups, then what those need,
    following only the edges whose markers hold for the target."""
    selection = selection_or_default(selection)
    shown = str(path)
    text = read_text(path, shown_as=shown)
    document = load_toml(text, shown)
    version = document.get("version")
    if not isinstance(version, int):
        raise input_error(shown, None, "not a uv.lock: no integer 'version' at the top")
    if version != 1:
        raise input_error(shown, None, f"uv.lock version {version} is not supported (only 1)")
    entries = _uv_entries(document, text, shown)
    reader = _UvReader(shown, entries, selection)
    groups, extras = reader.read()
    outside = selection.python_outside(document.get("requires-python"))
    if outside:
        reader.builder.problems.append(Problem("target-outside-lock", f"{shown}: {outside}"))
    target = lock_target(selection, groups, extras, requires_python=document.get("requires-python"))
    return reader.builder.resolution(reader.roots if reader.members else None, target)


def _uv_entries(document: Mapping[str, Any], text: str, path: str) -> list[_UvEntry]:
    tables = expect_list(document.get("package", []), "[[package]]", path)
    lines = LineFinder(text)
    manifest = expect_table(document.get("manifest", {}), "[manifest]", path)
    listed_members = {
        canonical(name)
        for name in expect_list(manifest.get("members", []), "[manifest].members", path)
        if isinstance(name, str) and is_valid_name(name)
    }
    entries = []
    for table, line in zip(tables, array_entry_lines(lines, "package", tables), strict=True):
        table = expect_table(table, "a [[package]] entry", path, line)
        name = checked_name(table.get("name"), "package name", path, line)
        source = expect_table(table.get("source", {}), f"source of {name}", path, line)
        local = "virtual" in source or "editable" in source
        forks = expect_list(
            table.get("resolution-markers", []), f"resolution-markers of {name}", path, line
        )
        fork = None
        if forks:
            texts = [expect_str(item, f"a fork marker of {name}", path, line) for item in forks]
            fork = parsed_marker(" or ".join(f"({item})" for item in texts), "", path, line)
        entries.append(_UvEntry(name, table, line, local or name in listed_members, fork))
    return entries


class _UvReader:
    def __init__(self, path: str, entries: list[_UvEntry], selection: Selection) -> None:
        self.path = path
        self.entries = entries
        self.selection = selection
        self.builder = LockBuilder(path)
        self.by_name: dict[str, list[int]] = {}
        for index, entry in enumerate(entries):
            self.by_name.setdefault(entry.name, []).append(index)
        self.members = [index for index, entry in enumerate(entries) if entry.member]
        self.roots: list[str] = []

    def read(self) -> tuple[list[str], list[str]]:
        """Walk the lock from its members; returns the groups and extras selected."""
        groups_used: dict[str, None] = {}
        extras_used: dict[str, None] = {}
        pending: list[tuple[int, frozenset[str]]] = []
        if self.members:
            available_groups, available_extras = self._member_options()
            self._refuse_unknown("dependency group", self.selection.groups, available_groups)
            self._refuse_unknown("extra", self.selection.extras, available_extras)
            for index in self.members:
                entry = self.entries[index]
                extras = self._member_extras(entry)
                groups = self._member_groups(entry)
                extras_used.update(dict.fromkeys(extras))
                groups_used.update(dict.fromkeys(groups))
                for child, _edge, _extras in self._dependencies(index, extras, groups):
                    if not self.entries[child].member:
                        self.roots.append(self.entries[child].name)
                pending.append((index, frozenset(extras)))
        else:
            # No project in the lock: every package of the target's fork is a root.
            for index, entry in enumerate(self.entries):
                if self.selection.holds(entry.fork):
                    pending.append((index, frozenset()))
        self._walk(pending)
        return list(groups_used), list(extras_used)

    def _member_options(self) -> tuple[set[str], set[str]]:
        groups: set[str] = set()
        extras: set[str] = set()
        for index in self.members:
            table = self.entries[index].table
            groups.update(canonical(key) for key in _table_keys(table.get("dev-dependencies")))
            extras.update(canonical(key) for key in _table_keys(table.get("optional-dependencies")))
        return groups, extras

    def _refuse_unknown(self, what: str, asked: Iterable[str], available: set[str]) -> None:
        for name in asked:
            if name not in available:
                known = ", ".join(sorted(available)) or "none"
                raise input_error(
                    self.path, None, f"no {what} named {name!r} is locked (locked: {known})"
                )

    def _member_extras(self, entry: _UvEntry) -> list[str]:
        available = [
            canonical(key) for key in _table_keys(entry.table.get("optional-dependencies"))
        ]
        if self.selection.all_extras:
            return available
        return [extra for extra in self.selection.extras if extra in available]

    def _member_groups(self, entry: _UvEntry) -> list[str]:
        available = [canonical(key) for key in _table_keys(entry.table.get("dev-dependencies"))]
        if self.selection.all_groups:
            return available
        defaults = entry.table.get("default-groups", list(_UV_DEFAULT_GROUPS))
        if defaults == "all":
            defaults = available
        defaults = expect_list(defaults, f"default-groups of {entry.name}", self.path, entry.line)
        wanted = [canonical(item) for item in defaults if isinstance(item, str)]
        wanted += list(self.selection.groups)
        return [group for group in dict.fromkeys(wanted) if group in available]

    def _walk(self, pending: list[tuple[int, frozenset[str]]]) -> None:
        done: dict[int, set[str]] = {}
        while pending:
            index, extras = pending.pop()
            seen = done.get(index)
            if seen is not None and extras <= seen:
                continue
            done.setdefault(index, set()).update(extras)
            entry = self.entries[index]
            if not entry.member:
                self.builder.add_package(
                    _uv_package(entry.name, entry.table, self.path, entry.line)
                )
            groups = self._member_groups(entry) if entry.member else ()
            for child, edge, child_extras in self._dependencies(index, extras, groups):
                if not entry.member:
                    self.builder.add_edge(edge)
                pending.append((child, child_extras))

    def _dependencies(
        self, index: int, extras: Iterable[str], groups: Iterable[str]
    ) -> list[tuple[int, Edge, frozenset[str]]]:
        """(locked entry, edge, the child's extras it asks for) for each dependency of the
        entry that the target needs: its own, its active extras' and its selected groups'."""
        entry = self.entries[index]
        table = entry.table
        found: list[tuple[int, Edge, frozenset[str]]] = []
        lists: list[tuple[Any, str | None, str]] = [
            (table.get("dependencies", []), None, "dependencies")
        ]
        optional = expect_table(
            table.get("optional-dependencies", {}), "optional-dependencies", self.path, entry.line
        )
        groups_table = expect_table(
            table.get("dev-dependencies", {}), "dev-dependencies", self.path, entry.line
        )
        for key, items in optional.items():
            if canonical(key) in extras:
                lists.append((items, canonical(key), f"optional-dependencies.{key}"))
        for key, items in groups_table.items():
            if canonical(key) in groups:
                lists.append((items, None, f"dev-dependencies.{key}"))
        for items, extra, what in lists:
            for item in expect_list(items, what, self.path, entry.line):
                item = expect_table(item, f"an entry of {what}", self.path, entry.line)
                child_name = checked_name(
                    item.get("name"), f"a name in {what}", self.path, entry.line
                )
                marker = parsed_marker(
                    item.get("marker"), f"a marker in {what}", self.path, entry.line
                )
                if not self.selection.holds(marker):
                    continue
                child = self._locked_entry(child_name, item)
                if child is None:
                    continue  # not locked: pruned for another environment
                child_extras = expect_list(
                    item.get("extra", []), f"extras in {what}", self.path, entry.line
                )
                edge = Edge(
                    parent=entry.name,
                    child=child_name,
                    marker=item["marker"] if marker else None,  # as written in the lock
                    extra=extra,
                )
                asked = frozenset(canonical(e) for e in child_extras if isinstance(e, str))
                found.append((child, edge, asked))
        return found

    def _locked_entry(self, name: str, item: Mapping[str, Any]) -> int | None:
        """The locked package a dependency means: by name, then by the version and source
        the edge names when several are locked, then by the fork that holds."""
        candidates = self.by_name.get(name, [])
        if len(candidates) > 1 and isinstance(item.get("version"), str):
            candidates = [
                i for i in candidates if self.entries[i].table.get("version") == item["version"]
            ]
        if len(candidates) > 1 and isinstance(item.get("source"), dict):
            candidates = [
                i for i in candidates if self.entries[i].table.get("source") == item["source"]
            ]
        if len(candidates) > 1:
            in_fork = [i for i in candidates if self.selection.holds(self.entries[i].fork)]
            candidates = in_fork or candidates
        return candidates[0] if candidates else None


def _table_keys(value: Any) -> list[str]:
    return [key for key in value if isinstance(key, str)] if isinstance(value, dict) else []


def _uv_package(name: str, entry: Mapping[str, Any], path: str, line: int | None) -> Package:
    source = entry.get("source", {})
    direct_url = None
    for key in ("git", "url", "path", "directory"):
        if key in source:
            direct_url = expect_str(source[key], f"source.{key} of {name}", path, line)
            if key == "git" and not direct_url.startswith("git+"):
                direct_url = "git+" + direct_url
    hashes: list[Any] = []
    sdist = entry.get("sdist")
    if isinstance(sdist, dict):
        hashes.append(sdist.get("hash"))
    for wheel in expect_list(entry.get("wheels", []), f"wheels of {name}", path, line):
        if isinstance(wheel, dict):
            hashes.append(wheel.get("hash"))
    metadata = entry.get("metadata")
    requires_python = ""
    if isinstance(metadata, dict) and isinstance(metadata.get("requires-python"), str):
        requires_python = metadata["requires-python"]
    return Package(
        name=name,
        version=checked_version(
            entry.get("version"), name, path, line, required=direct_url is None
        ),
        display_name=entry["name"],
        requires_python=requires_python,
        index_url=other_index(source.get("registry")),
        origin=Location(path, line),
        direct_url=direct_url,
        hashes=hash_strings(hashes),
    )


@register
class UvLock(LockfileKind):
    name = "uv.lock"
    priority = 50

    def matches_name(self, file_name: str) -> bool:
        return file_name == "uv.lock"

    def detect(self, sniffed: Sniffed) -> bool:
        document = sniffed.toml
        return (
            document is not None
            and isinstance(document.get("package"), list)
            and isinstance(document.get("version"), int)
        )

    def read_lock(self, path: str | os.PathLike[str], selection: Selection | None) -> Resolution:
        return read_uv_lock(path, selection)
