"""The terminal report (rich): the summary first, then the findings that matter, each with
its evidence and the path from a top-level package that pulls it in.

Every value that came from package metadata or the network goes through safe_text and
into rich Text objects, which never interpret markup."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from scanner.model import SEVERITIES, Ownership, ScanResult, Summary
from scanner.report.summary import finding_path, publisher_counts, sorted_findings, summary_of
from scanner.report.text import coded_meaning, safe_text
from scanner.wording import counted, some_of

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def value_text(value: Any, fact: str = "") -> str:
    if isinstance(value, str) and value:
        return safe_text(value)
    return safe_text(json.dumps(value, ensure_ascii=False, sort_keys=True)) + coded_meaning(
        fact, value
    )


def evidence_text(evidence: dict[str, Any]) -> Text:
    return Text("; ".join(f"{k}={value_text(v, k)}" for k, v in evidence.items()))


def render_terminal(
    result: ScanResult, console: Console, verbose: bool = False, version: str = ""
) -> None:
    summary = summary_of(result)
    target = result.resolution.target
    header = Text()
    header.append(f"trustmap {version}", style="bold")
    header.append(f" · {safe_text(result.resolution.source)}")
    if target.python_version:
        header.append(
            f" · Python {target.python_version} "
            f"({safe_text(target.markers.get('sys_platform', '?'), 40)})"
        )
    console.print(header)

    lines = Text()
    lines.append("Packages: ", style="bold")
    lines.append(
        f"{summary.packages} ({summary.top_level} top-level, {summary.edges} dependency edges)\n"
    )
    lines.append("Findings: ", style="bold")
    parts = []
    for severity, count in summary.findings_by_severity.items():
        parts.append(
            Text(f"{count} {severity}", style=SEVERITY_STYLE[severity] if count else "dim")
        )
    lines.append_text(Text(", ").join(parts))
    if summary.undetermined:
        lines.append(
            f"; {counted(summary.undetermined, 'rule check')} undetermined (facts unknown)",
            style="yellow",
        )
    console.print(lines)
    if summary.not_checked:
        # Said next to the counts, so that "0 critical" is never read as "checked, clean".
        console.print(Text("Not checked:", style="bold yellow"))
        for item in summary.not_checked:
            share = (
                f"all {item.of}" if item.packages == item.of else f"{item.packages} of {item.of}"
            )
            console.print(
                indented(
                    Text(
                        f"{item.kind} for {share} {'package' if item.of == 1 else 'packages'}: "
                        f"{safe_text(item.reason, 200)}",
                        style="yellow",
                    ),
                    2,
                )
            )
    _look_first(console, summary)
    _who_can_ship(console, summary, verbose)

    shown_severities = SEVERITIES if verbose else ("medium", "high", "critical")
    findings = [f for f in sorted_findings(result) if f.severity in shown_severities]
    if findings:
        _findings_by_package(console, result, findings)
    hidden = len(result.findings) - len(findings)
    if hidden:
        console.print(
            Text(
                f"{hidden} low/info findings not shown; -v lists them with every fact.", style="dim"
            )
        )

    if result.undetermined and verbose:
        table = Table(
            title="Undetermined (facts unknown, not a pass)", title_justify="left", expand=True
        )
        table.add_column("package", no_wrap=True)
        table.add_column("rule", no_wrap=True)
        table.add_column("why")
        for item in result.undetermined:
            table.add_row(
                Text(safe_text(item.package)),
                Text(safe_text(item.rule_id, 80)),
                Text(safe_text("; ".join(item.reasons), 400)),
            )
        console.print(table)
    elif result.undetermined:
        packages_affected = len({u.package for u in result.undetermined})
        by_fact = ", ".join(
            f"{safe_text(fact, 60)} {count}"
            for fact, count in list(summary.undetermined_by_fact.items())[:6]
        )
        more = len(summary.undetermined_by_fact) - 6
        console.print(
            Text(
                f"{counted(summary.undetermined, 'rule check')} on "
                f"{counted(packages_affected, 'package')} could not be decided for want of "
                f"{by_fact}{f', … {more} more facts' if more > 0 else ''} (-v shows why).",
                style="yellow",
            )
        )

    if result.resolution.problems:
        console.print(Text("Problems in the environment", style="bold"))
        for problem in result.resolution.problems[: None if verbose else 20]:
            console.print(
                indented(
                    Text(f"{safe_text(problem.kind, 60)}: {safe_text(problem.message, 400)}"), 2
                )
            )
        if not verbose and len(result.resolution.problems) > 20:
            console.print(
                Text(f"  … {len(result.resolution.problems) - 20} more (-v)", style="dim")
            )

    if verbose:
        console.print(_publishers_table(result, summary))
        for package in result.resolution.packages:
            console.print(_facts_table(result, package.name))
    # A note that "Not checked" already said (`provenance: REASON`) is not said twice.
    said = {f"{item.kind}: {item.reason}" for item in summary.not_checked}
    render_notes(console, [n for n in (*target.notes, *result.notes) if n not in said])


def render_notes(console: Console, notes: list[str]) -> None:
    """The scan's notes: warnings one line each, the rest run together, dimmed."""
    # Answers older than their time-to-live are facts that may no longer hold, and a
    # source that could not be asked leaves facts unknown: said plainly, not folded
    # into the dim notes.
    for note in (n for n in notes if n.startswith(WARNING_NOTES)):
        console.print(Text(safe_text(note, 600), style="yellow"))
    others = [n for n in notes if not n.startswith(WARNING_NOTES)]
    if others:
        console.print(Text("Notes: " + "; ".join(safe_text(n, 300) for n in others), style="dim"))


