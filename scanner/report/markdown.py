"""Markdown (`--format markdown`, `trustmap diff -f markdown`) for a pull-request comment
or a GitHub job summary: the outcome first, then what fails, what is unknown and why,
what is excepted and what merely exists, long lists folded into `<details>`.

GitHub refuses a comment over 65,536 characters, so the document is built against a
budget: when the next row would pass it, the rest of that list becomes one line saying
how many were left out and where to read them all. Every value from package metadata goes
through `markdown_text` (literal text: no links, mentions, HTML or table breaks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scanner.model import SEVERITIES, GateItem, ScanResult
from scanner.report.diff import publisher_change_text
from scanner.report.summary import publisher_counts, sorted_findings, summary_of
from scanner.report.terminal import WARNING_NOTES
from scanner.report.text import markdown_text, shown_path
from scanner.report.verdict import allowed_counts, brought_in_at, item_location
from scanner.wording import counted

LIMIT = 65_536  # GitHub's largest comment
# Room kept for the closing lines (what was left out, the footer) after the budget runs out.
RESERVE = 2_000
OPEN_ROWS = 10  # a list longer than this is folded into <details>
OUTCOME_MARK = {"pass": "✅", "fail": "❌", "incomplete": "⚠️"}


class _Document:
    """Markdown under a size budget (counted in characters, as GitHub counts them)."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.budget = limit - RESERVE
        self.left_out = 0

    def add(self, text: str) -> None:
        """Text that must be there whatever the budget (headings, the closing lines)."""
        self.parts.append(text)
        self.size += len(text)

    def fits(self, text: str) -> bool:
        return self.size + len(text) <= self.budget

    def table(
        self,
        title: str,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        more: str,
        folded: bool | None = None,
    ) -> None:
        """A titled table; folded into <details> when long (or when `folded`)."""
        if not rows:
            return
        fold = len(rows) > OPEN_ROWS if folded is None else folded
        heading = f"{title} ({len(rows)})"
        if fold:
            self.add(f"\n<details><summary>{heading}</summary>\n\n")
        else:
            self.add(f"\n### {heading}\n\n")
        self.add("| " + " | ".join(header) + " |\n")
        self.add("|" + "---|" * len(header) + "\n")
        for shown, row in enumerate(rows):
            line = "| " + " | ".join(row) + " |\n"
            if not self.fits(line):
                rest = len(rows) - shown
                self.left_out += rest
                self.add(f"\n… and {rest} more: {more}\n")
                break
            self.add(line)
        if fold:
            self.add("\n</details>\n")

    def text(self) -> str:
        return "".join(self.parts)


def _code(value: object, limit: int = 200) -> str:
    """A location as inline code: literal inside backticks, with no backtick to escape it."""
    text = str(value).replace("`", "'").replace("|", "/").replace("\n", " ")[:limit]
    return f"`{text}`" if text else ""


def _item_rows(result: ScanResult, items: Sequence[GateItem], why: bool) -> list[list[str]]:
    rows = []
    for item in items:
        package = result.packages.get(item.package)
        label = package.label if package is not None else item.package
        row = [
            item.severity,
            markdown_text(label, 120),
            markdown_text(item.rule_id, 80),
            markdown_text(item.message, 300),
        ]
        if why:
            row.append(markdown_text(item.exception or item.why_new, 200))
        row.append(_code(item_location(result, item)))
        rows.append(row)
    return rows


def _footer(result: ScanResult, version: str, what: str) -> str:
    source = markdown_text(result.resolution.source, 200)
    return (
        f"\n<sub>trustmap {markdown_text(version, 40)} {what} · {source} · "
        f"{len(result.resolution.packages)} packages</sub>\n"
    )


def _notes(document: _Document, notes: Sequence[str]) -> None:
    # A service not asked or an answer past its time-to-live is said unfolded, as the
    # terminal says it in yellow: facts are unknown or may no longer hold because of it.
    warnings = [f"> - {markdown_text(n, 400)}\n" for n in notes if n.startswith(WARNING_NOTES)]
    if warnings and document.fits("\n> [!WARNING]\n" + "".join(warnings)):
        document.add("\n> [!WARNING]\n" + "".join(warnings))
    notes = [n for n in notes if not n.startswith(WARNING_NOTES)]
    if not notes:
        return
    document.add(f"\n<details><summary>Notes ({len(notes)})</summary>\n\n")
    for shown, note in enumerate(notes):
        line = f"- {markdown_text(note, 400)}\n"
        if not document.fits(line):
            document.left_out += len(notes) - shown
            document.add(f"- … and {len(notes) - shown} more\n")
            break
        document.add(line)
    document.add("\n</details>\n")


