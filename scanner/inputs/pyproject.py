"""pyproject.toml: PEP 621 dependencies and extras, PEP 735 dependency groups, and Poetry's
own tables (`[tool.poetry.dependencies]`, groups, extras) with its version syntax.

tomllib gives no positions, so each requirement's line is found by looking for its text in
the file (best effort; a requirement whose text cannot be found gets its table's line).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ..model import Location, Requirement
from ._common import (
    LineFinder,
    canonical,
    check_marker,
    declared_requirement,
    expect_list,
    expect_str,
    expect_table,
    input_error,
    is_valid_name,
    load_toml,
    parse_pep508,
    read_text,
    toml_string_literals,
)
from .interface import Contribution, InputKind, ReadContext, Sniffed, register


def parse_pyproject(
    path: str | os.PathLike[str],
    extras: Iterable[str] = (),
    all_extras: bool = False,
    groups: Iterable[str] = (),
) -> list[Requirement]:
    """The requirements a pyproject.toml declares: the main dependencies, the dependencies
    of the selected extras (or all of them), and the selected dependency groups."""
    shown = str(path)
    return parse_pyproject_text(
        read_text(path, shown_as=shown), shown, extras, all_extras=all_extras, groups=groups
    )


def parse_pyproject_text(
    text: str,
    path: str = "pyproject.toml",
    extras: Iterable[str] = (),
    all_extras: bool = False,
    groups: Iterable[str] = (),
) -> list[Requirement]:
    document = load_toml(text, path)
    reader = _PyprojectReader(document, path, LineFinder(text))
    return reader.requirements(
        [canonical(extra) for extra in extras],
        all_extras,
        [canonical(group) for group in groups],
    )


class _PyprojectReader:
    def __init__(self, document: Mapping[str, Any], path: str, lines: LineFinder) -> None:
        self.path = path
        self.lines = lines
        self.project = expect_table(document.get("project", {}), "[project]", path)
        tool = expect_table(document.get("tool", {}), "[tool]", path)
        self.poetry = expect_table(tool.get("poetry", {}), "[tool.poetry]", path)
        self.groups_table = expect_table(
            document.get("dependency-groups", {}), "[dependency-groups]", path
        )
        name = self.project.get("name", self.poetry.get("name"))
        self.own_name = canonical(name) if isinstance(name, str) and is_valid_name(name) else None

    def requirements(
        self, extras: list[str], all_extras: bool, groups: list[str]
    ) -> list[Requirement]:
        uses_pep621 = "dependencies" in self.project or ("optional-dependencies" in self.project)
        if uses_pep621 or not self.poetry:
            main = self._pep621_main()
            available = self._pep621_extras()
        else:
            # Poetry 2 reads [project] when it is there; older projects only have these.
            main, available = self._poetry_main_and_extras()
        unknown = [extra for extra in extras if extra not in available]
        if unknown:
            raise input_error(self.path, None, f"no extra named {unknown[0]!r} is declared")
        selected = list(available) if all_extras else extras
        result = list(main)
        for extra in selected:
            result.extend(available[extra])
        for group in groups:
            result.extend(self._group(group))
        return self._expand_self_references(result, available)

    # -- PEP 621 -------------------------------------------------------------------------

    def _pep621_main(self) -> list[Requirement]:
        values = expect_list(
            self.project.get("dependencies", []), "[project].dependencies", self.path
        )
        start = self.lines.find_table("project") or 0
        return [self._pep508(value, "[project].dependencies", start) for value in values]

    def _pep621_extras(self) -> dict[str, list[Requirement]]:
        table = expect_table(
            self.project.get("optional-dependencies", {}),
            "[project.optional-dependencies]",
            self.path,
        )
        start = self.lines.find_table("project.optional-dependencies") or 0
        extras: dict[str, list[Requirement]] = {}
        for extra, values in table.items():
            what = f"optional-dependencies.{extra}"
            key_line = self.lines.find_key(extra, start) or start
            values = expect_list(values, what, self.path, key_line or None)
            extras.setdefault(canonical(extra), []).extend(
                self._pep508(value, what, key_line) for value in values
            )
        return extras

    def _pep508(self, value: Any, what: str, after: int) -> Requirement:
        text = expect_str(value, f"an entry of {what}", self.path, after or None)
        line = self.lines.find_any(toml_string_literals(text), after) or after or None
        parsed = parse_pep508(text, self.path, line)
        return declared_requirement(parsed, Location(self.path, line))

    # -- dependency groups (PEP 735 and Poetry) ---------------------------------------------

    def _group(self, group: str) -> list[Requirement]:
        pep735 = {canonical(name): name for name in self.groups_table}
        poetry_groups = self._poetry_groups()
        if group not in pep735 and group not in poetry_groups:
            raise input_error(self.path, None, f"no dependency group named {group!r}")
        result: list[Requirement] = []
        if group in pep735:
            result.extend(self._pep735_group(pep735[group], pep735, ()))
        if group in poetry_groups:
            result.extend(poetry_groups[group])
        return result

    def _pep735_group(
        self, name: str, all_groups: dict[str, str], including: tuple[str, ...]
    ) -> list[Requirement]:
        header_line = self.lines.find_table("dependency-groups") or 0
        key_line = self.lines.find_key(name, header_line) or header_line
        if canonical(name) in including:
            chain = " -> ".join((*including, canonical(name)))
            raise input_error(
                self.path, key_line or None, f"dependency groups include each other: {chain}"
            )
        what = f"dependency group {name!r}"
        entries = expect_list(self.groups_table[name], what, self.path, key_line or None)
        result: list[Requirement] = []
        for entry in entries:
            if isinstance(entry, dict):
                included = entry.get("include-group")
                if set(entry) != {"include-group"} or not isinstance(included, str):
                    raise input_error(
                        self.path,
                        key_line or None,
                        f'{what} has a table that is not {{include-group = "<name>"}}',
                    )
                if canonical(included) not in all_groups:
                    raise input_error(
                        self.path,
                        key_line or None,
                        f"{what} includes unknown group {included!r}",
                    )
                result.extend(
                    self._pep735_group(
                        all_groups[canonical(included)],
                        all_groups,
                        (*including, canonical(name)),
                    )
                )
            else:
                result.append(self._pep508(entry, what, key_line))
        return result

    # -- Poetry ----------------------------------------------------------------------------

    def _poetry_main_and_extras(
        self,
    ) -> tuple[list[Requirement], dict[str, list[Requirement]]]:
        table_name = "tool.poetry.dependencies"
        dependencies = expect_table(
            self.poetry.get("dependencies", {}), f"[{table_name}]", self.path
        )
        extras_table = expect_table(
            self.poetry.get("extras", {}), "[tool.poetry.extras]", self.path
        )
        optional_by_name: dict[str, list[Requirement]] = {}
        main: list[Requirement] = []
        for name, value in dependencies.items():
            if name.lower() == "python":
                continue  # the interpreter, not a distribution
            for requirement, optional in self._poetry_dependency(name, value, table_name):
                if optional:
                    optional_by_name.setdefault(requirement.name, []).append(requirement)
                else:
                    main.append(requirement)
        extras: dict[str, list[Requirement]] = {}
        for extra, members in extras_table.items():
            members = expect_list(members, f"[tool.poetry.extras].{extra}", self.path)
            chosen = extras.setdefault(canonical(extra), [])
            for member in members:
                member_text = expect_str(member, f"an entry of extra {extra!r}", self.path)
                # Entries are dependency names, sometimes written with a constraint.
                name_match = re.match(r"\s*([A-Za-z0-9._-]+)", member_text)
                member_name = canonical(name_match.group(1)) if name_match else ""
                chosen.extend(optional_by_name.get(member_name, []))
        return main, extras

    def _poetry_groups(self) -> dict[str, list[Requirement]]:
        groups: dict[str, list[Requirement]] = {}
        group_tables = expect_table(self.poetry.get("group", {}), "[tool.poetry.group]", self.path)
        for group_name, group_table in group_tables.items():
            table_name = f"tool.poetry.group.{group_name}.dependencies"
            group_table = expect_table(group_table, f"[tool.poetry.group.{group_name}]", self.path)
            dependencies = expect_table(
                group_table.get("dependencies", {}), f"[{table_name}]", self.path
            )
            requirements = groups.setdefault(canonical(group_name), [])
            for name, value in dependencies.items():
                for requirement, _optional in self._poetry_dependency(name, value, table_name):
                    requirements.append(requirement)
        # Poetry before 1.2 spelled the dev group this way.
        legacy = expect_table(
            self.poetry.get("dev-dependencies", {}), "[tool.poetry.dev-dependencies]", self.path
        )
        for name, value in legacy.items():
            for requirement, _optional in self._poetry_dependency(
                name, value, "tool.poetry.dev-dependencies"
            ):
                groups.setdefault("dev", []).append(requirement)
        return groups

    def _poetry_dependency(
        self, name: str, value: Any, table_name: str
    ) -> list[tuple[Requirement, bool]]:
        """One Poetry dependency entry: a constraint string, a table, or a list of tables
        (one per environment). Returns (requirement, optional) pairs."""
        header = self.lines.find_table(table_name) or 0
        line = self.lines.find_key(name, header) or header or None
        where = f"[{table_name}].{name}"
        if not is_valid_name(name):
            raise input_error(
                self.path, line, f"invalid dependency name {name!r} in [{table_name}]"
            )
        location = Location(self.path, line)
        entries = value if isinstance(value, list) else [value]
        result = []
        for entry in entries:
            if isinstance(entry, str):
                entry = {"version": entry}
            entry = expect_table(entry, where, self.path, line)
            result.append(self._poetry_table_dependency(name, entry, where, location))
        return result

    def _poetry_table_dependency(
        self, name: str, entry: Mapping[str, Any], where: str, location: Location
    ) -> tuple[Requirement, bool]:
        line = location.line
        version = entry.get("version", "*")
        specifier = poetry_constraint_to_specifier(
            expect_str(version, f"{where}.version", self.path, line), self.path, line
        )
        extras = expect_list(entry.get("extras", []), f"{where}.extras", self.path, line)
        markers: list[str] = []
        if "markers" in entry:
            markers.append(
                check_marker(
                    expect_str(entry["markers"], f"{where}.markers", self.path, line),
                    self.path,
                    line,
                )
            )
        if "python" in entry:
            python = expect_str(entry["python"], f"{where}.python", self.path, line)
            python_marker = _python_constraint_marker(python, self.path, line)
            if python_marker:
                markers.append(python_marker)
        if "platform" in entry:
            platform = expect_str(entry["platform"], f"{where}.platform", self.path, line)
            markers.append(f'sys_platform == "{platform}"')
        marker = None
        if markers:
            joined = " and ".join(f"({text})" if len(markers) > 1 else text for text in markers)
            marker = check_marker(joined, self.path, line)
        url = None
        editable = False
        if "git" in entry:
            url = "git+" + expect_str(entry["git"], f"{where}.git", self.path, line)
            for ref_key in ("rev", "tag", "branch"):
                if ref_key in entry:
                    url += "@" + expect_str(entry[ref_key], f"{where}.{ref_key}", self.path, line)
                    break
            if "subdirectory" in entry:
                subdirectory = expect_str(
                    entry["subdirectory"], f"{where}.subdirectory", self.path, line
                )
                url += f"#subdirectory={subdirectory}"
        elif "path" in entry:
            url = expect_str(entry["path"], f"{where}.path", self.path, line)
            editable = entry.get("develop") is True
        elif "url" in entry:
            url = expect_str(entry["url"], f"{where}.url", self.path, line)
        return (
            Requirement(
                name=canonical(name),
                specifier="" if url else specifier,
                extras=frozenset(
                    canonical(expect_str(extra, f"{where}.extras", self.path, line))
                    for extra in extras
                ),
                marker=marker,
                url=url,
                editable=editable,
                location=location,
            ),
            entry.get("optional") is True,
        )

    # -- extras that name the project itself -----------------------------------------------

    def _expand_self_references(
        self, requirements: list[Requirement], available: dict[str, list[Requirement]]
    ) -> list[Requirement]:
        """`myproject[extra]` inside the project's own extras or groups means "the
        requirements of that extra"; expand it instead of looking the project up."""
        if self.own_name is None:
            return requirements
        result: list[Requirement] = []
        expanded: set[str] = set()
        pending = list(requirements)
        while pending:
            requirement = pending.pop(0)
            if requirement.name != self.own_name or requirement.url:
                result.append(requirement)
                continue
            for extra in sorted(requirement.extras):
                if extra in expanded:
                    continue  # already expanded; extras may refer to each other in a cycle
                expanded.add(extra)
                pending.extend(available.get(extra, []))
        return result


