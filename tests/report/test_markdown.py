"""`--format markdown` and `diff -f markdown`: fit for a pull-request comment (under
GitHub's 65,536 characters, long lists folded), outcome first, metadata literal."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date

from scanner.model import Finding, Publishers, ScanResult, Snapshot
from scanner.policy import Policy, decide
from scanner.policy.snapshot import compare
from scanner.report.diff import diff_json, diff_text
from scanner.report.markdown import LIMIT, render_diff_markdown, render_markdown
from scanner.report.render import step_summary
from scanner.report.text import markdown_text
from tests.report.test_sarif import BASELINE, make_result

HOSTILE = "x|y <img src=x> [l](https://e.com) ![i](u) a@b.com `c`\n# h &amp;"


def gated(result: ScanResult, policy: Policy | None = None, baseline=BASELINE) -> ScanResult:
    verdict = decide(result, policy or Policy(fail_on="high"), baseline, today=date(2026, 12, 3))
    return ScanResult(**{**result.__dict__, "verdict": verdict})


def test_metadata_cannot_break_a_table_or_inject_markup():
    text = markdown_text(HOSTILE)
    assert "\n" not in text
    # Every ASCII punctuation mark but the `@` code spans is preceded by a backslash.
    unescaped = re.sub(r"\\[!-/:-@\[-`{-~]|`@`", "", text)
    assert not re.search(r"[!-/:-@\[-`{-~]", unescaped), unescaped
    assert "a`@`b" in text  # GitHub links e-mail addresses even when escaped


def test_long_metadata_is_cut():
    assert len(markdown_text("a" * 1000, limit=50)) <= 51


def test_the_gate_comment_leads_with_the_outcome_and_names_file_and_line():
    text = render_markdown(gated(make_result()), "1.2.3")
    first = text.splitlines()[0]
    assert first.startswith("## ") and "FAIL" in first
    assert "**1 failing**, 1 unknown, 0 excepted, 1 existing; against git\\:main" in text
    failing = text.split("### Failing")[1].split("###")[0]
    row = next(line for line in failing.splitlines() if "tiny" in line)
    assert "solo\\-and\\-little\\-used" in row and "`requirements.txt:3`" in row
    assert "new package" in row
    # What merely exists is folded away, never in the open.
    existing = text.split("Existing: in the baseline too")[1]
    assert "</details>" in existing
    assert text.index("<details><summary>Existing") > text.index("### Failing")


def test_a_changed_policy_is_said_before_any_list():
    result = gated(make_result())
    verdict = result.verdict
    changed = ScanResult(
        **{
            **result.__dict__,
            "verdict": type(verdict)(
                **{**verdict.__dict__, "policy_changes": ("fail-on: high -> critical",)}
            ),
        }
    )
    text = render_markdown(changed, "1.2.3")
    assert "This change edits the gate's own policy" in text
    assert text.index(markdown_text("fail-on: high -> critical")) < text.index("### Failing")


def test_a_huge_change_stays_under_the_comment_limit_and_says_what_was_left_out():
    base = make_result()
    findings = tuple(
        Finding("solo-and-little-used", "tiny", "high", f"finding {i} " + "x" * 200, {})
        for i in range(3000)
    )
    result = gated(ScanResult(**{**base.__dict__, "findings": findings}), baseline=None)
    text = render_markdown(result, "1.2.3")
    assert len(text) < LIMIT
    match = re.search(r"… and (\d+) more: run `trustmap gate -f json`", text)
    assert match and 0 < int(match.group(1)) < 3000
    assert text.rstrip().endswith("</sub>")  # the footer survives the cut
    assert text.count("<details>") == text.count("</details>")


def test_hostile_versions_stay_literal():
    hostile = "0.1<script>alert(1)</script>[x](https://e.com)@team"
    text = render_markdown(gated(make_result(versions={"tiny": hostile})), "1.2.3")
    assert "<script>" not in text and "[x](" not in text and "@team" not in text


def test_a_scan_lists_findings_most_severe_first():
    text = render_markdown(make_result(), "1.2.3")
    assert text.startswith("## trustmap scan: 3 packages")
    rows = [
        line for line in text.splitlines() if line.startswith("| high") or line.startswith("| low")
    ]
    assert [row.split(" | ")[0] for row in rows] == ["| high", "| high", "| low", "| low"]


def test_the_diff_names_who_can_now_publish_first():
    old = Snapshot("git:main", {"big": "2.0"}, publishers={"big": Publishers(frozenset({"ann"}))})
    new = Snapshot(
        "requirements.txt",
        {"big": "2.1", "tiny": "0.1"},
        findings=frozenset({("tiny", "solo-maintainer")}),
        publishers={
            "big": Publishers(frozenset({"ann"})),
            "tiny": Publishers(frozenset({"mallory@evil"})),
        },
        titles={("tiny", "solo-maintainer"): "One account alone"},
        severities={("tiny", "solo-maintainer"): "low"},
    )
    text = render_diff_markdown(compare(old, new), ["a note"], "1.2.3")
    assert text.index("Can now publish into the closure") < text.index("### Added")
    assert "mallory`@`evil" in text
    assert "| big | 2\\.0 | 2\\.1 |" in text
    assert "| low | tiny | solo\\-maintainer | One account alone |" in text
    # The terminal and JSON give the same severity as the Markdown.
    assert "  tiny: solo-maintainer (low)\n" in diff_text(compare(old, new), [])
    added = json.loads(diff_json(compare(old, new), [], "1.2.3"))["findings_added"]
    assert added == [
        {
            "package": "tiny",
            "rule": "solo-maintainer",
            "severity": "low",
            "title": "One account alone",
        }
    ]


def test_the_step_summary_gets_the_gate_appended(tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = gated(make_result())
    step_summary(result, "1.2.3")
    text = summary.read_text()
    assert text.startswith("earlier step\n## ") and "trustmap gate: FAIL" in text
    step_summary(make_result(), "1.2.3")  # a scan has no verdict: nothing appended
    assert summary.read_text() == text


def test_the_scan_comment_counts_as_the_terminal_does():
    """The kinds of check not made as the terminal names them, and no 'ownership unknown for
    0 packages' where every publisher is known."""
    from scanner.model import Facts
    from scanner.report.markdown import render_scan_markdown
    from scanner.summary import with_summary
    from tests.report.test_cyclonedx import make_result as with_unknown_ownership

    result = make_result()
    known = {name: Facts({"publishers": ["ann"], "organization": ""}) for name in result.packages}
    text = render_scan_markdown(with_summary(replace(result, facts=known)), "1.2.3")
    assert "ownership unknown" not in text
    assert "rule checks undetermined (facts unknown)" in text or "rule check undetermined" in text
    text = render_scan_markdown(with_unknown_ownership(), "1.2.3")
    assert "ownership unknown for 2 packages." in text
    assert "| check | packages | why |" in text and "| ownership | 2 of 5 |" in text


def test_a_source_not_asked_is_a_warning_outside_the_folded_notes():
    note = "unreachable: api.github.com could not be reached; not asked again: 5 facts unknown"
    result = replace(make_result(), notes=(note, "index: test"))
    text = render_markdown(gated(result), "1.2.3")
    warning = text.index("> [!WARNING]\n> - unreachable\\: api\\.github\\.com")
    assert warning < text.index("<summary>Notes (1)</summary>")
    assert text.count("api\\.github\\.com") == 1
