"""poetry.lock: the packages `poetry install` installs, by group and marker."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...model import Edge, InputError, Location, Package, Problem, Resolution
from .._common import (
    LineFinder,
    canonical,
    expect_list,
    expect_table,
    input_error,
    is_valid_name,
    load_toml,
    read_text,
)
from ..interface import Sniffed, register
from ..pyproject import poetry_constraint_to_specifier
from ._shared import (
    LockBuilder,
    LockfileKind,
    Selection,
    array_entry_lines,
    checked_name,
    checked_version,
    hash_strings,
    lock_target,
    optional_str,
    other_index,
    parsed_marker,
    selection_or_default,
)


def read_poetry_lock(
    path: str | os.PathLike[str], selection: Selection | None = None
) -> Resolution:
    """The packages `poetry install` installs from a poetry.lock (lock-version 2.1 records
    each package's groups and, per group, its markers): the main group and the groups
    pyproject.toml does not mark optional, plus those asked for; extras only when asked."""
    selection = selection_or_default(selection)
    shown = str(path)
    text = read_text(path, shown_as=shown)
    document = load_toml(text, shown)
    entries = expect_list(document.get("package", []), "[[package]]", shown)
    metadata = expect_table(document.get("metadata", {}), "[metadata]", shown)
    if "package" not in document and not metadata:
        raise input_error(shown, None, "not a poetry.lock: no [[package]] or [metadata]")
    lines = LineFinder(text)
    entry_lines = array_entry_lines(lines, "package", entries)
    project = _poetry_project(Path(shown).with_name("pyproject.toml"))
    groups, notes = _poetry_groups(entries, project, selection, shown)
    extras = _poetry_extras(project, selection, shown)
    builder = LockBuilder(shown)
    without_groups = False
    for entry, line in zip(entries, entry_lines, strict=True):
        entry = expect_table(entry, "a [[package]] entry", shown, line)
        name = checked_name(entry.get("name"), "package name", shown, line)
        package = _poetry_package(name, entry, shown, line)
        if "groups" not in entry:
            without_groups = True  # an older lock: every package counts
        elif not _poetry_installs(entry, groups, extras, selection, shown, line):
            continue
        builder.add_package(package)
        for edge in _poetry_edges(name, entry, shown, line):
            builder.add_edge(edge)
    if without_groups:
        notes.append("some packages record no groups (an older poetry.lock): they are all read")
    outside = selection.python_outside(_poetry_python(metadata.get("python-versions")))
    if outside:
        builder.problems.append(Problem("target-outside-lock", f"{shown}: {outside}"))
    target = lock_target(
        selection,
        groups,
        extras,
        requires_python=metadata.get("python-versions"),
        extra_notes=notes,
    )
    # poetry.lock does not say which packages pyproject.toml asked for.
    return builder.resolution(None, target)


def _poetry_project(path: Path) -> Mapping[str, Any] | None:
    """The pyproject.toml beside a poetry.lock, which says which groups are optional and
    which extras exist (Poetry reads it too); None when there is none."""
    if not path.is_file():
        return None
    return load_toml(read_text(path), str(path))


def _poetry_groups(
    entries: list[Any], project: Mapping[str, Any] | None, selection: Selection, path: str
) -> tuple[list[str], list[str]]:
    locked = {
        canonical(group)
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("groups"), list)
        for group in entry["groups"]
        if isinstance(group, str)
    }
    notes: list[str] = []
    declared: dict[str, bool] = {}  # group -> optional
    if project is None:
        notes.append(
            "no pyproject.toml beside the lock: which groups are optional is unknown, so "
            "only main is read unless groups are asked for"
        )
    else:
        tool = project.get("tool") if isinstance(project.get("tool"), dict) else {}
        poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
        table = poetry.get("group") if isinstance(poetry.get("group"), dict) else {}
        for name, group in table.items():
            declared[canonical(name)] = isinstance(group, dict) and group.get("optional") is True
        pep735 = project.get("dependency-groups")
        for name in pep735 if isinstance(pep735, dict) else {}:
            declared.setdefault(canonical(name), False)
    available = locked | set(declared) | {"main"}
    for group in selection.groups:
        if group not in available:
            known = ", ".join(sorted(available))
            raise input_error(path, None, f"no dependency group named {group!r} (known: {known})")
    if selection.all_groups:
        return sorted(available, key=lambda g: (g != "main", g)), notes
    wanted = ["main", *(g for g, optional in declared.items() if not optional), *selection.groups]
    return list(dict.fromkeys(wanted)), notes


def _poetry_extras(project: Mapping[str, Any] | None, selection: Selection, path: str) -> list[str]:
    if project is None:
        return list(selection.extras)
    declared: set[str] = set()
    pep621 = project.get("project") if isinstance(project.get("project"), dict) else {}
    optional = pep621.get("optional-dependencies")
    declared.update(canonical(k) for k in (optional if isinstance(optional, dict) else {}))
    tool = project.get("tool") if isinstance(project.get("tool"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    extras = poetry.get("extras")
    declared.update(canonical(k) for k in (extras if isinstance(extras, dict) else {}))
    if selection.all_extras:
        return sorted(declared)
    for extra in selection.extras:
        if extra not in declared:
            raise input_error(path, None, f"no extra named {extra!r} is declared")
    return list(selection.extras)


def _poetry_installs(
    entry: Mapping[str, Any],
    groups: list[str],
    extras: list[str],
    selection: Selection,
    path: str,
    line: int | None,
) -> bool:
    """Whether one of the package's selected groups needs it on the target. Its markers
    are one string for every group, or a table of markers by group."""
    entry_groups = expect_list(entry.get("groups"), "groups", path, line)
    markers = entry.get("markers")
    for group in entry_groups:
        if not isinstance(group, str) or canonical(group) not in groups:
            continue
        value = markers.get(group) if isinstance(markers, dict) else markers
        if selection.holds(parsed_marker(value, f"markers of {group}", path, line), extras):
            return True
    return False


def _poetry_python(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return poetry_constraint_to_specifier(value)
    except InputError:
        return None


def _poetry_package(name: str, entry: Mapping[str, Any], path: str, line: int | None) -> Package:
    files = expect_list(entry.get("files", []), f"files of {name}", path, line)
    hashes = [item.get("hash") for item in files if isinstance(item, dict)]
    source = expect_table(entry.get("source", {}), f"source of {name}", path, line)
    direct_url = None
    source_type = source.get("type")
    if source_type in ("git", "directory", "file", "url") and isinstance(source.get("url"), str):
        direct_url = source["url"]
        if source_type == "git":
            reference = source.get("resolved_reference") or source.get("reference")
            direct_url = "git+" + direct_url + (f"@{reference}" if reference else "")
    index_url = None
    if source_type == "legacy":
        index_url = other_index(source.get("url"))
    return Package(
        name=name,
        version=checked_version(
            entry.get("version"), name, path, line, required=direct_url is None
        ),
        display_name=entry["name"],
        index_url=index_url,
        summary=optional_str(entry.get("description"), f"description of {name}", path, line),
        requires_python=optional_str(
            entry.get("python-versions"), f"python-versions of {name}", path, line
        ),
        origin=Location(path, line),
        direct_url=direct_url,
        editable=entry.get("develop") is True,
        hashes=hash_strings(hashes),
    )


def _poetry_edges(name: str, entry: Mapping[str, Any], path: str, line: int | None) -> list[Edge]:
    dependencies = expect_table(
        entry.get("dependencies", {}), f"dependencies of {name}", path, line
    )
    extras = expect_table(entry.get("extras", {}), f"extras of {name}", path, line)
    # Which of the parent's extras bring in each optional dependency.
    extras_by_child: dict[str, list[str]] = {}
    for extra, members in extras.items():
        for member in expect_list(members, f"extras.{extra} of {name}", path, line):
            match = re.match(r"\s*([A-Za-z0-9._-]+)", member) if isinstance(member, str) else None
            if match:
                extras_by_child.setdefault(canonical(match.group(1)), []).append(canonical(extra))
    edges = []
    for child_name, value in dependencies.items():
        if not is_valid_name(child_name):
            raise input_error(path, line, f"invalid dependency name {child_name!r} of {name}")
        child = canonical(child_name)
        for constraint in value if isinstance(value, list) else [value]:
            if isinstance(constraint, str):
                constraint = {"version": constraint}
            constraint = expect_table(constraint, f"dependency {child_name} of {name}", path, line)
            specifier = _lenient_poetry_specifier(constraint.get("version", ""))
            marker = constraint.get("markers")
            marker = marker if isinstance(marker, str) and marker else None
            activating = (
                extras_by_child.get(child, [None]) if constraint.get("optional") else [None]
            )
            for extra in activating:
                edges.append(
                    Edge(parent=name, child=child, specifier=specifier, marker=marker, extra=extra)
                )
    return edges


def _lenient_poetry_specifier(value: Any) -> str:
    """The PEP 440 form of a constraint recorded in poetry.lock; as written when odd."""
    if not isinstance(value, str):
        return ""
    try:
        return poetry_constraint_to_specifier(value)
    except InputError:
        return value


@register
class PoetryLock(LockfileKind):
    name = "poetry.lock"
    priority = 40

    def matches_name(self, file_name: str) -> bool:
        return file_name == "poetry.lock"

    def detect(self, sniffed: Sniffed) -> bool:
        document = sniffed.toml
        if document is None or not isinstance(document.get("package"), list):
            return False
        metadata = document.get("metadata")
        return isinstance(metadata, dict) and (
            "content-hash" in metadata or "lock-version" in metadata
        )

    def read_lock(self, path: str | os.PathLike[str], selection: Selection | None) -> Resolution:
        return read_poetry_lock(path, selection)
