"""The allowlist file (`trustmap-allowlist.toml`): read into a model.Allowlist, every
mistake one line naming the file and line; written deterministically; edited in place.

    version = 1

    [organizations.certifi]              # a trusted PyPI organisation
    reason = "..."
    approved-by = "alice@example.org"
    approved-on = 2026-12-04
    expires = 2027-06-30                  # optional
    members = ["alex", "lukasa"]          # who could publish its packages at approval

    [accounts.sethmlarson]                # a trusted PyPI account
    reason = "..."
    approved-by = "..."
    approved-on = 2026-12-04

    [[publishers]]                        # a trusted provenance identity (PEP 740)
    kind = "GitHub"                       # optional
    repository = "pallets/*"              # owner/name, a glob
    workflow = "publish.yml"              # a glob; "*" when left out
    packages = ["flask"]                  # what it covered at approval
    reason = "..."
    approved-by = "..."
    approved-on = 2026-12-04

    [packages.idna]                       # one package
    versions = "==3.10"                   # a PEP 440 specifier; "" any version
    hashes = ["sha256:..."]               # optional: only these files
    reason = "..."
    approved-by = "..."
    approved-on = 2026-12-04
    expires = 2027-06-30                  # optional
    baseline = true                       # written by `init`
    publishers = ["kjd"]                  # the facts it was approved on; a key left out
    organization = ""                     # was unknown at approval
    repository = "github.com/kjd/idna"
    provenance = ""                       # "KIND OWNER/REPO WORKFLOW", "" not attested

Editing works on the text, table by table: a table is its header, the comment lines
directly above it (about it) and its body up to the next such block. An approval adds or
replaces one table at its sorted place, a revocation removes one; comments elsewhere
(the file's head, other tables, inside a replaced table) stay where they are. Every edit
is checked by parsing the result and comparing it with the data intended, and written to
a temporary file that is then renamed over the old one: never half-written."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from scanner.inputs._common import calendar_date
from scanner.model import (
    ALLOWLIST_NAME,
    AllowedPackage,
    Allowlist,
    Approval,
    ApprovedFacts,
    InputError,
    TrustedAccount,
    TrustedOrganization,
    TrustedPublisher,
)
from scanner.names import is_project_name

DEFAULT_NAME = ALLOWLIST_NAME
FORMAT_VERSION = 1
SECTIONS = ("organizations", "accounts", "publishers", "packages")  # the order written
APPROVAL_KEYS = ("reason", "approved-by", "approved-on", "expires")
FACT_KEYS = ("publishers", "organization", "repository", "provenance")
PACKAGE_KEYS = ("versions", "hashes", *APPROVAL_KEYS, "baseline", *FACT_KEYS)
ORGANIZATION_KEYS = (*APPROVAL_KEYS, "members")
ACCOUNT_KEYS = APPROVAL_KEYS
PUBLISHER_KEYS = ("kind", "repository", "workflow", "packages", *APPROVAL_KEYS)
MAX_BYTES = 16 * 1024 * 1024
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
GLOB = re.compile(r"^[A-Za-z0-9*?.\[\]!_/-]{1,200}$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*\]\]?\s*(?:#.*)?$")
HEADER_COMMENT = """\
# trustmap allowlist: whom this project trusts to ship code into it.
# Reviewed in pull requests like code; `trustmap allowlist check` fails on any package
# of the closure that no entry, trusted organisation, account or publisher allows, and
# on any approval whose recorded facts (publishers, organisation, repository,
# provenance) have changed since. `trustmap allowlist review` lists what needs a decision.
"""


# --- reading ------------------------------------------------------------------------------


def read_allowlist(path: Path) -> Allowlist:
    """The allowlist at `path`; InputError (exit 2) listing every mistake, one line each."""
    return parse_allowlist(read_text(path), str(path))


def read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(
                f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB: not an allowlist"
            )
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"{path}: no such allowlist (`trustmap allowlist init` starts one)"
        ) from None
    except (OSError, UnicodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None


def load_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        line = f":{found.group(1)}" if found else ""
        cause = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        raise InputError(f"{where}{line}: not valid TOML: {cause}") from None


def parse_allowlist(text: str, where: str) -> Allowlist:
    data = load_toml(text, where)
    layout = Layout(text)
    problems: list[str] = []
    reader = _Reader(where, layout, problems)
    for key in data:
        if key not in ("version", *SECTIONS):
            reader.problem(None, key, f"unknown key (known keys: version, {', '.join(SECTIONS)})")
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        reader.problem(None, "version", f"must be {FORMAT_VERSION}, got {version!r}")
    packages = reader.packages(reader.table(data, "packages"))
    organizations = reader.organizations(reader.table(data, "organizations"))
    accounts = reader.accounts(reader.table(data, "accounts"))
    publishers = reader.publishers(data.get("publishers", []))
    if problems:
        raise InputError("\n".join(problems))
    return Allowlist(where, packages, organizations, accounts, publishers)


class _Reader:
    def __init__(self, where: str, layout: Layout, problems: list[str]) -> None:
        self.where = where
        self.layout = layout
        self.problems = problems

    def at(self, block: tuple[str, Any] | None, key: str | None = None) -> str:
        line = self.layout.line_of(block, key)
        return f"{self.where}:{line}" if line else self.where

    def problem(self, block: tuple[str, Any] | None, key: str, message: str) -> None:
        self.problems.append(f"{self.at(block, key.rpartition('.')[2])}: {key}: {message}")

    def table(self, data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, Mapping):
            self.problem(None, name, f"must be a table of [{name}.NAME] tables")
            return {}
        return value

    def known_keys(self, block, prefix: str, entry: Mapping[str, Any], keys) -> None:
        for key in entry:
            if key not in keys:
                self.problem(
                    block, f"{prefix}.{key}", f"unknown key (known keys: {', '.join(keys)})"
                )

    def approval(self, block, prefix: str, entry: Mapping[str, Any]) -> Approval | None:
        ok = True
        reason, by = entry.get("reason"), entry.get("approved-by")
        for key, value in (("reason", reason), ("approved-by", by)):
            if not isinstance(value, str) or not value.strip():
                self.problem(block, f"{prefix}.{key}", "is required: say it in words")
                ok = False
        approved_on = calendar_date(entry.get("approved-on"))
        if approved_on is None:
            self.problem(block, f"{prefix}.approved-on", "is required: a date such as 2026-12-04")
            ok = False
        expires = None
        if "expires" in entry:
            expires = calendar_date(entry["expires"])
            if expires is None:
                self.problem(
                    block, f"{prefix}.expires", f"must be a date, got {entry['expires']!r}"
                )
                ok = False
            elif approved_on is not None and expires < approved_on:
                self.problem(
                    block, f"{prefix}.expires", "is before approved-on: a conflicting entry"
                )
                ok = False
        if not ok:
            return None
        return Approval(reason.strip(), by.strip(), approved_on, expires, self.at(block))

    def strings(self, block, key: str, value: Any, pattern: re.Pattern | None = None):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(block, key, "must be a list of strings")
            return None
        bad = [v for v in value if pattern is not None and not pattern.match(v)]
        if bad:
            self.problem(block, key, f"{bad[0]!r} is not valid here")
            return None
        return tuple(value)

    def string(self, block, key: str, value: Any) -> str | None:
        if not isinstance(value, str):
            self.problem(block, key, "must be a string")
            return None
        return value

    def packages(self, table: Mapping[str, Any]) -> dict[str, AllowedPackage]:
        found: dict[str, AllowedPackage] = {}
        for name, entry in table.items():
            block = ("packages", name)
            prefix = f"packages.{name}"
            if not isinstance(entry, Mapping):
                self.problem(block, prefix, "must be a table")
                continue
            if not is_project_name(name):
                self.problem(block, prefix, "is not a package name")
                continue
            canonical = str(canonicalize_name(name))
            if canonical != name:
                clash = canonical in table
                conflict = f": it conflicts with the entry at {self.at(('packages', canonical))}"
                message = f"write the canonical name {canonical!r}" + (conflict if clash else "")
                self.problem(block, prefix, message)
                continue
            self.known_keys(block, prefix, entry, PACKAGE_KEYS)
            approval = self.approval(block, prefix, entry)
            versions = entry.get("versions", "")
            if not isinstance(versions, str):
                self.problem(
                    block, f"{prefix}.versions", "must be a specifier string such as '==1.0'"
                )
                approval = None
            else:
                try:
                    SpecifierSet(versions)
                except InvalidSpecifier:
                    self.problem(
                        block, f"{prefix}.versions", f"{versions!r} is not a version specifier"
                    )
                    approval = None
            hashes = self.strings(block, f"{prefix}.hashes", entry.get("hashes", []), _HASH)
            baseline = entry.get("baseline", False)
            if not isinstance(baseline, bool):
                self.problem(block, f"{prefix}.baseline", "must be true or false")
            facts = self.facts(block, prefix, entry)
            if (
                approval is None
                or hashes is None
                or facts is None
                or not isinstance(baseline, bool)
            ):
                continue
            found[name] = AllowedPackage(name, approval, versions.strip(), hashes, facts, baseline)
        return found

    def facts(self, block, prefix: str, entry: Mapping[str, Any]) -> ApprovedFacts | None:
        values: dict[str, Any] = {}
        ok = True
        if "publishers" in entry:
            values["publishers"] = self.strings(
                block, f"{prefix}.publishers", entry["publishers"], ACCOUNT
            )
            ok = values["publishers"] is not None
        for key in FACT_KEYS[1:]:
            if key in entry:
                values[key] = self.string(block, f"{prefix}.{key}", entry[key])
                ok = ok and values[key] is not None
        if not ok:
            return None
        if values.get("publishers") is not None:
            values["publishers"] = tuple(sorted(values["publishers"]))
        return ApprovedFacts(**values)

    def organizations(self, table: Mapping[str, Any]) -> dict[str, TrustedOrganization]:
        found = {}
        for name, entry in table.items():
            block, prefix = ("organizations", name), f"organizations.{name}"
            if not isinstance(entry, Mapping) or not ACCOUNT.match(name):
                self.problem(block, prefix, "must be a table named after a PyPI organisation")
                continue
            self.known_keys(block, prefix, entry, ORGANIZATION_KEYS)
            approval = self.approval(block, prefix, entry)
            members = None
            if "members" in entry:
                members = self.strings(block, f"{prefix}.members", entry["members"], ACCOUNT)
                if members is None:
                    continue
                members = tuple(sorted(members))
            if approval is not None:
                found[name] = TrustedOrganization(name, approval, members)
        return found

    def accounts(self, table: Mapping[str, Any]) -> dict[str, TrustedAccount]:
        found = {}
        for name, entry in table.items():
            block, prefix = ("accounts", name), f"accounts.{name}"
            if not isinstance(entry, Mapping) or not ACCOUNT.match(name):
                self.problem(block, prefix, "must be a table named after a PyPI account")
                continue
            self.known_keys(block, prefix, entry, ACCOUNT_KEYS)
            approval = self.approval(block, prefix, entry)
            if approval is not None:
                found[name] = TrustedAccount(name, approval)
        return found

    def publishers(self, value: Any) -> tuple[TrustedPublisher, ...]:
        if not isinstance(value, list):
            self.problem(None, "publishers", "must be an array of tables ([[publishers]])")
            return ()
        found: list[TrustedPublisher] = []
        seen: dict[tuple[str, str, str], int] = {}
        for index, entry in enumerate(value):
            block, prefix = ("publishers", index), f"publishers[{index}]"
            if not isinstance(entry, Mapping):
                self.problem(block, prefix, "must be a table")
                continue
            self.known_keys(block, prefix, entry, PUBLISHER_KEYS)
            approval = self.approval(block, prefix, entry)
            repository = entry.get("repository")
            if (
                not isinstance(repository, str)
                or "/" not in repository
                or not GLOB.match(repository)
            ):
                self.problem(
                    block,
                    f"{prefix}.repository",
                    "is required: OWNER/NAME, a glob such as 'pallets/*'",
                )
                continue
            workflow = entry.get("workflow", "*")
            kind = entry.get("kind", "")
            if not isinstance(workflow, str) or not GLOB.match(workflow):
                self.problem(block, f"{prefix}.workflow", "must be a workflow file name or glob")
                continue
            if not isinstance(kind, str):
                self.problem(block, f"{prefix}.kind", 'must be a string such as "GitHub"')
                continue
            packages = self.strings(block, f"{prefix}.packages", entry.get("packages", []))
            identity = (kind.lower(), repository.lower(), workflow)
            if identity in seen:
                self.problem(
                    block,
                    prefix,
                    f"conflicts with publishers[{seen[identity]}]: the same identity twice",
                )
                continue
            seen[identity] = index
            if approval is not None and packages is not None:
                found.append(
                    TrustedPublisher(repository, approval, workflow, kind, tuple(sorted(packages)))
                )
        return tuple(found)


# --- the text, block by block -------------------------------------------------------------


@dataclass
class Block:
    """One table of the file: lines [start, end) of the text, its header at `header`."""

    section: str  # "packages", "organizations", "accounts", "publishers", or another
    name: Any  # the table's name, or the publisher's index
    start: int  # first line (the comment lines directly above the header)
    header: int
    end: int


def _unquote(key: str) -> str:
    key = key.strip()
    if key.startswith('"'):
        return json.loads(key)
    if key.startswith("'"):
        return key[1:-1]
    return key


def _split_key(dotted: str) -> list[str]:
    return [_unquote(part) for part in re.findall(_KEY, dotted)]


class Layout:
    """The file's lines and its tables in order. A header inside a multi-line string
    would mislead it: every edit is checked by parsing the result."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self.blocks: list[Block] = []
        publishers = 0
        for number, line in enumerate(self.lines):
            match = _HEADER.match(line)
            if not match:
                continue
            parts = _split_key(match.group(2))
            section = parts[0] if parts else ""
            if match.group(1) == "[[" and parts == ["publishers"]:
                name: Any = publishers
                publishers += 1
            elif len(parts) == 2:
                name = parts[1]
            else:
                section, name = f"other:{'.'.join(parts)}", None
            start = number
            while start > 0 and self.lines[start - 1].lstrip().startswith("#"):
                start -= 1
            if self.blocks:
                self.blocks[-1].end = start
            self.blocks.append(Block(section, name, start, number, len(self.lines)))
        # The first table does not take the file's head comment: it belongs to the file.
        if self.blocks and self.blocks[0].start < self.blocks[0].header:
            head = self.blocks[0]
            if not any(
                line.strip() and not line.lstrip().startswith("#")
                for line in self.lines[: head.start]
            ):
                head.start = head.header

    def find(self, section: str, name: Any) -> Block | None:
        return next((b for b in self.blocks if b.section == section and b.name == name), None)

    def line_of(self, block: tuple[str, Any] | None, key: str | None = None) -> int | None:
        """The 1-based line of a table's header, or of `key` inside it (top-level key when
        `block` is None)."""
        if block is None:
            first = self.blocks[0].start if self.blocks else len(self.lines)
            span = range(0, first)
        else:
            found = self.find(*block)
            if found is None:
                return None
            if key is None:
                return found.header + 1
            span = range(found.header + 1, found.end)
        if key is not None:
            pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=")
            for number in span:
                if pattern.match(self.lines[number]):
                    return number + 1
        return None if block is None else self.find(*block).header + 1

    def text(self) -> str:
        return "".join(self.lines)


