"""SARIF 2.1.0 (`--format sarif`), for code scanning: GitHub shows each result as an alert
on the manifest line that brings the package in.

What becomes a result:
- `gate`: what the change adds. Each new finding (level by the severity the policy gives
  it: `error` when it fails the gate), each denied package, each new check that could
  fail but could not be decided (`warning`: unknown is never shown as safe), and each
  excepted item with a suppression that carries the exception's reason. What merely
  exists in the baseline is left out, as the gate leaves it out.
- `scan`: every finding, and every undetermined check of medium severity or above.

Each result's `partialFingerprints` is a hash of what it is about (kind, rule, package),
never of the line or the version, so that code scanning keeps one alert across runs
while the manifest moves and the package is upgraded. Everything from package metadata
goes through `sarif_message_text` (SARIF viewers read `[text](url)` as a link)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from scanner.model import SEVERITIES, GateItem, Location, RuleInfo, ScanResult, Severity
from scanner.report.text import sarif_message_text
from scanner.report.verdict import bringing_in

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "trustmap/v1"
SOURCE_ROOT = "%SRCROOT%"
# Code scanning shows at most this many results of a run; the rest are cut, most severe kept.
MAX_RESULTS = 5000

LEVEL: dict[Severity, str] = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}
# GitHub ranks security alerts by this number (CVSS-like: 9.0+ critical, 7.0+ high, ...).
SECURITY_SEVERITY: dict[Severity, str] = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "3.0",
    "info": "0.0",
}
DENY_RULE = RuleInfo(
    id="deny",
    title="The policy denies this package",
    severity="critical",
    category="policy",
    motivation="The gate's policy lists a pattern in `deny` that this package matches.",
    remediation="Remove the package, or change the policy's `deny` list in a reviewed change.",
)


def fingerprint(kind: str, rule_id: str, package: str) -> str:
    return hashlib.sha256(f"{kind}\0{rule_id}\0{package}".encode()).hexdigest()


def _artifact(path: str) -> dict[str, Any]:
    """A manifest path as SARIF wants it: relative to the repository root (the folder the
    scan ran in, as in CI) under %SRCROOT%, else an absolute file URI."""
    given = Path(path)
    if given.is_absolute():
        try:
            given = given.relative_to(Path.cwd())
        except ValueError:
            return {"uri": given.as_uri()}
    relative = PurePosixPath(*given.parts).as_posix()
    return {"uri": quote(relative, safe="/"), "uriBaseId": SOURCE_ROOT}


def _location(result: ScanResult, package: str) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    where, via = bringing_in(result, package)
    if where is None:
        where = _scanned_file(result)
    if where is None:
        return [], via
    physical: dict[str, Any] = {"artifactLocation": _artifact(where.path)}
    if where.line:
        physical["region"] = {"startLine": where.line}
    return [{"physicalLocation": physical}], via


def _scanned_file(result: ScanResult) -> Location | None:
    """The file scanned, for a package no manifest line names (an installed environment
    has none): the alert then sits on the file, not on a line."""
    source = result.resolution.source
    return Location(source) if source and os.path.isfile(source) else None


def _rule_descriptor(rule: RuleInfo) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.replace("_", "-").split("-")),
        "shortDescription": {"text": sarif_message_text(rule.title, 1000)},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "tags": ["security", "supply-chain", *([rule.category] if rule.category else [])],
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": "high",
        },
    }
    if rule.motivation:
        descriptor["fullDescription"] = {"text": " ".join(rule.motivation.split())}
    if rule.remediation:
        remediation = " ".join(rule.remediation.split())
        help_text = {"text": remediation}
        if rule.motivation:
            why = " ".join(rule.motivation.split())
            help_text["markdown"] = (
                f"**Why it matters**\n\n{why}\n\n**What to do**\n\n{remediation}"
            )
        descriptor["help"] = help_text
    links = [r for r in rule.references if r.startswith(("https://", "http://"))]
    if links:
        descriptor["helpUri"] = links[0]
    return descriptor


class _Results:
    """The run's results, and the rules they point at (by index, as SARIF links them)."""

    def __init__(self, result: ScanResult) -> None:
        self.scan = result
        self.rules: list[RuleInfo] = sorted(result.rules.values(), key=lambda r: r.id)
        self.index = {rule.id: i for i, rule in enumerate(self.rules)}
        self.items: list[tuple[int, dict[str, Any]]] = []  # (severity rank, result)

    def rule_index(self, rule_id: str, severity: Severity, title: str) -> int:
        if rule_id not in self.index:
            rule = DENY_RULE if rule_id == "deny" else RuleInfo(rule_id, title, severity)
            self.index[rule_id] = len(self.rules)
            self.rules.append(rule)
        return self.index[rule_id]

    def add(
        self,
        kind: str,
        package: str,
        rule_id: str,
        severity: Severity,
        message: str,
        level: str,
        *,
        why_new: str = "",
        exception: str = "",
        baseline: bool = False,
    ) -> None:
        found = self.scan.packages.get(package)
        label = found.label if found is not None else package
        locations, via = _location(self.scan, package)
        text = f"{label}: {message}"
        if kind == "undetermined":
            reason = message.removeprefix("undetermined: ")
            text = f"{label}: {rule_id} could not be checked: {reason}"
        if why_new:
            text += f" (new: {why_new})"
        if via:
            text += f" (brought in by {' > '.join(via)})"
        entry: dict[str, Any] = {
            "ruleId": rule_id,
            "ruleIndex": self.rule_index(rule_id, severity, message),
            "level": level,
            "message": {"text": sarif_message_text(text, 2000)},
            "locations": locations,
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint(kind, rule_id, package)},
            "properties": {
                "package": package,
                "version": found.version if found is not None else None,
                "severity": severity,
                "kind": kind,
            },
        }
        if baseline:
            entry["baselineState"] = "new"
        if exception:
            entry["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": sarif_message_text(exception, 1000),
                }
            ]
        self.items.append((SEVERITIES.index(severity), entry))

    def ordered(self) -> list[dict[str, Any]]:
        ranked = sorted(self.items, key=lambda item: -item[0])  # stable: input order kept
        return [entry for _, entry in ranked[:MAX_RESULTS]]


