"""The terminal report (rich): the summary first, then the findings that matter, each with
its evidence and the path from a top-level package that pulls it in.

Every value that came from package metadata or the network goes through safe_text and
into rich Text objects, which never interpret markup."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from scanner.model import SEVERITIES, ScanResult
from scanner.report.summary import finding_path, sorted_findings, summarize
from scanner.report.text import safe_text

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def _value(value: Any) -> str:
    if isinstance(value, str) and value:
        return safe_text(value)
    return safe_text(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _evidence(evidence: dict[str, Any]) -> Text:
    return Text("; ".join(f"{k}={_value(v)}" for k, v in evidence.items()))


def render_terminal(
    result: ScanResult, console: Console, verbose: bool = False, version: str = ""
) -> None:
    summary = summarize(result)
    target = result.resolution.target
    header = Text()
    header.append(f"trustmap {version}", style="bold")
    header.append(f" · {safe_text(result.resolution.source)}")
    if target.python_version:
        header.append(
            f" · Python {target.python_version} ({target.markers.get('sys_platform', '?')})"
        )
    console.print(header)

    lines = Text()
    lines.append("Packages: ", style="bold")
    lines.append(
        f"{summary.packages} ({summary.top_level} top-level, {summary.edges} dependency edges)\n"
    )
    lines.append("Who can publish code here: ", style="bold")
    lines.append(f"{summary.publishing_accounts} accounts, {summary.organizations} organisations")
    if summary.ownership_unknown:
        lines.append(
            f"; ownership unknown for {summary.ownership_unknown} packages", style="yellow"
        )
    lines.append("\n")
    if summary.top_accounts:
        lines.append("Accounts that can publish the most packages: ", style="bold")
        lines.append(", ".join(f"{safe_text(a)} ({n})" for a, n in summary.top_accounts) + "\n")
    lines.append("Findings: ", style="bold")
    parts = []
    for severity, count in summary.findings_by_severity.items():
        parts.append(
            Text(f"{count} {severity}", style=SEVERITY_STYLE[severity] if count else "dim")
        )
    lines.append_text(Text(", ").join(parts))
    if summary.undetermined:
        lines.append(
            f"; {summary.undetermined} rule checks undetermined (facts unknown)", style="yellow"
        )
    console.print(lines)

    shown_severities = SEVERITIES if verbose else ("medium", "high", "critical")
    findings = [f for f in sorted_findings(result) if f.severity in shown_severities]
    if findings:
        console.print(Text("\nFindings", style="bold underline"))
        packages = result.packages
        for finding in findings:
            path = finding_path(result, finding.package)
            block = Text()
            block.append(f"{finding.severity.upper():<8} ", style=SEVERITY_STYLE[finding.severity])
            block.append(safe_text(packages[finding.package].label, 100), style="bold")
            block.append(f"  {finding.rule_id}: {finding.title}\n")
            block.append("         evidence: ", style="dim")
            block.append_text(_evidence(finding.evidence))
            block.append("\n         pulled in by: ", style="dim")
            block.append(
                " → ".join(safe_text(p, 60) for p in path) if len(path) > 1 else "(top-level)"
            )
            console.print(block)
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
                Text(item.rule_id),
                Text(safe_text("; ".join(item.reasons), 400)),
            )
        console.print(table)
    elif result.undetermined:
        packages_affected = len({u.package for u in result.undetermined})
        console.print(
            Text(
                f"{summary.undetermined} rule checks on {packages_affected} packages could not be "
                "decided: facts unknown (-v shows why).",
                style="yellow",
            )
        )

    if result.resolution.problems:
        console.print(Text("Problems in the environment", style="bold"))
        for problem in result.resolution.problems[: None if verbose else 20]:
            console.print(Text(f"  {problem.kind}: {safe_text(problem.message, 400)}"))
        if not verbose and len(result.resolution.problems) > 20:
            console.print(
                Text(f"  … {len(result.resolution.problems) - 20} more (-v)", style="dim")
            )

    if verbose:
        for package in result.resolution.packages:
            console.print(_facts_table(result, package.name))
    notes = [*target.notes, *result.notes]
    console.print(Text("Notes: " + "; ".join(safe_text(n, 300) for n in notes), style="dim"))


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
            table.add_row(Text(key), Text(_value(value)))
        for key, reason in facts.unknown.items():
            table.add_row(Text(key), Text(f"unknown: {safe_text(reason)}", style="yellow"))
    return Group(table)