# --- writing ------------------------------------------------------------------------------


def _value(value: Any) -> str:
    """A TOML value: strings as JSON writes them (a valid TOML basic string), dates bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        items = [_value(v) for v in value]
        one_line = f"[{', '.join(items)}]"
        if len(one_line) <= 80:
            return one_line
        return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
    raise TypeError(f"cannot write {value!r}")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _approval_dict(approval: Approval) -> dict[str, Any]:
    values: dict[str, Any] = {
        "reason": approval.reason,
        "approved-by": approval.approved_by,
        "approved-on": approval.approved_on,
    }
    if approval.expires is not None:
        values["expires"] = approval.expires
    return values


def package_dict(entry: AllowedPackage) -> dict[str, Any]:
    values: dict[str, Any] = {"versions": entry.versions}
    if entry.hashes:
        values["hashes"] = sorted(entry.hashes)
    values.update(_approval_dict(entry.approval))
    if entry.baseline:
        values["baseline"] = True
    facts = entry.facts
    if facts.publishers is not None:
        values["publishers"] = sorted(facts.publishers)
    for key in FACT_KEYS[1:]:
        value = getattr(facts, key)
        if value is not None:
            values[key] = value
    return values


def organization_dict(entry: TrustedOrganization) -> dict[str, Any]:
    values = _approval_dict(entry.approval)
    if entry.members is not None:
        values["members"] = sorted(entry.members)
    return values


def account_dict(entry: TrustedAccount) -> dict[str, Any]:
    return _approval_dict(entry.approval)


def publisher_dict(entry: TrustedPublisher) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if entry.kind:
        values["kind"] = entry.kind
    values["repository"] = entry.repository
    values["workflow"] = entry.workflow
    values["packages"] = sorted(entry.packages)
    values.update(_approval_dict(entry.approval))
    return values


def _table_text(section: str, name: Any, values: Mapping[str, Any]) -> str:
    header = "[[publishers]]" if section == "publishers" else f"[{section}.{_key(name)}]"
    body = "".join(f"{key} = {_value(value)}\n" for key, value in values.items())
    return f"{header}\n{body}"


def render_allowlist(allowlist: Allowlist) -> str:
    """The whole file, deterministic: sections in a fixed order, tables sorted by name."""
    parts = [HEADER_COMMENT, f"\nversion = {FORMAT_VERSION}\n"]
    for name in sorted(allowlist.organizations):
        parts.append(
            "\n"
            + _table_text("organizations", name, organization_dict(allowlist.organizations[name]))
        )
    for name in sorted(allowlist.accounts):
        parts.append("\n" + _table_text("accounts", name, account_dict(allowlist.accounts[name])))
    for publisher in sorted(allowlist.publishers, key=lambda p: p.label):
        parts.append("\n" + _table_text("publishers", None, publisher_dict(publisher)))
    for name in sorted(allowlist.packages):
        parts.append("\n" + _table_text("packages", name, package_dict(allowlist.packages[name])))
    return "".join(parts)


class AllowlistEditor:
    """Edits of one allowlist file, each checked against the data it intends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = read_text(path)
        self.data = load_toml(self.text, str(path))
        parse_allowlist(self.text, str(path))  # a file with mistakes is not edited

    def put(self, section: str, name: str, values: Mapping[str, Any]) -> bool:
        """Add or replace the table `[section.name]`; True when it replaced one."""
        layout = Layout(self.text)
        new_table = _table_text(section, name, values)
        old = layout.find(section, name)
        if old is None and name in self.data.get(section, {}):
            raise self._unsafe()
        lines = layout.lines
        if old is not None:
            kept = [
                lines[n]
                for n in range(old.header + 1, old.end)
                if lines[n].lstrip().startswith("#")
            ]
            trailing = [line for line in lines[old.header + 1 : old.end] if not line.strip()]
            replacement = lines[old.start : old.header] + [new_table] + kept + (trailing[-1:] or [])
            lines = lines[: old.start] + replacement + lines[old.end :]
        else:
            at = self._insertion_point(layout, section, name)
            lines = _inserted(lines, at, new_table)
        expected = _with(self.data, section, name, values)
        self._commit("".join(lines), expected)
        return old is not None

    def append_publisher(self, values: Mapping[str, Any]) -> None:
        layout = Layout(self.text)
        lines = layout.lines
        at = self._insertion_point(layout, "publishers", None)
        expected = dict(self.data)
        expected["publishers"] = [*self.data.get("publishers", []), dict(values)]
        self._commit(
            "".join(_inserted(lines, at, _table_text("publishers", None, values))), expected
        )

    def remove(self, section: str, name: Any) -> bool:
        layout = Layout(self.text)
        old = layout.find(section, name)
        if old is None:
            if section != "publishers" and name in self.data.get(section, {}):
                raise self._unsafe()
            return False
        lines = layout.lines[: old.start] + layout.lines[old.end :]
        expected = _without(self.data, section, name)
        self._commit("".join(lines), expected)
        return True

    def _insertion_point(self, layout: Layout, section: str, name: Any) -> int:
        order = SECTIONS.index(section)
        same = [b for b in layout.blocks if b.section == section]
        if same:
            if section != "publishers":
                after = next((b for b in same if str(b.name) > name), None)
                if after is not None:
                    return after.start
            return _end_of(layout, same[-1])
        later = [b for b in layout.blocks if b.section in SECTIONS[order + 1 :]]
        if later:
            return later[0].start
        return len(layout.lines)

    def _unsafe(self) -> InputError:
        return InputError(
            f"{self.path}: cannot edit this file safely (an unusual layout: write each "
            "entry as its own [section.NAME] table); nothing was changed"
        )

    def _commit(self, text: str, expected: Mapping[str, Any]) -> None:
        try:
            parsed = load_toml(text, str(self.path))
        except InputError:
            raise self._unsafe() from None
        if parsed != expected:
            raise self._unsafe()
        parse_allowlist(text, str(self.path))
        self.text, self.data = text, parsed

    def save(self) -> None:
        write_atomically(self.path, self.text)


