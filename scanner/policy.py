"""The policy stage: a pure decision over a ScanResult, after the rules and before the
outputs. `scan` reports and always passes; the gate and the allowlist decide with the
same function and a stricter Policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scanner.model import SEVERITIES, ScanResult, Severity, Verdict


@dataclass(frozen=True)
class Policy:
    """`fail_on`: the lowest severity that fails (None: report only, never fail).
    `on_unknown`: "fail" turns an undetermined check that could reach `fail_on` into an
    incomplete verdict (fail closed); "warn" lets it pass, with the reason kept."""

    fail_on: Severity | None = None
    on_unknown: Literal["fail", "warn"] = "fail"


REPORT_ONLY = Policy()


def decide(result: ScanResult, policy: Policy = REPORT_ONLY) -> Verdict:
    if policy.fail_on is None:
        return Verdict("pass")
    floor = SEVERITIES.index(policy.fail_on)
    failing = [f for f in result.findings if SEVERITIES.index(f.severity) >= floor]
    if failing:
        return Verdict(
            "fail",
            tuple(f"{f.package}: {f.rule_id} ({f.severity}): {f.title}" for f in failing),
        )
    unknown = [u for u in result.undetermined if SEVERITIES.index(u.severity) >= floor]
    reasons = tuple(
        f"{u.package}: {u.rule_id} ({u.severity}) undetermined: {'; '.join(u.reasons)}"
        for u in unknown
    )
    if unknown and policy.on_unknown == "fail":
        return Verdict("incomplete", reasons)
    return Verdict("pass", reasons)
