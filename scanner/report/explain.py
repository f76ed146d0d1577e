"""`trustmap explain NAME`, drawn: everything the scan knows about one package, why each
finding fired, who can publish it, and every path from a top-level package that pulls it
in (the Explanation that scanner.explain builds), as text on a console or as JSON."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from scanner.model import Explanation, Facts, ScanResult
from scanner.report.json_report import FORMAT_VERSION, by_package, dump, package_entry
from scanner.report.terminal import (
    SEVERITY_STYLE,
    evidence_text,
    field,
    indented,
    path_text,
    publishers_text,
    value_text,
)
from scanner.report.text import safe_text
from scanner.wording import counted, some_of

SHOWN_NAMES = 12


def render_explain_json(result: ScanResult, explanation: Explanation, tool_version: str) -> str:
    package = explanation.package
    entry = package_entry(result, package, by_package(result))
    entry["dependents"] = {
        "count": len(explanation.dependents),
        "names": explanation.dependents,
        "direct": explanation.required_by,
    }
    entry["requires"] = explanation.requires
    entry["paths"] = {
        "total": explanation.paths.total,
        "exact": explanation.paths.exact,
        "shown": explanation.paths.paths,
    }
    return dump(
        {
            "format_version": FORMAT_VERSION,
            "tool": {"name": "trustmap", "version": tool_version},
            "target": {"source": result.resolution.source},
            "package": entry,
        }
    )


def render_explain_terminal(result: ScanResult, explanation: Explanation, console: Console) -> None:
    package = explanation.package
    name = package.name
    summary = explanation.summary
    facts = result.facts.get(name) or Facts()
    risk = summary.risks.get(name)

    head = Text(safe_text(package.label, 100), style="bold")
    if risk is not None:
        head.append(
            f"  risk {risk.score:g} "
            f"(findings {risk.findings_score:g} × reach {risk.reach_factor:g})"
        )
    console.print(head)
    if package.summary:
        console.print(indented(Text(safe_text(package.summary, 200)), 2))
    top = bool(result.graph.nodes[name].get("top_level"))
    console.print(
        indented(field("top-level", Text("yes" if top else "no")), 2),
        indented(field("publishers", publishers_text(summary.owners.get(name))), 2),
        indented(
            field(
                "depended on by",
                Text(
                    f"{counted(len(explanation.dependents), 'package')}"
                    + (f": {_names(explanation.dependents)}" if explanation.dependents else "")
                ),
            ),
            2,
        ),
        indented(field("required directly by", Text(_names(explanation.required_by) or "-")), 2),
        indented(field("requires", Text(_names(explanation.requires) or "-")), 2),
    )
    if risk is not None:
        console.print(
            indented(
                field(
                    "reach",
                    Text(
                        f"in the closure of {risk.top_level} of {summary.top_level} "
                        "top-level packages"
                    ),
                ),
                2,
            )
        )

    grouped = by_package(result).get(name, ([], []))
    findings, undetermined = grouped
    console.print(Text(f"\nFindings ({len(findings)})", style="bold underline"))
    if not findings:
        console.print(indented(Text("none", style="dim"), 2))
    for finding in findings:
        # The title's wrapped lines stay under it, as the evidence does, not at column 0.
        line = Table.grid(padding=(0, 1))
        line.add_column(no_wrap=True, width=8)
        line.add_column()
        title = Text(safe_text(finding.rule_id, 80), style="bold")
        title.append(f": {safe_text(finding.title, 200)}")
        severity = Text(finding.severity.upper(), style=SEVERITY_STYLE[finding.severity])
        line.add_row(severity, title)
        console.print(
            indented(line, 2), indented(field("evidence", evidence_text(finding.evidence)), 11)
        )
    if undetermined:
        console.print(
            Text(f"\nUndetermined ({len(undetermined)}): facts unknown, not a pass", style="bold")
        )
        for item in undetermined:
            line = Text(safe_text(item.rule_id, 80), style="yellow")
            line.append(f" ({item.severity}): ")
            line.append(safe_text("; ".join(item.reasons), 400))
            console.print(indented(line, 2))

    paths = explanation.paths
    total = f"{paths.total}" if paths.exact else f"at least {paths.total}"
    console.print(
        Text(f"\nPaths from top-level packages ({total})", style="bold underline"),
    )
    if not paths.paths:
        console.print(indented(Text("none: no top-level package pulls it in", style="dim"), 2))
    for path in paths.paths:
        console.print(indented(path_text(path), 2))
    rest = paths.total - len(paths.paths)
    if rest > 0:
        more = f"{rest}" if paths.exact else f"at least {rest}"
        console.print(indented(Text(f"… and {more} more (--paths N shows more)", style="dim"), 2))

    table = Table(title="Facts", title_justify="left", show_header=False, expand=False)
    table.add_column("fact", no_wrap=True)
    table.add_column("value")
    for key, value in sorted(facts.values.items()):
        table.add_row(Text(safe_text(key, 60)), Text(value_text(value, key)))
    for key, reason in sorted(facts.unknown.items()):
        table.add_row(
            Text(safe_text(key, 60)), Text(f"unknown: {safe_text(reason)}", style="yellow")
        )
    console.print(Text(""), table)


def _names(names: list[str]) -> str:
    return some_of([safe_text(n, 60) for n in names], SHOWN_NAMES, ellipsis=True)