def render_gate_markdown(result: ScanResult, version: str, limit: int = LIMIT) -> str:
    verdict = result.verdict
    assert verdict is not None
    document = _Document(limit)
    against = (
        f"against {markdown_text(verdict.baseline, 200)}"
        if verdict.baseline
        else "no baseline: all is new"
    )
    document.add(
        f"## {OUTCOME_MARK[verdict.outcome]} trustmap gate: {verdict.outcome.upper()}\n\n"
        f"**{len(verdict.failed)} failing**, {len(verdict.unknown)} unknown, "
        f"{len(verdict.excepted)} excepted, {len(verdict.existing)} existing; {against}; "
        f"fail-on {verdict.fail_on or 'never'}\n"
    )
    if verdict.policy_changes:
        # First, before any list: the change edits the policy that judges it.
        document.add("\n> [!WARNING]\n> **This change edits the gate's own policy:**\n")
        for change in verdict.policy_changes:
            document.add(f"> - {markdown_text(change, 400)}\n")
    full = "run `trustmap gate -f json` for the whole list"
    header = ("severity", "package", "rule", "what", "why new", "brought in at")
    document.table(
        "Failing: new, at or above fail-on",
        header,
        _item_rows(result, verdict.failed, True),
        full,
        folded=False if len(verdict.failed) <= 50 else None,
    )
    document.table(
        "Unknown: a check that could fail could not be decided",
        header,
        _item_rows(result, verdict.unknown, True),
        full,
    )
    document.table(
        "Excepted by the policy",
        ("severity", "package", "rule", "what", "exception", "brought in at"),
        _item_rows(result, verdict.excepted, True),
        full,
    )
    document.table(
        "Existing: in the baseline too, not judged",
        ("severity", "package", "rule", "what", "brought in at"),
        _item_rows(result, verdict.existing, False),
        full,
        folded=True,
    )
    if not (verdict.failed or verdict.unknown or verdict.excepted):
        document.add("\nNothing new at or above the threshold.\n")
    _notes(document, [*verdict.notes, *result.resolution.target.notes, *result.notes])
    document.add(_footer(result, version, "gate"))
    return document.text()


def render_allowlist_markdown(result: ScanResult, version: str, limit: int = LIMIT) -> str:
    """`allowlist check -f markdown`: what is not allowed and why, what is unknown, and
    how many packages are allowed by what."""
    verdict = result.verdict
    assert verdict is not None
    document = _Document(limit)
    document.add(
        f"## {OUTCOME_MARK[verdict.outcome]} trustmap allowlist check: "
        f"{verdict.outcome.upper()}\n\n"
        f"**{len(verdict.failed)} not allowed**, {len(verdict.unknown)} unknown, "
        f"{markdown_text(allowed_counts(verdict), 300)}; allowlist "
        f"{_code(shown_path(verdict.source))}\n"
    )
    full = "run `trustmap allowlist check -f json` for the whole list"
    header = ("severity", "package", "check", "what", "brought in at")
    rows = _item_rows(result, verdict.failed, False)
    document.table("Not allowed", header, rows, full, folded=False if len(rows) <= 50 else None)
    document.table(
        "Unknown: a fact the decision needs is unknown",
        header,
        _item_rows(result, verdict.unknown, False),
        full,
    )
    document.table(
        "Allowed, worth a look: not reviewed since init, or expiring",
        header,
        _item_rows(result, verdict.existing, False),
        full,
        folded=True,
    )
    if not (verdict.failed or verdict.unknown):
        document.add("\nEvery package is allowed.\n")
    document.add(
        "\n`trustmap allowlist review` lists each candidate with its evidence and publishers.\n"
    )
    _notes(document, [*verdict.notes, *result.resolution.target.notes, *result.notes])
    document.add(_footer(result, version, "allowlist check"))
    return document.text()