def _findings_by_package(console: Console, result: ScanResult, findings: list) -> None:
    """Each package once, in the order of its most severe finding (then its reach), with
    what pulls it in, then its findings: several rules on one package read as one story."""
    console.print(Text("\nFindings", style="bold underline"))
    grouped: dict[str, list] = {}
    for finding in findings:
        grouped.setdefault(finding.package, []).append(finding)
    packages = result.packages
    for name, group in grouped.items():
        console.print(Text(safe_text(packages[name].label, 100), style="bold"))
        path = path_text(finding_path(result, name), _is_top(result, name))
        console.print(indented(field("pulled in by", path), 2))
        for finding in group:
            head = Text(f"{finding.severity.upper():<8} ", style=SEVERITY_STYLE[finding.severity])
            head.append(safe_text(finding.rule_id, 80))
            console.print(
                indented(head, 2),
                indented(Text(safe_text(finding.title, 200)), FINDING_INDENT),
                indented(field("evidence", evidence_text(finding.evidence)), FINDING_INDENT),
            )
            if finding.covers:
                console.print(
                    indented(field("also", Text(", ".join(finding.covers))), FINDING_INDENT)
                )


def summary_line(result: ScanResult) -> Text:
    """The scan in one line (`scan -q`): what it holds, what it found, what it could not
    decide."""
    summary = summary_of(result)
    if summary.ownership_unknown and not summary.ownership_known:
        publishers = "publishing accounts unknown"
    else:
        # A count is a lower bound when some packages' ownership is unknown.
        bound = "" if summary.publishers_exact else "at least "
        publishers = (
            f"{bound}{counted(summary.publishing_accounts, 'publishing account')}, "
            f"{bound}{counted(summary.organizations, 'organisation')}"
        )
    line = Text(f"{counted(summary.packages, 'package')}, {publishers}; findings: ")
    counts = [(s, n) for s, n in summary.findings_by_severity.items() if n]
    if counts:
        line.append_text(
            Text(", ").join(Text(f"{n} {s}", style=SEVERITY_STYLE[s]) for s, n in counts)
        )
    else:
        line.append("none")
    if summary.undetermined:
        line.append(
            f"; {counted(summary.undetermined, 'rule check')} undetermined (facts unknown)",
            style="yellow",
        )
    return line


# Notes that are warnings: facts that may no longer hold, or a source not asked.
WARNING_NOTES = ("stale:", "unreachable:", "rate-limited:", "switched off:")


def _facts_table(result: ScanResult, name: str) -> Group:
    package = result.packages[name]
    facts = result.facts.get(name)
    table = Table(
        title=safe_text(package.label), title_justify="left", show_header=False, expand=True
    )
    table.add_column("fact", no_wrap=True)
    table.add_column("value")
    if package.summary:
        table.add_row(Text("summary"), Text(safe_text(package.summary)))
    if facts:
        for key, value in facts.values.items():
            table.add_row(Text(key), Text(value_text(value, key)))
        for key, reason in facts.unknown.items():
            table.add_row(Text(key), Text(f"unknown: {safe_text(reason)}", style="yellow"))
    return Group(table)


def path_text(path: list[str], top_level: bool = True) -> Text:
    """`a → b → c`; a path of one package is a top-level package, or one that no
    top-level package pulls in (possible when the input names its direct requirements)."""
    if len(path) <= 1:
        return Text("(top-level)" if top_level else "(no top-level package pulls it in)")
    return Text(" → ".join(safe_text(p, 60) for p in path))