def _inserted(lines: list[str], at: int, table: str) -> list[str]:
    """`lines` with `table` inserted before line `at`, a blank line on either side."""
    before = list(lines[:at])
    if before and not before[-1].endswith("\n"):
        before[-1] += "\n"
    if before and before[-1].strip():
        before.append("\n")
    if at >= len(lines):
        return [*before, table]
    return [*before, table, "\n", *lines[at:]]


def _end_of(layout: Layout, block: Block) -> int:
    """Where a new table goes after `block`: after its last non-blank line."""
    end = block.end
    while end > block.header + 1 and not layout.lines[end - 1].strip():
        end -= 1
    return end


def _with(data: Mapping[str, Any], section: str, name: str, values: Mapping[str, Any]) -> dict:
    copy = dict(data)
    table = dict(copy.get(section, {}))
    table[name] = dict(values)
    copy[section] = table
    return copy


def _without(data: Mapping[str, Any], section: str, name: Any) -> dict:
    copy = dict(data)
    if section == "publishers":
        copy["publishers"] = [p for i, p in enumerate(data.get("publishers", [])) if i != name]
        if not copy["publishers"]:
            del copy["publishers"]
        return copy
    table = {k: v for k, v in copy.get(section, {}).items() if k != name}
    if table:
        copy[section] = table
    else:
        copy.pop(section, None)
    return copy


def write_atomically(path: Path, text: str) -> None:
    """Write beside the file and rename over it: a reader sees the old file or the new
    one, never half of one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        temporary.unlink(missing_ok=True)