# -- Poetry version constraints -------------------------------------------------------------

_OPERATOR_SPACE = re.compile(r"(===|==|!=|~=|<=|>=|<|>|\^|~|=)\s+")


def poetry_constraint_to_specifier(constraint: str, path: str = "", line: int | None = None) -> str:
    """Translate a Poetry version constraint into a PEP 440 specifier string.

    Caret (^1.2 -> >=1.2,<2.0), tilde (~1.2 -> >=1.2,<1.3), wildcards (1.2.* -> ==1.2.*,
    * -> any), "=1.2" and bare versions (-> ==1.2), comma- or space-separated
    intersections. A union ("a || b") has no PEP 440 equivalent and becomes "" (any)."""
    text = constraint.strip()
    if "||" in text or re.search(r"(?<!\|)\|(?!\|)", text):
        return ""
    text = _OPERATOR_SPACE.sub(r"\1", text)
    parts = [part for part in re.split(r"[,\s]+", text) if part]
    specifiers: list[str] = []
    for part in parts:
        specifiers.extend(_poetry_part(part, constraint, path, line))
    try:
        # The same (sorted) spelling that PEP 508 requirements get from packaging.
        return str(SpecifierSet(",".join(specifiers)))
    except InvalidSpecifier:
        raise input_error(path, line, f"invalid version constraint {constraint!r}") from None


