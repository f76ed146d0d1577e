"""pip requirements files: the full syntax pip accepts, parsed without touching the network.

Supported: `-r`/`-c` includes (relative to the including file, each file read once, cycles
skipped), `--hash`, PEP 508 requirements with extras and markers, index and find-links
options (recorded, never fetched), backslash continuations, comments, `${VAR}` expansion,
editables, direct URLs, VCS references and local paths.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from ..model import InputError, Location, Problem, Requirement
from ..urls import index_url_problem, without_credentials
from ._common import (
    canonical,
    check_marker,
    declared_requirement,
    input_error,
    is_valid_name,
    load_toml,
    parse_pep508,
    read_text,
)
from .interface import Contribution, InputKind, ReadContext, Sniffed, register

MAX_INCLUDE_DEPTH = 20

# pip's comment rule: a '#' at the start of a line or after whitespace; "url#egg=x" is not one.
_COMMENT = re.compile(r"(^|\s+)#.*$")
# pip's rule for environment variables: only ${NAME} with upper-case letters, digits and _.
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^file:", re.ASCII)
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".zip")
_PEP508_URL_FORM = re.compile(r"^[A-Za-z0-9._-]+\s*(\[[^\]]*\])?\s*@")
_HASH_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

# Options pip accepts in a requirements file, and whether each takes a value.
_OPTIONS_WITH_VALUE = {
    "-r": "--requirement",
    "--requirement": "--requirement",
    "-c": "--constraint",
    "--constraint": "--constraint",
    "-e": "--editable",
    "--editable": "--editable",
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links",
    "--find-links": "--find-links",
    "--trusted-host": "--trusted-host",
    "--hash": "--hash",
    "--only-binary": "--only-binary",
    "--no-binary": "--no-binary",
    "--use-feature": "--use-feature",
    "-C": "--config-settings",
    "--config-settings": "--config-settings",
    "--global-option": "--global-option",
}
_FLAG_OPTIONS = {"--no-index", "--pre", "--prefer-binary", "--require-hashes"}
# The options pip allows after a requirement on the same line.
_PER_REQUIREMENT_OPTIONS = {"--hash", "--config-settings", "--global-option"}


@dataclass(frozen=True)
class RequirementsFile:
    """What a requirements file (and everything it includes) declares."""

    path: str
    requirements: tuple[Requirement, ...] = ()
    constraints: tuple[Requirement, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    no_index: bool = False
    other_options: tuple[str, ...] = ()  # --pre, --only-binary=:all:, ... as written
    files: tuple[str, ...] = ()  # every file read, the given one first
    problems: tuple[Problem, ...] = ()


@dataclass
class _Collected:
    requirements: list[Requirement] = field(default_factory=list)
    constraints: list[Requirement] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    trusted_hosts: list[str] = field(default_factory=list)
    no_index: bool = False
    other_options: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seen: set[tuple[str, bool]] = field(default_factory=set)


def parse_requirements_file(
    path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None
) -> RequirementsFile:
    """Parse a requirements file and the files it includes.

    `environ` is used for `${VAR}` expansion (default: the process environment).
    """
    shown = str(path)
    text = read_text(path, shown_as=shown)
    return parse_requirements_text(text, shown, environ=environ)


def parse_requirements_text(
    text: str,
    path: str = "<text>",
    *,
    environ: Mapping[str, str] | None = None,
    follow_includes: bool = True,
) -> RequirementsFile:
    """Parse requirements-file text as if read from `path` (includes are relative to it)."""
    collected = _Collected()
    environment = os.environ if environ is None else environ
    collected.files.append(path)
    collected.seen.add((_identity(path), False))
    _parse_into(text, path, False, collected, environment, follow_includes, depth=0)
    return RequirementsFile(
        path=path,
        requirements=tuple(collected.requirements),
        constraints=tuple(collected.constraints),
        index_url=collected.index_url,
        extra_index_urls=tuple(collected.extra_index_urls),
        find_links=tuple(collected.find_links),
        trusted_hosts=tuple(collected.trusted_hosts),
        no_index=collected.no_index,
        other_options=tuple(collected.other_options),
        files=tuple(collected.files),
        problems=tuple(collected.problems),
    )


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first physical line number, text) of each logical line, continuations joined and
    comments removed, empty lines dropped. Environment variables are not expanded here."""
    joined: list[tuple[int, str]] = []
    pending: list[str] = []
    pending_start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        is_comment = bool(_COMMENT.match(raw))
        if raw.endswith("\\") and not is_comment:
            if not pending:
                pending_start = number
            pending.append(raw[:-1])
            continue
        if pending:
            # A comment line ends a continuation; pip drops it as a comment.
            pending.append(" " + raw if is_comment else raw)
            joined.append((pending_start, "".join(pending)))
            pending = []
        else:
            joined.append((number, raw))
    if pending:  # the file ends in a backslash
        joined.append((pending_start, "".join(pending)))
    result = []
    for number, line in joined:
        stripped = _COMMENT.sub("", line).strip()
        if stripped:
            result.append((number, stripped))
    return result


