"""The gate's decision against a baseline: only what a change adds can fail."""

from __future__ import annotations

from datetime import date

import networkx as nx

from scanner.model import (
    Facts,
    Finding,
    GateItem,
    Package,
    Publishers,
    Resolution,
    ScanResult,
    Snapshot,
    TargetEnvironment,
    Undetermined,
)
from scanner.policy import Policy, PolicyException, decide, publisher_change, snapshot_of
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


def check(rule_id, package, severity, fact="vulnerability_count", why="HTTP 503"):
    return Undetermined(rule_id, package, severity, (fact,), (f"{fact}: {why}",))


def test_the_whole_verdict_against_a_baseline():
    """Every part of a gate's verdict at once, each item whole: what fails (denied, new
    findings), what is unknown, excepted or existing, in severity order, with why each
    counts as new; a check below the threshold never stops the ones after it."""
    now = result(
        {"attrs": "23.1", "evil-new": "1.0", "evil-old": "1.0", "evil-ok": "2.0", "idna": "3.10",
         "reqeusts": "1.0", "six": "1.16.0", "tiny": "", "urllib3": "2.2.0", "yarl": "1.9",
         "zipp": "3.20"},
        findings=[
            Finding("solo-maintainer", "idna", "high", "one account", {}),
            Finding("typosquat", "reqeusts", "high", "looks like requests", {}),
            Finding("solo-maintainer", "tiny", "low", "one account", {}),
        ],
        undetermined=[
            check("solo-maintainer", "yarl", "low", "publishers", "offline"),  # below: skipped
            check("known-vulnerability", "six", "high"),
            check("low-usage", "urllib3", "low", "download_rank", "offline"),
            check("known-vulnerability", "attrs", "high"),
            check("known-vulnerability", "zipp", "high"),
        ],
        publishers={"urllib3": ["mallory"]},
    )  # fmt: skip
    baseline = Snapshot(
        "main.json",
        {"attrs": "23.1", "evil-old": "1.0", "evil-ok": "2.0", "idna": "3.10",
         "reqeusts": "1.0", "six": "1.15.0", "tiny": "0.1", "urllib3": "2.2.0", "yarl": "",
         "zipp": "3.20"},
        findings=frozenset({("idna", "solo-maintainer"), ("attrs", "known-vulnerability")}),
        undetermined=frozenset({("six", "known-vulnerability")}),
        publishers={"urllib3": Publishers(frozenset({"sethmlarson"}))},
    )  # fmt: skip
    reviewed = PolicyException("evil-ok", "*", "ours", date(2027, 1, 31), "trustmap.toml:7")
    zipp = PolicyException("zipp", "known-vulnerability", "pinned", date(2027, 1, 31), "t:9")
    expired = PolicyException("reqeusts", "*", "old review", date(2026, 1, 1), "t:3")
    policy = Policy(
        fail_on="high",
        severity={"low-usage": "high"},
        deny=("evil-*",),
        exceptions=(expired, reviewed, zipp),
    )

    verdict = decide(now, policy, baseline, today=date(2026, 12, 4))

    deny = "matches deny 'evil-*'"
    cve = "undetermined: vulnerability_count unknown (HTTP 503)"
    rank = "undetermined: download_rank unknown (offline)"
    publishers = "who can publish it changed: +mallory, -sethmlarson"
    assert verdict.outcome == "fail"
    assert verdict.failed == (
        GateItem("denied", "evil-new", "deny", "critical", deny, "new package"),
        GateItem("denied", "evil-old", "deny", "critical", deny, "denied"),
        GateItem("finding", "reqeusts", "typosquat", "high", "looks like requests",
                 "new finding"),
    )  # fmt: skip
    assert verdict.unknown == (
        GateItem("undetermined", "six", "known-vulnerability", "high", cve,
                 "version changed 1.15.0 -> 1.16.0"),
        GateItem("undetermined", "urllib3", "low-usage", "high", rank, publishers),
    )  # fmt: skip
    assert verdict.excepted == (
        GateItem("denied", "evil-ok", "deny", "critical", deny, "denied",
                 "evil-ok / *: ours, until 2027-01-31 (trustmap.toml:7)"),
        GateItem("undetermined", "zipp", "known-vulnerability", "high", cve,
                 "newly undetermined",
                 "zipp / known-vulnerability: pinned, until 2027-01-31 (t:9)"),
    )  # fmt: skip
    assert verdict.existing == (
        GateItem("undetermined", "attrs", "known-vulnerability", "high", cve),
        GateItem("finding", "idna", "solo-maintainer", "high", "one account"),
    )
    assert verdict.reasons == (
        f"evil-new: deny (critical): {deny}",
        f"evil-old: deny (critical): {deny}",
        "reqeusts: typosquat (high): looks like requests",
        f"six: known-vulnerability (high) {cve}",
        f"urllib3: low-usage (high) {rank}",
    )
    assert verdict.notes == (
        "exception expired on 2026-01-01 and no longer applies: "
        "reqeusts / *: old review, until 2026-01-01 (t:3)",
    )
    assert (verdict.fail_on, verdict.baseline) == ("high", "main.json")
    # Every new finding and check, of any severity (SARIF's baselineState reads it).
    assert verdict.new == {
        ("reqeusts", "typosquat"): "new finding",
        ("tiny", "solo-maintainer"): "version changed 0.1 -> (unpinned)",
        ("yarl", "solo-maintainer"): "version changed (unpinned) -> 1.9",
        ("six", "known-vulnerability"): "version changed 1.15.0 -> 1.16.0",
        ("urllib3", "low-usage"): publishers,
        ("zipp", "known-vulnerability"): "newly undetermined",
    }