def _poetry_part(part: str, whole: str, path: str, line: int | None) -> list[str]:
    if part in ("*", "x", "X"):
        return []
    if part.startswith("^"):
        version = _version(part[1:], whole, path, line)
        return [f">={part[1:]}", f"<{_caret_upper_bound(version)}"]
    if part.startswith("~") and not part.startswith("~="):
        version = _version(part[1:], whole, path, line)
        return [f">={part[1:]}", f"<{_tilde_upper_bound(version)}"]
    match = re.fullmatch(r"(===|==|!=|~=|<=|>=|<|>|=)?(.+)", part)
    if not match:
        raise input_error(path, line, f"invalid version constraint {whole!r}")
    operator, version_text = match.group(1) or "", match.group(2)
    version_text = re.sub(r"\.[xX]$", ".*", version_text)
    if operator in ("", "="):
        operator = "=="
    return [f"{operator}{version_text}"]


def _version(text: str, whole: str, path: str, line: int | None) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise input_error(path, line, f"invalid version constraint {whole!r}") from None


def _caret_upper_bound(version: Version) -> str:
    # Bump the first non-zero part; if every given part is zero, bump the last one given.
    release = list(version.release)
    index = next((i for i, part in enumerate(release) if part != 0), len(release) - 1)
    upper = [*release[:index], release[index] + 1]
    upper += [0] * (len(release) - len(upper))
    return ".".join(str(part) for part in upper)