def _expand_environment(line: str, environ: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = environ.get(match.group(1))
        return value if value else match.group(0)  # unset or empty: left as written

    return _ENV_VAR.sub(replace, line)


def _parse_into(
    text: str,
    path: str,
    as_constraints: bool,
    collected: _Collected,
    environ: Mapping[str, str],
    follow_includes: bool,
    depth: int,
) -> None:
    for line_number, raw_line in logical_lines(text):
        line = _expand_environment(raw_line, environ)
        location = Location(path, line_number)
        requirement_text, options = _split_requirement_and_options(line, path, line_number)
        if requirement_text:
            for option, _value in options:
                if option not in _PER_REQUIREMENT_OPTIONS:
                    raise input_error(
                        path, line_number, f"option {option} cannot follow a requirement"
                    )
            requirement = _parse_requirement(
                requirement_text, options, location, editable=False, base_dir=_dir_of(path)
            )
            (collected.constraints if as_constraints else collected.requirements).append(
                requirement
            )
            continue
        for option, value in options:
            _apply_option(
                option, value, location, as_constraints, collected, environ, follow_includes, depth
            )


def _split_requirement_and_options(
    line: str, path: str, line_number: int
) -> tuple[str, list[tuple[str, str | None]]]:
    """Split "name>=1 --hash=..." into the requirement and its options, as pip does: the
    requirement ends at the first whitespace-separated word that starts with '-'."""
    words = line.split(" ")
    for index, word in enumerate(words):
        if word.startswith("-"):
            requirement_text = " ".join(words[:index]).strip()
            option_text = " ".join(words[index:])
            break
    else:
        return line.strip(), []
    try:
        tokens = shlex.split(option_text)
    except ValueError as error:
        raise input_error(path, line_number, f"cannot split options: {error}") from None
    return requirement_text, _parse_options(tokens, path, line_number)


def _parse_options(tokens: list[str], path: str, line_number: int) -> list[tuple[str, str | None]]:
    options: list[tuple[str, str | None]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if not token.startswith("-"):
            raise input_error(path, line_number, f"unexpected text {token!r} among options")
        name, has_inline_value, inline_value = token.partition("=")
        if token.startswith("--"):
            if name in _FLAG_OPTIONS and not has_inline_value:
                options.append((name, None))
                continue
            if name not in _OPTIONS_WITH_VALUE:
                raise input_error(path, line_number, f"unknown option {name!r}")
            canonical_name = _OPTIONS_WITH_VALUE[name]
            value = inline_value if has_inline_value else None
        else:
            # Short options: "-r file", "-rfile" or "-r=file" (pip accepts all three).
            short = token[:2]
            if short not in _OPTIONS_WITH_VALUE:
                raise input_error(path, line_number, f"unknown option {short!r}")
            canonical_name = _OPTIONS_WITH_VALUE[short]
            rest = token[2:]
            value = (rest[1:] if rest.startswith("=") else rest) or None
        if value is None:
            if index >= len(tokens):
                raise input_error(path, line_number, f"option {canonical_name} needs a value")
            value = tokens[index]
            index += 1
        options.append((canonical_name, value))
    return options


def _apply_option(
    option: str,
    value: str | None,
    location: Location,
    as_constraints: bool,
    collected: _Collected,
    environ: Mapping[str, str],
    follow_includes: bool,
    depth: int,
) -> None:
    path, line_number = location.path, location.line
    if option in ("--requirement", "--constraint"):
        assert value is not None
        if follow_includes:
            # pip's rule: -r always brings requirements and -c constraints, whatever the
            # kind of the file that includes them.
            _include(value, option == "--constraint", location, collected, environ, depth)
    elif option == "--editable":
        assert value is not None
        requirement = _parse_requirement(value, [], location, editable=True, base_dir=_dir_of(path))
        if as_constraints:
            raise input_error(path, line_number, "editable requirements cannot be constraints")
        collected.requirements.append(requirement)
    elif option == "--index-url":
        problem = index_url_problem(value or "")
        if problem:
            shown = without_credentials(value or "")
            raise input_error(path, line_number, f"--index-url {shown!r} {problem}")
        collected.index_url = value
    elif option == "--extra-index-url":
        collected.extra_index_urls.append(value or "")
    elif option == "--find-links":
        collected.find_links.append(value or "")
    elif option == "--trusted-host":
        collected.trusted_hosts.append(value or "")
    elif option == "--no-index":
        collected.no_index = True
    elif option == "--hash":
        raise input_error(path, line_number, "--hash must follow a requirement on its line")
    else:
        collected.other_options.append(option if value is None else f"{option}={value}")


def _include(
    target: str,
    as_constraints: bool,
    location: Location,
    collected: _Collected,
    environ: Mapping[str, str],
    depth: int,
) -> None:
    path, line_number = location.path, location.line
    kind = "constraints" if as_constraints else "requirements"
    if _URL_SCHEME.match(target) and not target.startswith("file:"):
        collected.problems.append(
            Problem(
                kind="unfetched-include",
                message=f"{kind} file {target} was not fetched; download it and pass it "
                "as a local file to include what it declares",
                location=location,
                fatal=True,
            )
        )
        return
    if target.startswith("file:"):
        target = unquote(urlsplit(target).path)
    included = target if os.path.isabs(target) else os.path.join(_dir_of(path), target)
    included = os.path.normpath(included)
    key = (_identity(included), as_constraints)
    if key in collected.seen:
        collected.problems.append(
            Problem(
                kind="repeated-include",
                message=f"{included} is included more than once (or in a cycle); read once",
                location=location,
            )
        )
        return
    if depth + 1 > MAX_INCLUDE_DEPTH:
        raise input_error(
            path, line_number, f"includes nested deeper than {MAX_INCLUDE_DEPTH} files"
        )
    collected.seen.add(key)
    collected.files.append(included)
    try:
        text = read_text(included)
    except InputError as error:
        reason = str(error).split(": ", 1)[-1]
        raise input_error(
            path, line_number, f"cannot read included {kind} file {target!r}: {reason}"
        ) from None
    _parse_into(text, included, as_constraints, collected, environ, True, depth + 1)


def _parse_requirement(
    text: str,
    options: list[tuple[str, str | None]],
    location: Location,
    *,
    editable: bool,
    base_dir: str,
) -> Requirement:
    path, line_number = location.path, location.line
    hashes = tuple(
        _check_hash(value or "", path, line_number) for name, value in options if name == "--hash"
    )
    if _URL_SCHEME.match(text) or (_looks_like_path(text) and not _PEP508_URL_FORM.match(text)):
        return _parse_direct_reference(text, location, editable, hashes, base_dir)
    parsed = parse_pep508(text, path, line_number)
    if editable and not parsed.url:
        raise input_error(
            path, line_number, f"editable requirement {text!r} must be a local path or a VCS URL"
        )
    return declared_requirement(parsed, location, editable=editable, hashes=hashes)


def _parse_direct_reference(
    text: str,
    location: Location,
    editable: bool,
    hashes: tuple[str, ...],
    base_dir: str,
) -> Requirement:
    """A URL, VCS reference or local path, with an optional "; marker" and "[extras]"."""
    path, line_number = location.path, location.line
    # In a URL ';' may be part of the address, so pip wants "; " before a marker there.
    separator = "; " if _URL_SCHEME.match(text) else ";"
    reference, _, marker_text = text.partition(separator)
    reference = reference.strip()
    marker = check_marker(marker_text.strip(), path, line_number) if marker_text.strip() else None
    extras: frozenset[str] = frozenset()
    extras_match = re.fullmatch(r"(.*?)\[([^\[\]]*)\]", reference)
    if extras_match and not _URL_SCHEME.match(reference):
        reference = extras_match.group(1)
        extras = frozenset(
            canonical(extra.strip()) for extra in extras_match.group(2).split(",") if extra.strip()
        )
    name, specifier = _name_of_reference(reference, base_dir)
    if not name:
        raise input_error(
            path,
            line_number,
            f"cannot tell the project name of {reference!r}; add '#egg=<name>' "
            "or write it as '<name> @ <url>'",
        )
    if not is_valid_name(name):
        # File names and egg fragments are not checked as PEP 508 names by packaging.
        raise input_error(
            path, line_number, f"{name!r} in {reference!r} is not a valid project name"
        )
    return Requirement(
        name=canonical(name),
        specifier=specifier,
        extras=extras,
        marker=marker,
        url=reference,
        editable=editable,
        location=location,
        hashes=hashes,
    )


def _name_of_reference(reference: str, base_dir: str) -> tuple[str | None, str]:
    """The project name (and "==version" when the file name says it) of a URL or path."""
    split = urlsplit(reference) if _URL_SCHEME.match(reference) else None
    fragment = split.fragment if split else reference.partition("#")[2]
    egg = re.search(r"(?:^|&)egg=([^&]+)", fragment)
    if egg:
        return egg.group(1).split("[", 1)[0], ""
    location_text = unquote(split.path) if split else reference.partition("#")[0]
    file_name = location_text.rstrip("/").rsplit("/", 1)[-1]
    try:
        if file_name.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(file_name)
            return name, f"=={version}"
        if file_name.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(file_name)
            return name, f"=={version}"
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    if split is None or split.scheme == "file":
        local = (
            location_text if os.path.isabs(location_text) else os.path.join(base_dir, location_text)
        )
        declared = _declared_project_name(local)
        if declared:
            return declared, ""
    if split and "+" in split.scheme:  # VCS: the repository name is the usual project name
        candidate = file_name.split("@", 1)[0].removesuffix(".git")
        if is_valid_name(candidate):
            return candidate, ""
    return None, ""


def _declared_project_name(directory: str) -> str | None:
    """The name in a local project's pyproject.toml, when there is one to read."""
    pyproject = os.path.join(directory, "pyproject.toml")
    if not os.path.isfile(pyproject):
        return None
    try:
        document = load_toml(read_text(pyproject), pyproject)
    except InputError:
        return None  # a broken neighbour must not break the requirements file
    tool = document.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    for table in (document.get("project"), poetry):
        if isinstance(table, dict) and isinstance(table.get("name"), str):
            if is_valid_name(table["name"]):
                return table["name"]
    return None


def _looks_like_path(text: str) -> bool:
    head = text.split(";", 1)[0].strip()
    return (
        head.startswith((".", "/", "~"))
        or "/" in head
        or "\\" in head
        or head.endswith(_ARCHIVE_SUFFIXES)
    )


def _check_hash(value: str, path: str, line_number: int | None) -> str:
    algorithm, separator, digest = value.partition(":")
    algorithm = algorithm.lower()
    if not separator or algorithm not in _HASH_LENGTHS:
        raise input_error(
            path,
            line_number,
            f"invalid --hash {value!r}: expected sha256:<hex>, sha384: or sha512:",
        )
    if len(digest) != _HASH_LENGTHS[algorithm] or not re.fullmatch(r"[0-9a-fA-F]+", digest):
        raise input_error(
            path,
            line_number,
            f"invalid --hash {value!r}: {algorithm} needs {_HASH_LENGTHS[algorithm]} hex digits",
        )
    return f"{algorithm}:{digest.lower()}"


def _dir_of(path: str) -> str:
    if path.startswith("<"):
        return "."
    return os.path.dirname(path) or "."


def _identity(path: str) -> str:
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return os.path.abspath(path)


_REQUIREMENTS_NAME = re.compile(r"(\.txt|\.in)$|^requirements", re.IGNORECASE)


def sniffed_requirements(sniffed: Sniffed) -> RequirementsFile:
    """The text parsed as a requirements file for detection (no includes followed, no
    environment variables), once for every kind that asks."""
    return sniffed.memo(
        "requirements",
        lambda: parse_requirements_text(
            sniffed.text, sniffed.path, environ={}, follow_includes=False
        ),
    )


@register
class RequirementsKind(InputKind):
    name = "requirements"
    priority = 80  # the last resort: any text no other kind claims

    def detect(self, sniffed: Sniffed) -> bool:
        if sniffed.format == "json":
            return False
        try:
            sniffed_requirements(sniffed)
        except InputError as error:
            if _REQUIREMENTS_NAME.search(sniffed.file_name):
                raise  # named like a requirements file: its own error says what is wrong
            raise InputError(
                f"cannot tell what kind of input {sniffed.path} is: not a lockfile, "
                f"pyproject.toml or SBOM, and not a requirements file ({error})"
            ) from None
        return True

    def read(self, path: Path, context: ReadContext) -> Contribution:
        parsed = parse_requirements_file(path)
        return Contribution(
            declared=tuple(parsed.requirements),
            constraints=tuple(parsed.constraints),
            problems=tuple(parsed.problems),
            index_url=parsed.index_url,
        )
