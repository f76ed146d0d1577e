"""Helpers shared by the input readers: capped file reading, one-line errors, line lookup.

Every reader turns whatever goes wrong with a user's file into `InputError` with one line
that names the file, the line when known, and what is wrong.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508Requirement
from packaging.utils import canonicalize_name

from ..model import InputError, Location, Requirement
from ..names import is_project_name

# Manifests and lockfiles are kilobytes; anything this large is a mistake or an attack.
MAX_INPUT_BYTES = 20 * 1024 * 1024

_SPECIFIER_WITHOUT_VERSION = re.compile(r"(===|==|!=|~=|<=|>=|<|>)\s*(?=$|[,;])")


def input_error(path: str | os.PathLike[str], line: int | None, message: str) -> InputError:
    where = f"{path}:{line}" if line else str(path)
    # One line only: messages from libraries sometimes carry a caret diagram below.
    first_line = message.strip().splitlines()[0] if message.strip() else "invalid input"
    return InputError(f"{where}: {first_line}")


def read_text(path: str | os.PathLike[str], *, shown_as: str | None = None) -> str:
    """The file's text (UTF-8, BOM tolerated), refusing files over MAX_INPUT_BYTES."""
    shown = shown_as or str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except IsADirectoryError:
        raise input_error(shown, None, "is a directory, not a file") from None
    except FileNotFoundError:
        raise input_error(shown, None, "no such file") from None
    except OSError as error:
        raise input_error(shown, None, f"cannot read: {error.strerror or error}") from None
    if len(data) > MAX_INPUT_BYTES:
        limit = MAX_INPUT_BYTES // (1024 * 1024)
        raise input_error(shown, None, f"file is larger than {limit} MB; refusing to read it")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise input_error(shown, line, "not UTF-8 text") from None


def load_toml(text: str, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\(at line (\d+), column \d+\)", str(error))
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise input_error(path, line, f"invalid TOML: {message}") from None
    except (RecursionError, ValueError) as error:  # absurdly deep nesting, odd values
        raise input_error(path, None, f"invalid TOML: {error}") from None


def load_json(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise input_error(path, error.lineno, f"invalid JSON: {error.msg}") from None
    except (RecursionError, ValueError) as error:
        raise input_error(path, None, f"invalid JSON: {error}") from None


def parse_pep508(text: str, path: str, line: int | None) -> Pep508Requirement:
    """A PEP 508 requirement, or InputError naming the file, the line and the fault."""
    missing_version = _SPECIFIER_WITHOUT_VERSION.search(text)
    if missing_version:
        operator = missing_version.group(1)
        raise input_error(
            path, line, f"invalid requirement {text!r}: expected version after {operator!r}"
        )
    try:
        parsed = Pep508Requirement(text)
    except InvalidRequirement as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "malformed"
        raise input_error(path, line, f"invalid requirement {text!r}: {reason}") from None
    # packaging's tokenizer lets a name end in '.', '_' or '-' ('0_'); PEP 508 does not,
    # and such a name must never reach the index.
    if not is_project_name(parsed.name):
        raise input_error(
            path, line, f"invalid requirement {text!r}: {parsed.name!r} is not a valid project name"
        )
    return parsed


def declared_requirement(
    parsed: Pep508Requirement, location: Location | None, **more: Any
) -> Requirement:
    """A parsed PEP 508 requirement as the model's Requirement, names canonicalised;
    `more` sets the fields only some inputs know (editable, hashes)."""
    return Requirement(
        name=canonical(parsed.name),
        specifier=str(parsed.specifier),
        extras=frozenset(canonical(extra) for extra in parsed.extras),
        marker=str(parsed.marker) if parsed.marker else None,
        url=parsed.url,
        location=location,
        **more,
    )


def check_marker(text: str, path: str, line: int | None) -> str:
    try:
        return str(Marker(text))
    except InvalidMarker as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "malformed"
        raise input_error(path, line, f"invalid marker {text!r}: {reason}") from None


def canonical(name: str) -> str:
    return str(canonicalize_name(name))


def is_valid_name(name: str) -> bool:
    return is_project_name(name)


class LineFinder:
    """Best-effort line numbers for values in a file whose parser gives no positions
    (tomllib, json): look for the value's literal text, preferring lines after a hint."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, needle: str, after: int = 0) -> int | None:
        """The first 1-based line at or after `after` that contains `needle`, else the
        first anywhere."""
        return self._find_from(needle, after) or (self._find_from(needle, 0) if after else None)

    def find_any(self, needles: Iterable[str], after: int = 0) -> int | None:
        """Like find(), trying each spelling of the value after `after` before anywhere."""
        needles = tuple(needles)
        for start in (after, 0) if after else (0,):
            for needle in needles:
                found = self._find_from(needle, start)
                if found:
                    return found
        return None

    def _find_from(self, needle: str, after: int) -> int | None:
        for index in range(max(after - 1, 0), len(self.lines)):
            if needle in self.lines[index]:
                return index + 1
        return None

    def find_table(self, dotted_name: str) -> int | None:
        """The line of a TOML `[table]` header (whitespace and quotes ignored)."""
        wanted = f"[{dotted_name}]"
        for index, line in enumerate(self.lines):
            compact = re.sub(r"[\s\"']", "", line.split("#", 1)[0])
            if compact == wanted:
                return index + 1
        return None

    def find_array_tables(self, dotted_name: str) -> list[int]:
        """The lines of every `[[table]]` header of an array of tables, in order."""
        wanted = f"[[{dotted_name}]]"
        found = []
        for index, line in enumerate(self.lines):
            compact = re.sub(r"[\s\"']", "", line.split("#", 1)[0])
            if compact == wanted:
                found.append(index + 1)
        return found

    def find_key(self, key: str, after: int = 0, before: int | None = None) -> int | None:
        """The line where `key = ...` is set (bare or quoted key), after a table header."""
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        stop = len(self.lines) if before is None else min(before - 1, len(self.lines))
        for index in range(max(after - 1, 0), stop):
            if pattern.match(self.lines[index]):
                return index + 1
        return None


def toml_string_literals(value: str) -> tuple[str, ...]:
    """How a string value probably looks in TOML source: basic or literal quoting."""
    return (json.dumps(value), f"'{value}'")


def expect_table(value: Any, what: str, path: str, line: int | None = None) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise input_error(path, line, f"{what} must be a table, not {_type_name(value)}")
    return value


def expect_list(value: Any, what: str, path: str, line: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise input_error(path, line, f"{what} must be an array, not {_type_name(value)}")
    return value


def expect_str(value: Any, what: str, path: str, line: int | None = None) -> str:
    if not isinstance(value, str):
        raise input_error(path, line, f"{what} must be a string, not {_type_name(value)}")
    return value


def _type_name(value: Any) -> str:
    names = {dict: "a table", list: "an array", str: "a string", bool: "a boolean"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def calendar_date(value: Any) -> date | None:
    """A TOML date (or datetime, or an ISO date string) as a date; None for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