def _tilde_upper_bound(version: Version) -> str:
    # ~1 allows any 1.x; ~1.2 and ~1.2.3 allow only 1.2.x.
    release = list(version.release)
    index = 0 if len(release) == 1 else 1
    upper = [*release[:index], release[index] + 1]
    upper += [0] * (len(release) - len(upper))
    return ".".join(str(part) for part in upper)


def _python_constraint_marker(constraint: str, path: str, line: int | None) -> str | None:
    specifier = poetry_constraint_to_specifier(constraint, path, line)
    clauses = []
    for item in SpecifierSet(specifier):
        variable = "python_full_version" if item.version.count(".") >= 2 else "python_version"
        clauses.append(f'{variable} {item.operator} "{item.version}"')
    return " and ".join(sorted(clauses)) or None


def pyproject_group_names(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """Every dependency group a pyproject.toml declares (PEP 735 and Poetry's), for
    --all-groups."""
    document = load_toml(read_text(path), str(path))
    names = list(document.get("dependency-groups") or {})
    tool = document.get("tool") if isinstance(document.get("tool"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    names.extend(poetry.get("group") or {} if isinstance(poetry.get("group"), dict) else {})
    return tuple(name for name in dict.fromkeys(names) if isinstance(name, str))


_PYPROJECT_TABLES = ("project", "tool", "dependency-groups", "build-system")


@register
class PyprojectKind(InputKind):
    name = "pyproject"
    priority = 60  # after the TOML lockfiles, whose documents have none of its tables

    def matches_name(self, file_name: str) -> bool:
        return file_name == "pyproject.toml"

    def detect(self, sniffed: Sniffed) -> bool:
        document = sniffed.toml
        return document is not None and any(key in document for key in _PYPROJECT_TABLES)

    def read(self, path: Path, context: ReadContext) -> Contribution:
        declared = context.declared
        groups = declared.groups
        if declared.all_groups:
            groups = (*groups, *pyproject_group_names(path))
        requirements = parse_pyproject(path, declared.extras, declared.all_extras, groups)
        return Contribution(declared=tuple(requirements))