def _gate_results(results: _Results) -> None:
    scan = results.scan
    verdict = scan.verdict
    assert verdict is not None
    baseline = verdict.baseline is not None

    def add_item(item: GateItem, level: str) -> None:
        results.add(
            item.kind,
            item.package,
            item.rule_id,
            item.severity,
            item.message,
            level,
            why_new=item.why_new,
            exception=item.exception,
            baseline=baseline,
        )

    judged = set()
    for item in verdict.failed:
        add_item(item, "error")
        judged.add((item.package, item.rule_id))
    for item in verdict.unknown:
        add_item(item, "warning")
        judged.add((item.package, item.rule_id))
    for item in verdict.excepted:
        add_item(item, LEVEL[item.severity] if item.kind != "undetermined" else "warning")
        judged.add((item.package, item.rule_id))
    # New findings below fail-on: shown, at their own level, though they do not fail.
    for finding in scan.findings:
        key = (finding.package, finding.rule_id)
        if key in judged or key not in verdict.new:
            continue
        results.add(
            "finding",
            finding.package,
            finding.rule_id,
            finding.severity,
            finding.title,
            LEVEL[finding.severity],
            why_new=verdict.new[key],
            baseline=baseline,
        )


def _scan_results(results: _Results) -> None:
    scan = results.scan
    for finding in scan.findings:
        results.add(
            "finding",
            finding.package,
            finding.rule_id,
            finding.severity,
            finding.title,
            LEVEL[finding.severity],
        )
    floor = SEVERITIES.index("medium")
    for check in scan.undetermined:
        if SEVERITIES.index(check.severity) < floor:
            continue
        message = f"{', '.join(check.missing)} unknown ({'; '.join(check.reasons)})"
        results.add(
            "undetermined", check.package, check.rule_id, check.severity, message, "warning"
        )


def sarif_document(result: ScanResult, version: str) -> dict[str, Any]:
    results = _Results(result)
    if result.verdict is not None:
        _gate_results(results)
    else:
        _scan_results(results)
    ordered = results.ordered()
    notes = [*result.resolution.target.notes, *result.notes]
    if result.verdict is not None:
        notes += [*result.verdict.policy_changes, *result.verdict.notes]
    if len(results.items) > len(ordered):
        notes.append(f"{len(results.items) - len(ordered)} less severe results left out")
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "toolExecutionNotifications": [
            {"level": "note", "message": {"text": sarif_message_text(note, 2000)}} for note in notes
        ],
    }
    if result.verdict is not None:
        invocation["exitCode"] = result.verdict.exit_code
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "trustmap",
                "version": version,
                "rules": [_rule_descriptor(rule) for rule in results.rules],
            }
        },
        "invocations": [invocation],
        "results": ordered,
        "columnKind": "unicodeCodePoints",
        "properties": {"scanned": sarif_message_text(result.resolution.source, 1000)},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(result: ScanResult, version: str) -> str:
    return json.dumps(sarif_document(result, version), indent=2, ensure_ascii=False) + "\n"
