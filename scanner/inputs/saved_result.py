"""Saved trustmap JSON output, read back: the file itself (`load_saved`, shared with the
baseline reader in scanner.inputs.baseline) and, for `trustmap report`, everything a
ScanResult is made of (`read_saved_result`): the packages, edges, target, facts, findings,
undetermined checks, rules and notes. scanner.scan wires these into a ScanResult (graph
and summary recomputed from them, as a scan computes them), so that any output can be
rendered later from one saved artifact without scanning again.

A saved file is data from disk, possibly from another machine: every field is checked for
its type, and a file that is not a trustmap JSON report is one line naming the file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from scanner.model import (
    SEVERITIES,
    Edge,
    Facts,
    Finding,
    GateItem,
    InputError,
    Location,
    Package,
    Problem,
    Resolution,
    RuleInfo,
    TargetEnvironment,
    Undetermined,
    Verdict,
)
from scanner.names import is_project_name

# A saved report of a large closure is a few megabytes; anything far bigger is not one.
MAX_SAVED_BYTES = 256 * 1024 * 1024
MAX_NAME = 200  # characters: a package name in a saved file, hostile or not, is short


def load_saved(path: Path, what: str = "saved output") -> Any | None:
    """The JSON document in `path`; None when it is not JSON at all. Unreadable or far too
    large is an InputError."""
    try:
        size = path.stat().st_size
        if size > MAX_SAVED_BYTES:
            raise InputError(f"{path}: {size} bytes is too large for a {what}")
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError):
        return None


def is_trustmap_report(data: Any) -> bool:
    """Whether `data` is trustmap's JSON report (`scan -f json`, `gate -f json`)."""
    if not isinstance(data, dict):
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and tool.get("name") == "trustmap" and "packages" in data


def project_name(value: Any, where: str) -> str:
    """A saved package name, canonical; a value that is no project name is an InputError."""
    if not isinstance(value, str) or not is_project_name(value):
        raise InputError(f"{where}: {str(value)[:80]!r} is not a package name")
    return str(canonicalize_name(value))


