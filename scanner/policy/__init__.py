"""The policy stage: a pure decision over a ScanResult, after the rules and before the
outputs. `scan` reports and always passes; the gate decides with a stricter Policy and,
given a baseline, counts only what the change adds; the allowlist decides with the same
function.

`decide(result, policy, baseline)` returns a Verdict: pass, fail (a new finding at or
above `fail_on`, or a denied package) or incomplete (a check that could reach `fail_on`
is undetermined for a new or changed package), with what failed, what is unknown and
why, what an exception excepts and what merely exists."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from scanner.model import (
    SEVERITIES,
    Finding,
    GateItem,
    ScanResult,
    Severity,
    Snapshot,
    Undetermined,
    Verdict,
)
from scanner.policy.snapshot import snapshot_of


@dataclass(frozen=True)
class PolicyException:
    """A reviewed exception: `rule` ("*" for every rule) does not fail for packages
    matching `package` (a glob over canonical names) until `expires` (inclusive)."""

    package: str
    rule: str
    reason: str
    expires: date | None = None
    where: str = ""  # file:line, so that the output points at it

    def matches(self, package: str, rule_id: str) -> bool:
        return fnmatch.fnmatchcase(package, self.package) and self.rule in ("*", rule_id)

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def describe(self) -> str:
        until = f", until {self.expires.isoformat()}" if self.expires else ""
        where = f" ({self.where})" if self.where else ""
        return f"{self.package} / {self.rule}: {self.reason}{until}{where}"


@dataclass(frozen=True)
class Policy:
    """`fail_on`: the lowest severity that fails (None: report only, never fail).
    `on_unknown`: "fail" turns an undetermined check that could reach `fail_on` into an
    incomplete verdict (fail closed); "warn" lets it pass, with the reason kept.
    `severity`: per-rule severity for the gate's decision. `deny`: package patterns that
    always fail. `exceptions`: reviewed exceptions, each with its expiry."""

    fail_on: Severity | None = None
    on_unknown: Literal["fail", "warn"] = "fail"
    severity: Mapping[str, Severity] = field(default_factory=dict)
    deny: tuple[str, ...] = ()
    exceptions: tuple[PolicyException, ...] = ()
    source: str = ""  # the file it was read from, for messages


REPORT_ONLY = Policy()

# The gate's default: fail on high, fail closed on unknowns.
GATE_DEFAULT = Policy(fail_on="high")


def decide(
    result: ScanResult,
    policy: Policy = REPORT_ONLY,
    baseline: Snapshot | None = None,
    today: date | None = None,
) -> Verdict:
    """Judge `result` by `policy`. With a `baseline`, only what is new relative to it can
    fail or be incomplete: a package it does not have, a changed version, a change in who
    can publish a package, a finding or an undetermined check it did not have."""
    if policy.fail_on is None:
        return Verdict("pass")
    today = today or date.today()
    floor = SEVERITIES.index(policy.fail_on)
    news = _Newness(snapshot_of(result), baseline)
    notes = [
        f"exception expired on {e.expires.isoformat()} and no longer applies: {e.describe()}"
        for e in policy.exceptions
        if e.expired(today)
    ]
    live = [e for e in policy.exceptions if not e.expired(today)]
    failed: list[GateItem] = []
    unknown: list[GateItem] = []
    excepted: list[GateItem] = []
    existing: list[GateItem] = []
    new: dict[tuple[str, str], str] = {}
    for finding in result.findings:
        if why := news.why_finding(finding):
            new[(finding.package, finding.rule_id)] = why
    for check in result.undetermined:
        if why := news.why_undetermined(check):
            new[(check.package, check.rule_id)] = why

    for name in sorted(result.packages):
        pattern = next((p for p in policy.deny if fnmatch.fnmatchcase(name, p)), None)
        if pattern is not None:
            item = GateItem("denied", name, "deny", "critical", f"matches deny {pattern!r}",
                            news.why(name) or "denied")  # fmt: skip
            _sort_into(item, live, failed, excepted)
    for finding in result.findings:
        severity = policy.severity.get(finding.rule_id, finding.severity)
        if SEVERITIES.index(severity) < floor:
            continue
        why = new.get((finding.package, finding.rule_id), "")
        message = f"{finding.title}: {finding.detail}" if finding.detail else finding.title
        item = GateItem("finding", finding.package, finding.rule_id, severity, message, why)
        if not why:
            existing.append(item)
        else:
            _sort_into(item, live, failed, excepted)
    for check in result.undetermined:
        severity = policy.severity.get(check.rule_id, check.severity)
        if SEVERITIES.index(severity) < floor:
            continue
        why = new.get((check.package, check.rule_id), "")
        item = GateItem(
            "undetermined", check.package, check.rule_id, severity, _unknown_message(check), why
        )
        if not why:
            existing.append(item)
        else:
            _sort_into(item, live, unknown, excepted)

    order = {s: i for i, s in enumerate(SEVERITIES)}

    def ranked(items: list[GateItem]) -> tuple[GateItem, ...]:
        return tuple(sorted(items, key=lambda i: (-order[i.severity], i.package, i.rule_id)))

    outcome: Literal["pass", "fail", "incomplete"] = "pass"
    if failed:
        outcome = "fail"
    elif unknown and policy.on_unknown == "fail":
        outcome = "incomplete"
    return Verdict(
        outcome,
        tuple(_reason(i) for i in ranked(failed) + ranked(unknown)),
        failed=ranked(failed),
        unknown=ranked(unknown),
        excepted=ranked(excepted),
        existing=ranked(existing),
        notes=tuple(notes),
        fail_on=policy.fail_on,
        baseline=baseline.source if baseline is not None else None,
        new=new,
    )


def _sort_into(
    item: GateItem, live: list[PolicyException], counted: list[GateItem], excepted: list[GateItem]
) -> None:
    exception = next((e for e in live if e.matches(item.package, item.rule_id)), None)
    if exception is None:
        counted.append(item)
    else:
        excepted.append(GateItem(**{**item.__dict__, "exception": exception.describe()}))


def _unknown_message(check: Undetermined) -> str:
    """`undetermined: a, b unknown (why)`: a reason that several facts share is said once
    (`a: offline; b: offline` was the same words twice)."""
    missing = ", ".join(check.missing)
    facts_by_reason: dict[str, list[str]] = {}
    for reason in check.reasons:
        fact, sep, why = reason.partition(": ")
        if sep and fact in check.missing:
            facts_by_reason.setdefault(why, []).append(fact)
        else:  # a condition error, or a reason of another shape: kept whole
            facts_by_reason.setdefault(reason, [])
    if len(facts_by_reason) == 1 and next(iter(facts_by_reason.values())):
        return f"undetermined: {missing} unknown ({next(iter(facts_by_reason))})"
    parts = [
        f"{', '.join(facts)}: {why}" if facts else why for why, facts in facts_by_reason.items()
    ]
    return f"undetermined: {missing} unknown ({'; '.join(parts)})"


def _reason(item: GateItem) -> str:
    if item.kind == "undetermined":
        return f"{item.package}: {item.rule_id} ({item.severity}) {item.message}"
    return f"{item.package}: {item.rule_id} ({item.severity}): {item.message}"


class _Newness:
    """Why a finding or check of the current scan is new relative to the baseline ("" when
    it is not). Without a baseline, everything is new."""

    def __init__(self, current: Snapshot, baseline: Snapshot | None) -> None:
        self.current = current
        self.baseline = baseline

    def why(self, package: str) -> str:
        """Why the package itself counts as new or changed ("" when it does not)."""
        if self.baseline is None:
            return "no baseline"
        if package not in self.baseline.packages:
            return "new package"
        old, new = self.baseline.packages[package], self.current.packages.get(package, "")
        if old != new:
            return f"version changed {old or '(unpinned)'} -> {new or '(unpinned)'}"
        before = self.baseline.publishers.get(package)
        after = self.current.publishers.get(package)
        if before is not None and after is not None and before != after:
            return "who can publish it changed: " + publisher_change(before, after)
        return ""

    def why_finding(self, finding: Finding) -> str:
        changed = self.why(finding.package)
        if changed or self.baseline is None:
            return changed
        if (finding.package, finding.rule_id) in self.baseline.findings:
            return ""
        return "new finding"

    def why_undetermined(self, check: Undetermined) -> str:
        changed = self.why(check.package)
        if changed or self.baseline is None:
            return changed
        key = (check.package, check.rule_id)
        if key in self.baseline.undetermined or key in self.baseline.findings:
            return ""
        return "newly undetermined"


def publisher_change(before, after) -> str:
    """`alice, +bob, -carol; organisation acme -> (none)`: what changed in who can
    publish a package."""
    parts = []
    added = sorted(after.accounts - before.accounts)
    removed = sorted(before.accounts - after.accounts)
    if added or removed:
        parts.append(", ".join([*(f"+{a}" for a in added), *(f"-{r}" for r in removed)]))
    if before.organization != after.organization:
        parts.append(
            f"organisation {before.organization or '(none)'} -> {after.organization or '(none)'}"
        )
    return "; ".join(parts)


__all__ = [
    "GATE_DEFAULT",
    "REPORT_ONLY",
    "Policy",
    "PolicyException",
    "decide",
    "publisher_change",
    "snapshot_of",
]
