"""The gate's decision against a baseline: only what a change adds can fail."""

from __future__ import annotations

from datetime import date

import networkx as nx

from scanner.model import (
    Facts,
    Finding,
    Package,
    Publishers,
    Resolution,
    ScanResult,
    Snapshot,
    TargetEnvironment,
    Undetermined,
)
from scanner.policy import Policy, PolicyException, decide, snapshot_of
from scanner.policy.snapshot import compare

HIGH = Finding("typosquat", "reqeusts", "high", "looks like requests", {})
UNKNOWN = Undetermined("known-vulnerability", "six", "high", ("vulnerability_count",), ("x",))


def result(packages, findings=(), undetermined=(), publishers=None) -> ScanResult:
    resolution = Resolution(
        tuple(Package(n, v) for n, v in packages.items()), (), TargetEnvironment({}, "t"), "test"
    )
    facts = {
        n: Facts({"publishers": list(p), "organization": ""}) for n, p in (publishers or {}).items()
    }
    return ScanResult(resolution, nx.DiGraph(), facts, tuple(findings), tuple(undetermined))


NOW = result({"reqeusts": "1.0", "six": "1.16.0"}, [HIGH], [UNKNOWN], {"reqeusts": ["mallory"]})


def test_an_old_finding_of_an_unchanged_package_is_existing_not_failing():
    verdict = decide(NOW, Policy(fail_on="high"), snapshot_of(NOW))
    assert verdict.outcome == "pass"
    assert {i.rule_id for i in verdict.existing} == {"typosquat", "known-vulnerability"}


def test_a_new_package_a_new_version_or_new_publishers_make_findings_new():
    base = snapshot_of(NOW)
    added = Snapshot("b", {"six": "1.16.0"}, base.findings, base.undetermined, base.publishers)
    assert decide(NOW, Policy(fail_on="high"), added).failed[0].why_new == "new package"
    bumped = Snapshot("b", {**base.packages, "reqeusts": "0.9"}, base.findings,
                      base.undetermined, base.publishers)  # fmt: skip
    assert "0.9 -> 1.0" in decide(NOW, Policy(fail_on="high"), bumped).failed[0].why_new
    owners = Snapshot("b", base.packages, base.findings, base.undetermined,
                      {"reqeusts": Publishers(frozenset({"alice"}))})  # fmt: skip
    why = decide(NOW, Policy(fail_on="high"), owners).failed[0].why_new
    assert "+mallory" in why and "-alice" in why


def test_a_newly_undetermined_check_is_incomplete_unless_allowed():
    base = snapshot_of(NOW)
    without = Snapshot("b", base.packages, base.findings, frozenset(), base.publishers)
    assert decide(NOW, Policy(fail_on="critical"), without).outcome == "pass"
    closed = decide(result({"six": "1.16.0"}, [], [UNKNOWN]), Policy(fail_on="high"), without)
    assert closed.outcome == "incomplete" and closed.exit_code == 3
    warned = Policy(fail_on="high", on_unknown="warn")
    assert decide(result({"six": "1.16.0"}, [], [UNKNOWN]), warned, without).outcome == "pass"


def test_exceptions_except_until_they_expire_and_deny_always_fails():
    exception = PolicyException("reqeus*", "typosquat", "reviewed", date(2026, 12, 31), "t:3")
    policy = Policy(fail_on="high", on_unknown="warn", exceptions=(exception,))
    excepted = decide(NOW, policy, today=date(2026, 12, 31))
    assert excepted.outcome == "pass" and excepted.excepted[0].exception.startswith("reqeus*")
    expired = decide(NOW, policy, today=date(2027, 1, 1))
    assert expired.outcome == "fail" and "expired on 2026-12-31" in expired.notes[0]
    denied = decide(NOW, Policy(fail_on="critical", deny=("six",)), snapshot_of(NOW))
    assert denied.outcome == "fail" and denied.failed[0].kind == "denied"


def test_per_rule_severity_decides_what_fails():
    lowered = Policy(fail_on="high", on_unknown="warn", severity={"typosquat": "low"})
    assert decide(NOW, lowered).outcome == "pass"


def test_diff_names_who_can_now_publish_into_the_closure():
    old = result({"idna": "3.9"}, publishers={"idna": ["kjd"]})
    new = result({"idna": "3.10", "reqeusts": "1.0"}, [HIGH],
                 publishers={"idna": ["kjd"], "reqeusts": ["mallory"]})  # fmt: skip
    diff = compare(snapshot_of(old), snapshot_of(new))
    assert diff.added == {"reqeusts": "1.0"} and diff.changed == {"idna": ("3.9", "3.10")}
    assert diff.new_publishers == {"mallory": ("reqeusts",)} and not diff.gone_publishers
    assert diff.findings_added == (("reqeusts", "typosquat"),)
    assert not compare(snapshot_of(new), snapshot_of(new)).findings_added