def object_list(value: Any, where: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects (absent: empty); anything else is an InputError."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError(f"{where}: not a list of objects")
    return value


@dataclass(frozen=True)
class SavedResult:
    """What a saved JSON report holds, as the model's types (no graph, no summary)."""

    resolution: Resolution
    facts: Mapping[str, Facts]
    findings: tuple[Finding, ...]
    undetermined: tuple[Undetermined, ...]
    notes: tuple[str, ...]
    rules: Mapping[str, RuleInfo]
    verdict: Verdict | None = None  # a saved gate's or allowlist check's decision


_HOW_TO_SAVE = "write one with `trustmap scan -f json -o FILE`"


def read_saved_result(path: Path) -> SavedResult:
    """The saved JSON report in `path`, whole. Not JSON, or JSON of another tool, is an
    InputError saying how to save one."""
    data = load_saved(path, "saved result")
    if data is None:
        raise InputError(f"{path}: not JSON: not a saved trustmap result ({_HOW_TO_SAVE})")
    if not is_trustmap_report(data):
        raise InputError(f"{path}: not a saved trustmap JSON result ({_HOW_TO_SAVE})")
    return _Reader(path).result(data)


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, what: str) -> InputError:
        return InputError(f"{self.path}: {where}: {what}")

    def text(self, value: Any, where: str, optional: bool = False) -> str:
        if value is None and optional:
            return ""
        if not isinstance(value, str):
            raise self.fail(where, "not a string")
        return value

    def texts(self, value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, "not a list of strings")
        return tuple(value)

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, "not an object")
        return value

    def severity(self, value: Any, where: str) -> Any:
        if value not in SEVERITIES:
            raise self.fail(where, f"{str(value)[:40]!r} is not a severity")
        return value

    def name(self, value: Any, where: str) -> str:
        # Names as the scan saw them: a hostile environment's own spelling is kept (the
        # report escapes it), only its type and length are checked.
        if not isinstance(value, str) or not value or len(value) > MAX_NAME:
            raise self.fail(where, "not a package name")
        return str(canonicalize_name(value)) if is_project_name(value) else value

    def result(self, data: Mapping[str, Any]) -> SavedResult:
        target = self.mapping(data.get("target"), "target")
        entries = object_list(data.get("packages"), f"{self.path}: packages")
        packages: list[Package] = []
        facts: dict[str, Facts] = {}
        findings: list[Finding] = []
        undetermined: list[Undetermined] = []
        roots: list[str] = []
        for index, entry in enumerate(entries):
            where = f"packages[{index}]"
            name = self.name(entry.get("name"), f"{where}.name")
            packages.append(self.package(name, entry, where))
            if entry.get("top_level"):
                roots.append(name)
            facts[name] = Facts(
                values=self.mapping(entry.get("facts"), f"{where}.facts"),
                unknown={
                    str(k): str(v)
                    for k, v in self.mapping(
                        entry.get("unknown_facts"), f"{where}.unknown_facts"
                    ).items()
                },
            )
            for number, item in enumerate(
                object_list(entry.get("findings"), f"{self.path}: {where}.findings")
            ):
                at = f"{where}.findings[{number}]"
                findings.append(
                    Finding(
                        rule_id=self.text(item.get("rule"), f"{at}.rule"),
                        package=name,
                        severity=self.severity(item.get("severity"), f"{at}.severity"),
                        title=self.text(item.get("title"), f"{at}.title", optional=True),
                        evidence=self.mapping(item.get("evidence"), f"{at}.evidence"),
                        covers=self.texts(item.get("covers"), f"{at}.covers"),
                        detail=self.text(item.get("detail"), f"{at}.detail", optional=True),
                    )
                )
            for number, item in enumerate(
                object_list(entry.get("undetermined"), f"{self.path}: {where}.undetermined")
            ):
                at = f"{where}.undetermined[{number}]"
                undetermined.append(
                    Undetermined(
                        rule_id=self.text(item.get("rule"), f"{at}.rule"),
                        package=name,
                        # Saved before severities were written: the rule's severity is not
                        # known, and "high" keeps it in every list that shows the severe.
                        severity=self.severity(item.get("severity", "high"), f"{at}.severity"),
                        missing=self.texts(item.get("missing_facts"), f"{at}.missing_facts"),
                        reasons=self.texts(item.get("reasons"), f"{at}.reasons"),
                    )
                )
        resolution = Resolution(
            packages=tuple(packages),
            edges=tuple(self.edges(data.get("edges"))),
            target=TargetEnvironment(
                markers={
                    str(k): str(v)
                    for k, v in self.mapping(target.get("markers"), "target.markers").items()
                },
                description=self.text(
                    target.get("description"), "target.description", optional=True
                ),
                notes=self.texts(target.get("notes"), "target.notes"),
            ),
            source=self.text(target.get("source"), "target.source", optional=True),
            roots=tuple(roots),
            problems=tuple(self.problems(data.get("problems"))),
        )
        rules = {}
        for number, item in enumerate(object_list(data.get("rules"), f"{self.path}: rules")):
            at = f"rules[{number}]"
            rule = RuleInfo(
                id=self.text(item.get("id"), f"{at}.id"),
                title=self.text(item.get("title"), f"{at}.title", optional=True),
                severity=self.severity(item.get("severity"), f"{at}.severity"),
                category=self.text(item.get("category"), f"{at}.category", optional=True),
                motivation=self.text(item.get("motivation"), f"{at}.motivation", optional=True),
                remediation=self.text(item.get("remediation"), f"{at}.remediation", optional=True),
                references=self.texts(item.get("references"), f"{at}.references"),
            )
            rules[rule.id] = rule
        return SavedResult(
            resolution=resolution,
            facts=facts,
            findings=tuple(findings),
            undetermined=tuple(undetermined),
            notes=self.texts(data.get("notes"), "notes"),
            rules=rules,
            verdict=self.verdict(data.get("verdict")),
        )

    def verdict(self, value: Any) -> Verdict | None:
        """A saved gate's (or allowlist check's) verdict, as the gate decided it."""
        if value is None:
            return None
        data = self.mapping(value, "verdict")
        outcome = data.get("outcome")
        if outcome not in ("pass", "fail", "incomplete"):
            raise self.fail("verdict.outcome", f"{str(outcome)[:40]!r} is not a gate's outcome")
        policy = data.get("policy", "gate")
        if policy not in ("gate", "allowlist"):
            raise self.fail("verdict.policy", f"{str(policy)[:40]!r} is not gate or allowlist")
        fail_on = data.get("fail_on")
        items = {
            part: tuple(self.gate_item(item, f"verdict.{part}[{number}]") for number, item in
                        enumerate(object_list(data.get(part), f"{self.path}: verdict.{part}")))
            for part in ("failed", "unknown", "excepted", "existing")
        }  # fmt: skip
        new: dict[tuple[str, str], str] = {}
        for number, item in enumerate(object_list(data.get("new"), f"{self.path}: verdict.new")):
            at = f"verdict.new[{number}]"
            package = self.name(item.get("package"), f"{at}.package")
            rule_id = self.text(item.get("rule"), f"{at}.rule")
            new[(package, rule_id)] = self.text(item.get("why"), f"{at}.why")
        allowed = self.mapping(data.get("allowed"), "verdict.allowed")
        return Verdict(
            outcome,
            self.texts(data.get("reasons"), "verdict.reasons"),
            **items,
            notes=self.texts(data.get("notes"), "verdict.notes"),
            fail_on=None if fail_on is None else self.severity(fail_on, "verdict.fail_on"),
            baseline=_text_or_none(data.get("baseline")),
            new=new,
            policy_changes=self.texts(data.get("policy_changes"), "verdict.policy_changes"),
            policy=policy,
            allowed={str(k): str(v) for k, v in allowed.items()},
            source=self.text(data.get("allowlist"), "verdict.allowlist", optional=True),
        )

    def gate_item(self, item: Mapping[str, Any], at: str) -> GateItem:
        kind = item.get("kind")
        if kind not in ("finding", "undetermined", "denied", "allowlist"):
            raise self.fail(f"{at}.kind", f"{str(kind)[:40]!r} is not a kind of gate item")
        return GateItem(
            kind=kind,
            package=self.name(item.get("package"), f"{at}.package"),
            rule_id=self.text(item.get("rule"), f"{at}.rule"),
            severity=self.severity(item.get("severity"), f"{at}.severity"),
            message=self.text(item.get("message"), f"{at}.message", optional=True),
            why_new=self.text(item.get("why_new"), f"{at}.why_new", optional=True),
            exception=self.text(item.get("exception"), f"{at}.exception", optional=True),
        )

    def package(self, name: str, entry: Mapping[str, Any], where: str) -> Package:
        origin = self.text(entry.get("origin"), f"{where}.origin", optional=True)
        return Package(
            name=name,
            version=self.text(entry.get("version"), f"{where}.version", optional=True),
            display_name=self.text(entry.get("display_name"), f"{where}.display_name", True),
            summary=self.text(entry.get("summary"), f"{where}.summary", optional=True),
            license=self.text(entry.get("license"), f"{where}.license", optional=True),
            requires_python=self.text(
                entry.get("requires_python"), f"{where}.requires_python", optional=True
            ),
            origin=_location(origin) if origin else None,
            direct_url=_text_or_none(entry.get("direct_url")),
            index_url=_text_or_none(entry.get("index_url")),
            editable=bool(entry.get("editable")),
            wheel_tags=self.texts(entry.get("wheel_tags"), f"{where}.wheel_tags"),
            hashes=self.texts(entry.get("hashes"), f"{where}.hashes"),
            problems=self.texts(entry.get("metadata_problems"), f"{where}.metadata_problems"),
            declared_at=tuple(
                _location(text)
                for text in self.texts(entry.get("declared_at"), f"{where}.declared_at")
            ),
        )

    def edges(self, value: Any) -> list[Edge]:
        edges = []
        for number, item in enumerate(object_list(value, f"{self.path}: edges")):
            at = f"edges[{number}]"
            edges.append(
                Edge(
                    parent=self.name(item.get("from"), f"{at}.from"),
                    child=self.name(item.get("to"), f"{at}.to"),
                    specifier=self.text(item.get("specifier"), f"{at}.specifier", optional=True),
                    marker=_text_or_none(item.get("marker")),
                    extra=_text_or_none(item.get("extra")),
                    satisfied=item.get("satisfied", True) is not False,
                    extra_inferred=bool(item.get("extra_inferred")),
                )
            )
        return edges

    def problems(self, value: Any) -> list[Problem]:
        problems = []
        for number, item in enumerate(object_list(value, f"{self.path}: problems")):
            at = f"problems[{number}]"
            location = self.text(item.get("location"), f"{at}.location", optional=True)
            problems.append(
                Problem(
                    kind=self.text(item.get("kind"), f"{at}.kind"),
                    message=self.text(item.get("message"), f"{at}.message", optional=True),
                    package=_text_or_none(item.get("package")),
                    location=_location(location) if location else None,
                    fatal=bool(item.get("fatal")),
                )
            )
        return problems


def _location(text: str) -> Location:
    """`path:line` (as Location prints itself) back into a Location."""
    path, colon, line = text.rpartition(":")
    if colon and path and line.isdigit():
        return Location(path, int(line))
    return Location(text)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
