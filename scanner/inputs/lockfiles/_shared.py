"""What the lockfile readers share: the selection (target, groups, extras) a lock is
read for, checked values, and the assembly of packages and edges into a Resolution."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ...model import Edge, Package, Problem, Resolution, TargetEnvironment
from ...urls import without_credentials
from .._common import (
    LineFinder,
    canonical,
    check_marker,
    expect_str,
    input_error,
    is_valid_name,
)
from ..interface import Contribution, InputKind, ReadContext
from ..markers import marker_holds
from ..target import target_environment

# -- what to read: the target and the optional parts ----------------------------------------


@dataclass(frozen=True)
class Selection:
    """What an installer would install from a lockfile: markers evaluated for `target`
    (None: every branch, as locked), the tool's default groups plus `groups` (or every
    group), and the project's `extras` (or every extra). Names are canonical."""

    target: TargetEnvironment | None
    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    all_groups: bool = False

    @classmethod
    def for_target(
        cls,
        target: TargetEnvironment | None,
        extras: Iterable[str] = (),
        all_extras: bool = False,
        groups: Iterable[str] = (),
        all_groups: bool = False,
    ) -> Selection:
        return cls(
            target=target,
            extras=tuple(canonical(extra) for extra in extras),
            all_extras=all_extras,
            groups=tuple(canonical(group) for group in groups),
            all_groups=all_groups,
        )

    def holds(
        self,
        marker: Marker | None,
        extras: Iterable[str] = (),
        groups: Iterable[str] = (),
    ) -> bool:
        """Whether `marker` holds for the target (any platform in all-platforms mode),
        with `extra` set to each of `extras` in turn, and PEP 751's `extras` and
        `dependency_groups` set to them."""
        if marker is None or self.target is None:
            return True
        extras = tuple(extras)
        lock_values = {"extras": frozenset(extras), "dependency_groups": frozenset(groups)}
        return marker_holds(
            marker, self.target, extras=(*extras, ""), more=lock_values, context="lock_file"
        )

    def python_outside(self, requires_python: Any) -> str | None:
        """A note when the target Python is outside a lock's requires-python."""
        if self.target is None or not isinstance(requires_python, str):
            return None
        full = self.target.markers.get("python_full_version", "")
        try:
            inside = SpecifierSet(requires_python).contains(full, prereleases=True)
        except (InvalidSpecifier, InvalidVersion):
            return None
        if inside:
            return None
        return (
            f"the target Python {self.target.python_version} is outside the lock's "
            f"requires-python {requires_python}: the installer would refuse it"
        )

    def describe(
        self, tool_groups: Iterable[str] | None, extras: Iterable[str] | None
    ) -> TargetEnvironment:
        """The report's target line: the environment and what was selected in it (groups
        and extras None: the format has none)."""
        selected = []
        if tool_groups is not None:
            selected.append(f"groups: {', '.join(tool_groups) or 'none'} (--group, --all-groups)")
        if extras is not None:
            selected.append(f"extras: {', '.join(extras) or 'none'} (--extra, --all-extras)")
        if self.target is None:
            return TargetEnvironment(
                markers={},
                description="as locked",
                notes=("every package of the lockfile is read; markers are not evaluated",),
            )
        return TargetEnvironment(
            markers=self.target.markers,
            description=f"{self.target.description}, as the lockfile's installer installs it",
            notes=(
                *self.target.notes,
                "markers evaluated for the target, as the installer would",
                *selected,
            ),
            alternatives=self.target.alternatives,
        )


# Every package of the lockfile, as the earlier readers took it.
AS_LOCKED = Selection(target=None, all_extras=True, all_groups=True)


def selection_or_default(selection: Selection | None) -> Selection:
    return selection if selection is not None else Selection(target_environment())


def parsed_marker(value: Any, what: str, path: str, line: int | None) -> Marker | None:
    if value is None or value == "":
        return None
    text = expect_str(value, what, path, line)
    check_marker(text, path, line)  # one line naming the file when it is malformed
    return Marker(text)


_PYPI_HOSTS = ("pypi.org", "pypi.python.org", "files.pythonhosted.org")


def other_index(url: Any) -> str | None:
    """The index URL a lockfile names for a package, unless it is PyPI's: None then.
    Credentials written into it are dropped here, so they never reach a fact, a report
    or the cache (the other index is asked anonymously anyway)."""
    if not isinstance(url, str) or not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # a malformed URL is no PyPI host: kept (redacted) for the report
        host = ""
    return None if host in _PYPI_HOSTS else without_credentials(url).rstrip("/")


def checked_version(value: Any, name: str, path: str, line: int | None, *, required: bool) -> str:
    """The locked version, which must be a valid PEP 440 version; it may be missing only
    where the package does not come from an index (a URL, a checkout, a local folder)."""
    if value is None:
        if required:
            raise input_error(path, line, f"{name} has no version")
        return ""
    text = expect_str(value, f"version of {name}", path, line)
    try:
        Version(text)
    except InvalidVersion:
        raise input_error(path, line, f"{name}: invalid version {text!r}") from None
    return text


