"""The policy table read into a Policy (scanner.policy.settings), value by value: every
mistake's exact line, the gate's defaults for what the table leaves out, deny patterns as
they are matched, and the settings a changed policy is named by."""

from __future__ import annotations

from datetime import date

from scanner.policy import GATE_DEFAULT, Policy, PolicyException
from scanner.policy.settings import describe_policy, parse_policy, policy_changes

RULES = {"solo-maintainer", "low-usage"}
WHERE = "trustmap.toml"


def parse(table, text=""):
    return parse_policy(table, WHERE, "policy.", RULES, text)


def test_every_mistake_is_its_own_exact_line():
    table = {
        "fail-on": "severe",
        "on-unknown": 1,
        "strict\nkey": True,
        "deny": ["Evil_Pkg", "evil/pkg", " "],
        "severity": {"no-such-rule": "high", "low-usage": "dire"},
        "exceptions": [
            "not a table",
            {"package": "x", "rule": "solo-maintainer", "reason": "r", "expires": "2027-01-01",
             "ticket": 12},
            {"package": "x"},
            {"package": 5, "rule": "nope", "reason": "  ", "expires": "soon"},
            {"package": "Fine_Lib", "rule": "*", "reason": " reviewed ", "expires": "2027-01-01"},
        ],
    }  # fmt: skip
    policy, problems = parse(table)
    severities = "info, low, medium, high, critical"
    keys = "fail-on, on-unknown, deny, severity, exceptions"
    assert problems == [
        f"{WHERE}: policy.'strict\\nkey': unknown key (known keys: {keys})",
        f"{WHERE}: policy.fail-on: must be one of {severities} or 'never', got 'severe'",
        f'{WHERE}: policy.on-unknown: must be "fail" or "warn", got 1',
        f"{WHERE}: policy.deny[1]: 'evil/pkg' is not a package name or glob",
        f"{WHERE}: policy.deny[2]: ' ' is not a package name or glob",
        f"{WHERE}: policy.severity.no-such-rule: no such rule (`trustmap rules list` shows them)",
        f"{WHERE}: policy.severity.low-usage: must be one of {severities}",
        f"{WHERE}: policy.exceptions[0]: must be a table with package, rule, reason and expires",
        f"{WHERE}: policy.exceptions[1].ticket: unknown key "
        "(known keys: package, rule, reason, expires)",
        f"{WHERE}: policy.exceptions[2].rule: is required: an exception says what, why, "
        "and until when",
        f"{WHERE}: policy.exceptions[2].reason: is required: an exception says what, why, "
        "and until when",
        f"{WHERE}: policy.exceptions[2].expires: is required: an exception says what, why, "
        "and until when",
        f"{WHERE}: policy.exceptions[3].package: 5 is not a package name or glob",
        f"{WHERE}: policy.exceptions[3].rule: 'nope': no such rule (a rule id, or \"*\" for "
        "every rule)",
        f"{WHERE}: policy.exceptions[3].reason: must say why, in words",
        f"{WHERE}: policy.exceptions[3].expires: must be a date (2027-03-31), got 'soon'",
    ]
    # What was right is kept, so that every mistake is found in one go; an exception with
    # any mistake is dropped whole.
    assert policy == Policy(
        fail_on="high",
        on_unknown="fail",
        severity={},
        deny=("evil-pkg",),
        exceptions=(PolicyException("fine-lib", "*", "reviewed", date(2027, 1, 1), WHERE),),
        source=WHERE,
    )


def test_a_table_of_the_wrong_shape_is_one_line_each():
    assert parse([1, 2]) == (GATE_DEFAULT, [f"{WHERE}: policy: must be a table"])
    policy, problems = parse({"deny": "evil", "severity": ["high"], "exceptions": {"a": 1}})
    assert problems == [
        f"{WHERE}: policy.deny: must be a list of package name patterns",
        f"{WHERE}: policy.severity: must be a table of rule id = severity",
        f"{WHERE}: policy.exceptions: must be an array of tables ([[...policy.exceptions]])",
    ]
    assert (policy.deny, policy.severity, policy.exceptions) == ((), {}, ())
    assert parse(None) == (GATE_DEFAULT, [])


def test_what_the_table_leaves_out_is_the_gate_s_default():
    policy, problems = parse({"on-unknown": "fail", "severity": {"low-usage": "critical"}})
    assert problems == []
    assert policy == Policy(
        fail_on="high", on_unknown="fail", severity={"low-usage": "critical"}, source=WHERE
    )
    assert parse({})[0] == Policy(fail_on="high", source=WHERE)
    assert parse({"fail-on": "never"})[0].fail_on is None


def test_an_exception_is_located_at_its_header_line_when_there_is_one():
    exception = {"package": "a", "rule": "*", "reason": "r", "expires": "2027-01-01"}
    text = "[policy]\n\n[[policy.exceptions]]\npackage = 'a'\n"
    (located,) = parse({"exceptions": [exception]}, text)[0].exceptions
    assert located.where == f"{WHERE}:3"
    # Written inline (no header of its own): located at the file.
    (inline,) = parse({"exceptions": [exception]}, "[policy]\nexceptions = [{...}]\n")[0].exceptions
    assert inline.where == WHERE


def test_deny_patterns_are_canonical_names_or_globs_of_them():
    policy, problems = parse(
        {"deny": ["Evil_Pkg", "Bad.*", "?ad", "[ab]x", "Mixed--Case__*", "x*y/z", "a?b c"]}
    )
    assert policy.deny == ("evil-pkg", "bad-*", "?ad", "[ab]x", "mixed-case-*")
    assert problems == [
        f"{WHERE}: policy.deny[5]: 'x*y/z' is not a package name or glob",
        f"{WHERE}: policy.deny[6]: 'a?b c' is not a package name or glob",
    ]


def test_a_policy_is_described_setting_by_setting():
    without_expiry = PolicyException("b", "low-usage", "forever")
    policy = Policy(
        fail_on="medium",
        on_unknown="warn",
        severity={"low-usage": "high"},
        deny=("evil-*",),
        exceptions=(PolicyException("a", "*", "mine", date(2027, 1, 1)), without_expiry),
    )
    assert describe_policy(policy) == {
        "fail-on": "medium",
        "on-unknown": "warn",
        "deny evil-*": "denied",
        "severity.low-usage": "high",
        "exception a / *": "mine (until 2027-01-01)",
        "exception b / low-usage": "forever (until no expiry)",
    }
    assert policy_changes(policy, Policy(fail_on="medium", on_unknown="warn")) == (
        "removed deny evil-*: denied",
        "removed exception a / *: mine (until 2027-01-01)",
        "removed exception b / low-usage: forever (until no expiry)",
        "removed severity.low-usage: high",
    )


def test_an_exception_with_one_mistake_is_dropped_whole():
    good = {"package": "a", "rule": "*", "reason": "r", "expires": "2027-01-01"}
    for wrong in ({"package": "a/b"}, {"rule": "nope"}, {"reason": ""}, {"expires": "soon"}):
        policy, problems = parse({"exceptions": [{**good, **wrong}]})
        assert policy.exceptions == () and len(problems) == 1, wrong
