"""The policy stage: pass, fail and incomplete, decided from findings and unknowns."""

from __future__ import annotations

import networkx as nx

from scanner.model import Finding, Resolution, ScanResult, TargetEnvironment, Undetermined
from scanner.policy import Policy, decide


def result(findings=(), undetermined=()) -> ScanResult:
    resolution = Resolution((), (), TargetEnvironment({}, "test"), "test")
    return ScanResult(resolution, nx.DiGraph(), {}, tuple(findings), tuple(undetermined))


HIGH = Finding("typosquat", "reqeusts", "high", "looks like requests", {})
LOW = Finding("solo-maintainer", "idna", "low", "one account", {})
UNKNOWN_HIGH = Undetermined("known-vulnerability", "six", "high", ("vulnerability_count",), ("x",))
UNKNOWN_LOW = Undetermined("low-usage", "six", "low", ("download_rank",), ("y",))


def test_report_only_always_passes():
    assert decide(result([HIGH], [UNKNOWN_HIGH])).outcome == "pass"


def test_a_finding_at_or_above_the_threshold_fails():
    verdict = decide(result([LOW, HIGH]), Policy(fail_on="high"))
    assert (verdict.outcome, verdict.exit_code) == ("fail", 1)
    assert verdict.reasons == ("reqeusts: typosquat (high): looks like requests",)
    assert decide(result([LOW]), Policy(fail_on="high")).outcome == "pass"
    assert decide(result([LOW]), Policy(fail_on="low")).outcome == "fail"


def test_a_failing_item_says_the_findings_detail_after_its_title():
    """The gate shows one line per item: "looks like a popular package's" must say which."""
    squat = Finding("typosquat", "reqeusts", "high", "The name looks like a popular package's",
                    {}, detail="like requests (one edit)")  # fmt: skip
    (item,) = decide(result([squat]), Policy(fail_on="high")).failed
    assert item.message == "The name looks like a popular package's: like requests (one edit)"


def test_an_unknown_that_could_fail_is_incomplete_unless_allowed():
    closed = decide(result([LOW], [UNKNOWN_HIGH, UNKNOWN_LOW]), Policy(fail_on="high"))
    assert (closed.outcome, closed.exit_code) == ("incomplete", 3)
    assert len(closed.reasons) == 1 and "known-vulnerability" in closed.reasons[0]
    warned = decide(result([], [UNKNOWN_HIGH]), Policy(fail_on="high", on_unknown="warn"))
    assert warned.outcome == "pass" and warned.reasons
    assert decide(result([], [UNKNOWN_LOW]), Policy(fail_on="high")).outcome == "pass"


def test_a_reason_several_unknown_facts_share_is_said_once():
    from scanner.policy import _unknown_message

    # The index's own message may hold ": " too: split at the first, it is one reason.
    for why in (
        "the index serves vulnerabilities of the latest release only",
        "HTTP 503: Service Unavailable",
    ):
        shared = Undetermined(
            "known-vulnerability",
            "six",
            "high",
            ("vulnerability_count", "vulnerability_severity"),
            (f"vulnerability_count: {why}", f"vulnerability_severity: {why}"),
        )
        assert _unknown_message(shared) == (
            f"undetermined: vulnerability_count, vulnerability_severity unknown ({why})"
        )
    mixed = Undetermined(
        "new-and-solo",
        "six",
        "high",
        ("first_release", "publisher_count", "organization"),
        ("first_release: offline", "publisher_count: down", "organization: down",
         "condition error: division by zero"),
    )  # fmt: skip
    assert _unknown_message(mixed) == (
        "undetermined: first_release, publisher_count, organization unknown (first_release: "
        "offline; publisher_count, organization: down; condition error: division by zero)"
    )


def test_a_condition_error_alone_is_kept_whole():
    from scanner.policy import _unknown_message

    # A condition error alone is not a fact's reason: it keeps its "condition error: ".
    failing = Undetermined("x", "six", "high", ("release_count",),
                           ("condition error: division by zero",))  # fmt: skip
    assert _unknown_message(failing) == (
        "undetermined: release_count unknown (condition error: division by zero)"
    )
