"""The figures every report leads with: counts, where to look first, who can publish."""

from __future__ import annotations

import dataclasses
import io
import json

from rich.console import Console

from scanner.model import Facts
from scanner.report.json_report import render_json
from scanner.report.terminal import render_terminal
from scanner.summary import ownership, summarize, with_summary
from tests.report.test_cyclonedx import make_result


def test_publishing_accounts_and_unknown_ownership():
    summary = summarize(make_result())
    assert summary.publishing_accounts == 4  # ann, bob, cat, dan
    assert summary.organizations == 2
    assert summary.organization_names == ["alpha-org", "delta-org"]
    # gamma has facts but no publishers; epsilon has no facts at all: both counted.
    assert summary.ownership_unknown == 2
    assert summary.ownership_unknown_packages == ["epsilon", "gamma"]
    shares = {share.account: share.packages for share in summary.top_accounts}
    assert shares["bob"] == ("alpha", "beta")
    assert summary.top_accounts[0].account == "bob"  # the most packages first
    assert summary.owners["epsilon"].known is False
    assert summary.owners["epsilon"].reason == "no facts were gathered"
    # "Not checked" counts the same packages: epsilon, with no facts, was checked for
    # nothing (it once counted among the unknown owners and nowhere here).
    (ownership_kind,) = [n for n in summary.not_checked if n.kind == "ownership"]
    assert ownership_kind.packages == summary.ownership_unknown
    assert ownership_kind.of == 5 and ownership_kind.packages == 2


def test_ownership_of_one_package():
    assert ownership(Facts({"publishers": ["a"], "organization": ""})).as_dict() == {
        "known": True,
        "accounts": ["a"],
        "organization": "",
        "unknown_reason": None,
    }
    unknown = ownership(Facts({}, {"publishers": "offline: not in the cache"}))
    assert unknown.accounts is None and unknown.reason == "offline: not in the cache"


def test_look_first_ranks_by_risk_with_the_path():
    summary = summarize(make_result())
    names = [item.name for item in summary.look_first]
    assert names == ["gamma", "alpha"]  # critical beats high; nothing else has findings
    gamma = summary.look_first[0]
    assert gamma.path == ["alpha", "gamma"]
    assert gamma.risk.dependents == 1 and gamma.risk.top_level == 1
    assert gamma.as_dict()["publishers"]["known"] is False
    assert summarize(make_result(), look_first_count=1).look_first[0].name == "gamma"


def test_json_summary_and_packages_carry_risk_and_publishers():
    doc = json.loads(render_json(make_result(), "0.1.0"))
    summary = doc["summary"]
    assert summary["packages_with_unknown_ownership"] == 2
    assert summary["unknown_ownership"] == ["epsilon", "gamma"]
    assert {"account": "bob", "packages": 2, "names": ["alpha", "beta"]} in summary["top_accounts"]
    assert [item["name"] for item in summary["look_first"]] == ["gamma", "alpha"]
    packages = {p["name"]: p for p in doc["packages"]}
    assert packages["delta"]["risk"] == {
        "score": 0,
        "findings_score": 0,
        "reach_factor": 3.32,  # 1 + log2(1 + 3 dependents + 1 top-level)
        "dependents": 3,
        "top_level_reached": 1,
    }
    assert packages["epsilon"]["publishers"] == {
        "known": False,
        "accounts": None,
        "organization": None,
        "unknown_reason": "no facts were gathered",
    }
    assert packages["alpha"]["publishers"]["accounts"] == ["ann", "bob"]


def hostile_result():
    result = make_result()
    facts = dict(result.facts)
    facts["alpha"] = Facts(
        {
            **facts["alpha"].values,
            "publishers": ["\x1b[31mmallory\x1b[0m", "[bold]ann[/bold]"],
            "organization": "org\u202eevil",
        }
    )
    return with_summary(dataclasses.replace(result, facts=facts))


def render(result, verbose=False, width=80) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    render_terminal(result, console, verbose=verbose, version="0.1.0")
    return console.export_text()