def publishers_text(owner: Ownership | None) -> Text:
    if owner is None or owner.accounts is None:
        reason = f" ({safe_text(owner.reason, 120)})" if owner and owner.reason else ""
        return Text("unknown" + reason, style="yellow")
    text = Text(", ".join(safe_text(a, 60) for a in owner.accounts) or "none listed")
    if owner.organization:
        text.append(f" (organisation {safe_text(owner.organization, 60)})")
    return text


def _names(names: tuple[str, ...] | list[str], shown: int = 8) -> str:
    return some_of([safe_text(n, 60) for n in names], shown, ellipsis=True)


def _look_first(console: Console, summary: Summary) -> None:
    """The few packages whose compromise would reach the most, highest risk first."""
    if not summary.look_first:
        return
    console.print(Text("\nWhere to look first", style="bold underline"))
    for number, item in enumerate(summary.look_first, 1):
        risk = item.risk
        head = Text(f"{number}. ")
        head.append(safe_text(item.label, 100), style="bold")
        head.append(f"  risk {risk.score:g}")
        reach = Text(
            f"depended on by {counted(risk.dependents, 'package')}; "
            f"in the closure of {risk.top_level} of {summary.top_level} top-level packages",
        )
        why = Text(", ").join(
            Text(f"{severity} {safe_text(rule, 80)}", style=SEVERITY_STYLE[severity])
            for rule, severity in risk.findings
        )
        if risk.undetermined:
            why.append(("; " if risk.findings else "") + f"{risk.undetermined} undetermined")
        console.print(
            head,
            indented(why, 3),
            indented(field("reach", reach), 3),
            indented(field("publishers", publishers_text(item.ownership)), 3),
            indented(field("pulled in by", path_text(item.path, item.top_level)), 3),
        )


def _who_can_ship(console: Console, summary: Summary, verbose: bool) -> None:
    head = Text("\n")
    head.append("Who can publish code here: ", style="bold")
    head.append(publisher_counts(summary), style="" if summary.publishers_exact else "yellow")
    if summary.organization_names:
        head.append(f" ({_names(summary.organization_names, 5)})")
    # Each item its own block, so that a wrapped line stays indented under its item.
    items: list[RenderableType] = [head]
    if summary.first_party:
        items.append(
            indented(
                Text(
                    f"the project's own code (first-party): {_names(summary.first_party)}",
                    style="dim",
                ),
                2,
            )
        )
    if summary.ownership_unknown:
        items.append(
            indented(
                Text(
                    f"ownership unknown for {counted(summary.ownership_unknown, 'package')}: "
                    f"{_names(summary.ownership_unknown_packages)}",
                    style="yellow",
                ),
                2,
            )
        )
    if summary.concentrated_accounts:
        concentrated = ", ".join(
            f"{safe_text(a.account, 60)} ({len(a.packages)})" for a in summary.concentrated_accounts
        )
        items.append(
            indented(
                Text(
                    f"{counted(len(summary.concentrated_accounts), 'account')} can each publish "
                    f"{summary.concentration_threshold} or more of these packages; taking one "
                    f"over reaches them all: {concentrated}",
                    style="yellow",
                ),
                2,
            )
        )
    if summary.top_accounts:
        items.append(
            indented(Text("Accounts that can publish the most packages:", style="bold"), 2)
        )
        for share in summary.top_accounts:
            line = Text(f"{safe_text(share.account, 60)} ({len(share.packages)}): ")
            line.append(_names(share.packages), style="dim")
            items.append(indented(line, 4))
    if not verbose:
        items.append(indented(Text("-v lists every package's publishers.", style="dim"), 2))
    console.print(*items)


def _publishers_table(result: ScanResult, summary: Summary) -> Table:
    table = Table(title="Publishers by package", title_justify="left", expand=True)
    table.add_column("package", no_wrap=True)
    table.add_column("publishers")
    for package in result.resolution.packages:
        table.add_row(
            Text(safe_text(package.label, 60)),
            publishers_text(summary.owners.get(package.name)),
        )
    return table


INDENT = 9
FINDING_INDENT = 11  # a finding's lines, under its package


def indented(renderable: RenderableType, left: int = INDENT) -> Padding:
    """`renderable` indented by `left` columns, wrapped lines included."""
    return Padding(renderable, (0, 0, 0, left), expand=False)


def field(label: str, value: Text) -> Text:
    return Text(f"{label}: ", style="dim") + value


def _is_top(result: ScanResult, name: str) -> bool:
    return bool(result.graph.nodes[name].get("top_level")) if name in result.graph else False