def test_without_a_baseline_everything_is_new_and_only_unknowns_make_it_incomplete():
    now = result({"six": "1.16.0"}, undetermined=[check("known-vulnerability", "six", "high")])
    verdict = decide(now, Policy(fail_on="high"))
    assert (verdict.outcome, verdict.baseline, verdict.failed) == ("incomplete", None, ())
    assert verdict.new == {("six", "known-vulnerability"): "no baseline"}
    assert verdict.unknown[0].why_new == "no baseline"
    denied = decide(now, Policy(fail_on="high", on_unknown="warn", deny=("six",)))
    assert denied.failed[0].why_new == "no baseline"


def test_an_exception_for_every_rule_of_one_package_excepts_that_package_only():
    everything = PolicyException("reqeusts", "*", "reviewed", date(2027, 1, 1))
    other = result({"reqeusts": "1.0", "idna": "3.10"},
                   [HIGH, Finding("typosquat", "idna", "high", "looks like ida", {})])  # fmt: skip
    verdict = decide(other, Policy(fail_on="high", exceptions=(everything,)))
    assert [i.package for i in verdict.excepted] == ["reqeusts"]
    assert [i.package for i in verdict.failed] == ["idna"]
    # Without an expiry or a place, it says neither.
    assert verdict.excepted[0].exception == "reqeusts / *: reviewed, until 2027-01-01"
    assert PolicyException("six", "typosquat", "ok").describe() == "six / typosquat: ok"


def test_what_changed_in_who_can_publish_is_said_exactly():
    alice = Publishers(frozenset({"alice"}))
    assert publisher_change(alice, Publishers(frozenset({"alice", "bob"}))) == "+bob"
    assert publisher_change(alice, Publishers(frozenset())) == "-alice"
    assert publisher_change(alice, Publishers(frozenset({"alice"}), "acme")) == (
        "organisation (none) -> acme"
    )
    moved = Publishers(frozenset({"bob"}), "")
    assert publisher_change(Publishers(frozenset({"alice"}), "acme"), moved) == (
        "+bob, -alice; organisation acme -> (none)"
    )
    assert publisher_change(alice, alice) == ""