# -- shared assembly ------------------------------------------------------------------------


@dataclass
class LockBuilder:
    """Collects packages by canonical name (the first entry of a name wins), edges and
    problems, then hands out a Resolution."""

    path: str
    packages: dict[str, Package] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add_package(self, package: Package) -> None:
        existing = self.packages.get(package.name)
        if existing is None:
            self.packages[package.name] = package
        elif existing.version != package.version:
            self.problems.append(
                Problem(
                    kind="multiple-versions",
                    message=f"{package.name} is locked at {existing.version} and "
                    f"{package.version} (for different environments); {existing.version} "
                    "is the one scanned",
                    package=package.name,
                    location=package.origin,
                )
            )

    def add_edge(self, edge: Edge) -> None:
        if edge not in self.edges:
            self.edges.append(edge)

    def resolution(self, roots: Iterable[str] | None, target: TargetEnvironment) -> Resolution:
        # An edge must join two locked packages; a dependency that is not locked (pruned
        # for another platform, say) is dropped rather than invented.
        edges = tuple(
            edge
            for edge in self.edges
            if edge.parent in self.packages and edge.child in self.packages
        )
        root_names = None
        if roots is not None:
            root_names = tuple(dict.fromkeys(name for name in roots if name in self.packages))
        return Resolution(
            packages=tuple(self.packages.values()),
            edges=edges,
            target=target,
            source=self.path,
            roots=root_names,
            problems=tuple(self.problems),
        )


def array_entry_lines(lines: LineFinder, header: str, entries: list[Any]) -> list[int | None]:
    """The line of each `[[header]]` entry's `name = ...` (or of its header)."""
    headers = lines.find_array_tables(header)
    if len(headers) != len(entries):
        # Inline arrays or unusual layout: fall back to finding each name.
        result: list[int | None] = []
        for entry in entries:
            name = entry.get("name") if isinstance(entry, dict) else None
            result.append(lines.find(f'"{name}"') if isinstance(name, str) else None)
        return result
    result = []
    for index, header_line in enumerate(headers):
        end = headers[index + 1] if index + 1 < len(headers) else None
        result.append(lines.find_key("name", header_line, end) or header_line)
    return result


def hash_strings(values: Iterable[Any]) -> tuple[str, ...]:
    """ "sha256:<hex>" strings from values that may already be in that form."""
    result = []
    for value in values:
        if isinstance(value, str) and ":" in value:
            algorithm, _, digest = value.partition(":")
            result.append(f"{algorithm.lower()}:{digest.lower()}")
    return tuple(dict.fromkeys(result))


def checked_name(value: Any, what: str, path: str, line: int | None) -> str:
    name = expect_str(value, what, path, line)
    if not is_valid_name(name):
        raise input_error(path, line, f"invalid package name {name!r}")
    return canonical(name)


def optional_str(value: Any, what: str, path: str, line: int | None) -> str:
    return "" if value is None else expect_str(value, what, path, line)


def pinned_version(specifier: str) -> str | None:
    match = re.fullmatch(r"===?([^,*]+)", specifier.strip())
    return match.group(1).strip() if match else None


def lock_target(
    selection: Selection,
    groups: Iterable[str] | None = None,
    extras: Iterable[str] | None = None,
    requires_python: Any = None,
    environments: Any = None,
    extra_notes: Iterable[str] = (),
) -> TargetEnvironment:
    """The report's target: what was selected, and what the lock says it was made for."""
    described = selection.describe(groups, extras)
    notes = list(described.notes)
    if isinstance(requires_python, str) and requires_python:
        notes.append(f"locked for Python {requires_python}")
    if isinstance(environments, list) and environments:
        shown = "; ".join(str(item) for item in environments if isinstance(item, str))
        if shown:
            notes.append(f"locked for environments: {shown}")
    notes.extend(extra_notes)
    return TargetEnvironment(
        markers=described.markers,
        description=described.description,
        notes=tuple(notes),
        alternatives=described.alternatives,
    )


class LockfileKind(InputKind):
    """A lockfile format: read as a pinned graph for the target and the options asked
    for, as the format's installer would install it there."""

    is_lockfile = True

    def read_lock(self, path: str | os.PathLike[str], selection: Selection | None) -> Resolution:
        raise NotImplementedError

    def read(self, path: Path, context: ReadContext) -> Contribution:
        declared = context.declared
        selection = Selection.for_target(
            context.target,
            extras=declared.extras,
            all_extras=declared.all_extras,
            groups=declared.groups,
            all_groups=declared.all_groups,
        )
        return Contribution(pinned=(self.read_lock(path, selection),))