def test_terminal_escapes_account_and_organisation_names():
    out = render(hostile_result(), verbose=True, width=200)
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[31mmallory\\x1b[0m" in out
    assert "[bold]ann[/bold]" in out  # markup printed, not interpreted
    assert "org\\u202eevil" in out
    assert "Publishers by package" in out


def test_terminal_sections_in_order_and_within_80_columns():
    out = render(make_result())
    order = ["Packages:", "Findings:", "Where to look first", "Who can publish code here:"]
    positions = [out.index(heading) for heading in order]
    assert positions == sorted(positions)
    assert "1. gamma==0.3  risk 64.6" in out
    assert "ownership unknown for 2 packages: epsilon, gamma" in out
    assert "bob (2): alpha, beta" in out
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80


def test_a_path_of_one_package_says_whether_it_is_top_level():
    from scanner.report.terminal import path_text

    assert path_text(["app"]).plain == "(top-level)"
    assert path_text(["stray"], top_level=False).plain == "(no top-level package pulls it in)"
    assert path_text(["a", "\x1bb"]).plain == "a → \\x1bb"


def test_terminal_findings_are_grouped_by_package():
    """tiny has a high and a low finding: its name and path once, both findings under it."""
    from tests.report.test_sarif import make_result as two_findings_result

    out = render(two_findings_result(), verbose=True)
    findings = out[out.index("\nFindings\n") :].splitlines()
    assert findings.count("tiny==0.1") == 1
    at = findings.index("tiny==0.1")
    assert findings[at + 1] == "  pulled in by: (top-level)"
    assert findings[at + 2].split() == ["HIGH", "solo-and-little-used"]
    low = next(i for i, line in enumerate(findings) if line.split() == ["LOW", "solo-maintainer"])
    assert at < low and not [line for line in findings[at + 1 : low] if not line.startswith(" ")]


def test_the_summary_line_says_counts_findings_and_what_is_undetermined():
    from scanner.report.terminal import summary_line
    from tests.report.test_sarif import make_result as two_findings_result

    assert summary_line(two_findings_result()).plain == (
        "3 packages, publishing accounts unknown; findings: 2 high, 2 low; "
        "1 rule check undetermined (facts unknown)"
    )


def _with_facts(result, facts):
    return with_summary(dataclasses.replace(result, facts=facts, summary=None))


def test_publisher_counts_are_lower_bounds_when_some_ownership_is_unknown():
    """gamma's and epsilon's publishers are unknown: 4 accounts is "at least 4", in the
    terminal and the Markdown alike; JSON keeps the count and says it is not exact."""
    from scanner.report.markdown import render_markdown

    partial = make_result()
    assert "Who can publish code here: at least 4 accounts, at least 2 organisations" in render(
        partial
    )
    assert "who can publish: at least 4 accounts, at least 2 organisations" in render_markdown(
        partial, "0.1.0"
    )
    summary = json.loads(render_json(partial, "0.1.0"))["summary"]
    assert (summary["publishing_accounts"], summary["publishing_accounts_exact"]) == (4, False)
    from scanner.report.terminal import summary_line

    assert "at least 4 publishing accounts, at least 2 organisations;" in (
        summary_line(partial).plain
    )

    known = {name: Facts({"publishers": ["zoe"], "organization": ""}) for name in partial.facts}
    known["epsilon"] = Facts({"publishers": ["zoe"], "organization": ""})
    exact = _with_facts(partial, known)
    assert "Who can publish code here: 1 account, 0 organisations\n" in render(exact)
    assert json.loads(render_json(exact, "0.1.0"))["summary"]["publishing_accounts_exact"]


def test_publisher_counts_are_unknown_when_no_ownership_is_known():
    from scanner.report.markdown import render_markdown

    partial = make_result()
    offline = {
        name: Facts({}, {"publishers": "offline, and not in the cache"}) for name in partial.facts
    }
    unknown = _with_facts(partial, offline)
    out = render(unknown)
    assert "Who can publish code here: unknown\n" in out and "0 accounts" not in out
    assert "who can publish: unknown" in render_markdown(unknown, "0.1.0")


def test_a_note_that_not_checked_already_said_is_not_repeated():
    """`provenance: REASON` is the note of what "Not checked" says as `provenance for all 5
    packages: REASON`: said once."""
    reason = "the index does not serve PEP 740 provenance"
    result = make_result()
    facts = {
        name: Facts(
            {k: v for k, v in f.values.items() if k != "has_provenance"},
            {**f.unknown, "has_provenance": reason},
        )
        for name, f in result.facts.items()
    }
    notes = (f"provenance: {reason}", "index: https://pypi.org/simple")
    result = with_summary(dataclasses.replace(result, facts=facts, notes=notes))
    out = render(result, width=200)
    assert out.count(reason) == 1
    assert out.rstrip().endswith("; index: https://pypi.org/simple")