def render_scan_markdown(result: ScanResult, version: str, limit: int = LIMIT) -> str:
    summary = summary_of(result)
    document = _Document(limit)
    counts = ", ".join(
        f"{summary.findings_by_severity.get(s, 0)} {s}"
        for s in reversed(SEVERITIES)
        if summary.findings_by_severity.get(s, 0)
    )
    unknown = (
        f"; ownership unknown for {counted(summary.ownership_unknown, 'package')}"
        if summary.ownership_unknown
        else ""
    )
    document.add(
        f"## trustmap scan: {summary.packages} packages; who can publish: "
        f"{publisher_counts(summary)}\n\n"
        f"Findings: {counts or 'none'}; "
        f"{counted(summary.undetermined, 'rule check')} undetermined (facts unknown){unknown}.\n"
    )
    rows = []
    for finding in sorted_findings(result):
        package = result.packages.get(finding.package)
        label = package.label if package is not None else finding.package
        rows.append(
            [
                finding.severity,
                markdown_text(label, 120),
                markdown_text(finding.rule_id, 80),
                markdown_text(finding.title, 300),
                _code(brought_in_at(result, finding.package)),
            ]
        )
    document.table(
        "Findings",
        ("severity", "package", "rule", "what", "brought in at"),
        rows,
        "run `trustmap scan -f json` for the whole list",
        folded=False if len(rows) <= 50 else None,
    )
    not_checked = [
        [
            markdown_text(n.kind, 80),
            f"{n.packages} of {n.of}",
            markdown_text(n.reason, 300),
        ]
        for n in summary.not_checked
    ]
    document.table(
        "Not checked", ("check", "packages", "why"), not_checked, "see `trustmap scan -v`"
    )
    _notes(document, [*result.resolution.target.notes, *result.notes])
    document.add(_footer(result, version, "scan"))
    return document.text()


def render_markdown(result: ScanResult, version: str) -> str:
    if result.verdict is not None and result.verdict.policy == "allowlist":
        return render_allowlist_markdown(result, version)
    if result.verdict is not None:
        return render_gate_markdown(result, version)
    return render_scan_markdown(result, version)


def _entries(items: Any) -> list[str]:
    return [markdown_text(item, 300) for item in items]


def render_diff_markdown(changes: Any, notes: Sequence[str], version: str) -> str:
    """`trustmap diff -f markdown`: `changes` is a scanner.policy.snapshot.Diff, read by
    its documented fields (report/ imports the model only)."""
    document = _Document()
    document.add(
        f"## trustmap diff: {markdown_text(changes.old, 200)} → {markdown_text(changes.new, 200)}\n"
    )
    if changes.empty:
        document.add("\nNo change.\n")
    more = "run `trustmap diff -f json` for the whole list"
    publishers = [
        [markdown_text(account, 120), ", ".join(_entries(packages))]
        for account, packages in changes.new_publishers.items()
    ]
    # Who can now ship code here leads: it is what a reviewer must see first.
    document.table("Can now publish into the closure", ("account", "packages"), publishers, more)
    gone = [
        [markdown_text(account, 120), ", ".join(_entries(packages))]
        for account, packages in changes.gone_publishers.items()
    ]
    document.table("Can no longer publish into it", ("account", "packages"), gone, more)
    document.table(
        "Added",
        ("package", "version"),
        [
            [markdown_text(n, 120), markdown_text(v or "(unpinned)", 80)]
            for n, v in changes.added.items()
        ],
        more,
    )
    document.table(
        "Removed",
        ("package", "version"),
        [
            [markdown_text(n, 120), markdown_text(v or "(unpinned)", 80)]
            for n, v in changes.removed.items()
        ],
        more,
    )
    document.table(
        "Changed",
        ("package", "old", "new"),
        [
            [
                markdown_text(n, 120),
                markdown_text(a or "(unpinned)", 80),
                markdown_text(b or "(unpinned)", 80),
            ]
            for n, (a, b) in changes.changed.items()
        ],
        more,
    )

    def finding_rows(keys) -> list[list[str]]:
        return [
            [
                markdown_text(changes.severities.get((p, r), ""), 20),
                markdown_text(p, 120),
                markdown_text(r, 80),
                markdown_text(changes.titles.get((p, r), ""), 300),
            ]
            for p, r in keys
        ]

    header = ("severity", "package", "rule", "what")
    document.table("Findings added", header, finding_rows(changes.findings_added), more)
    document.table("Findings resolved", header, finding_rows(changes.findings_resolved), more)
    ownership = [
        [markdown_text(c.package, 120), markdown_text(publisher_change_text(c), 300)]
        for c in changes.ownership_changes
    ]
    document.table("Ownership changes", ("package", "change"), ownership, more)
    if changes.publishers_unknown:
        document.add(
            f"\nWho can publish {len(changes.publishers_unknown)} packages of the new side "
            "is unknown: they are not compared.\n"
        )
    _notes(document, list(notes))
    document.add(f"\n<sub>trustmap {markdown_text(version, 40)} diff</sub>\n")
    return document.text()
