"""`trustmap allowlist review`: the packages the allowlist does not allow (or whose
approval re-opened), riskiest first, each with what the check says, who can publish it,
its repository and provenance, its findings with their evidence, the path that pulls it
in, and the command that approves it, so that a reviewer decides in minutes. Reads the
ScanResult and its Verdict (from scanner.policy.allowlist) only."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from scanner.model import ALLOWLIST_NAME, SEVERITIES, GateItem, ScanResult
from scanner.report.summary import finding_path, summary_of
from scanner.report.terminal import (
    INDENT,
    SEVERITY_STYLE,
    evidence_text,
    field,
    indented,
    path_text,
    publishers_text,
)
from scanner.report.text import safe_text, shown_path
from scanner.report.verdict import allowed_counts, headline_grid

PROVENANCE_FACTS = ("provenance_publisher", "provenance_repository", "provenance_workflow")


def candidates(result: ScanResult, standing: bool = False) -> list[tuple[str, list[GateItem]]]:
    """The packages needing a decision, riskiest first (graph-aware risk, then name);
    with `standing`, also those allowed by a baseline entry nobody has reviewed since
    `init`, or by an approval that expires soon."""
    verdict = result.verdict
    assert verdict is not None
    grouped: dict[str, list[GateItem]] = {}
    for item in (*verdict.failed, *verdict.unknown, *(verdict.existing if standing else ())):
        grouped.setdefault(item.package, []).append(item)
    risks = summary_of(result).risks

    def score(name: str) -> float:
        risk = risks.get(name)
        return risk.score if risk is not None else 0.0

    return sorted(grouped.items(), key=lambda pair: (-score(pair[0]), pair[0]))


def _provenance(values: dict[str, Any]) -> str:
    attested = values.get("has_provenance")
    if attested is None:
        return "unknown"
    if not attested:
        return "none (not attested)"
    return " ".join(str(values.get(k) or "?") for k in PROVENANCE_FACTS)


def _repository(values: dict[str, Any]) -> str:
    repository = values.get("source_repository")
    if repository is None:
        return "unknown"
    return safe_text(repository, 200) if repository else "none linked"


def approve_command(result: ScanResult, name: str) -> str:
    """The command that approves `name`, into the allowlist that was checked (named when
    it is not ./trustmap-allowlist.toml, lest the approval land in another file)."""
    package = result.packages.get(name)
    version = f" --version =={package.version}" if package is not None and package.version else ""
    where = ""
    source = result.verdict.source if result.verdict is not None else ""
    if source and Path(source) != Path.cwd() / ALLOWLIST_NAME:
        where = f" --allowlist {shlex.quote(shown_path(source))}"
    return f"trustmap allowlist approve {shlex.quote(name)}{version}{where} --reason '...'"


def render_review(
    result: ScanResult, console: Console, verbose: bool = False, standing: bool = False
) -> None:
    verdict = result.verdict
    assert verdict is not None
    summary = summary_of(result)
    found = candidates(result, standing)
    head = Text(f"trustmap allowlist review · {safe_text(result.resolution.source, 300)}")
    head.stylize("bold")
    console.print(head)
    # A review is a work list, not a verdict: it exits 0, so its headline says what is
    # left to review rather than FAIL (`allowlist check` is the verdict).
    console.print(headline_grid(verdict, console.width, review=True))
    if not found:
        console.print(Text("Nothing to review: every package is allowed."))
        if verdict.existing and not standing:
            console.print(Text(f"{len(verdict.existing)} allowed ones are worth a look: "
                               "review --standing lists them.", style="dim"))  # fmt: skip
    shown = found if verbose else found[:30]
    for rank, (name, items) in enumerate(shown, start=1):
        package = result.packages.get(name)
        label = package.label if package is not None else name
        risk = summary.risks.get(name)
        title = Text(f"\n{rank}. ")
        title.append(safe_text(label, 100), style="bold")
        if risk is not None:
            title.append(f"  risk {risk.score:.1f}", style="dim")
        console.print(title)
        for item in items:
            line = Text("   ")
            line.append(safe_text(item.rule_id, 60), style="bold red")
            line.append(f": {safe_text(item.message, 400)}")
            console.print(indented(line, 0))
        values = dict(result.facts[name].values) if name in result.facts else {}
        console.print(indented(field("publishers", publishers_text(summary.owners.get(name)))))
        console.print(indented(field("repository", Text(_repository(values)))))
        console.print(indented(field("provenance", Text(safe_text(_provenance(values), 200)))))
        console.print(indented(field("path", path_text(finding_path(result, name)))))
        # Most severe first; each finding's wrapped lines stay right of its severity.
        findings = sorted(
            (f for f in result.findings if f.package == name),
            key=lambda f: (-SEVERITIES.index(f.severity), f.rule_id),
        )
        for finding in findings:
            body = Text(safe_text(finding.rule_id, 60))
            body.append(f"  {safe_text(finding.title, 200)}")
            if finding.evidence:
                body.append("\n")
                body.append_text(evidence_text(dict(finding.evidence)))
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True, width=8)
            grid.add_column()
            grid.add_row(
                Text(finding.severity.upper(), style=SEVERITY_STYLE[finding.severity]), body
            )
            console.print(indented(grid))
        # Never wrapped by a newline of ours: the command is copied from the terminal.
        approve = Text(" " * INDENT) + field("approve", Text(approve_command(result, name)))
        console.print(approve, soft_wrap=True)
    if len(found) > len(shown):
        console.print(Text(f"\n… and {len(found) - len(shown)} more (-v)", style="dim"))
    console.print(Text(f"\n{allowed_counts(verdict)}.", style="dim"))
    for note in verdict.notes:
        console.print(Text(f"note: {safe_text(note, 400)}", style="yellow"))


def review_json(result: ScanResult, version: str, standing: bool = False) -> str:
    verdict = result.verdict
    assert verdict is not None
    summary = summary_of(result)
    rows = []
    for name, items in candidates(result, standing):
        package = result.packages.get(name)
        values = dict(result.facts[name].values) if name in result.facts else {}
        owner = summary.owners.get(name)
        risk = summary.risks.get(name)
        rows.append(
            {
                "package": name,
                "version": package.version if package is not None else None,
                "risk": risk.score if risk is not None else None,
                "checks": [{"check": i.rule_id, "message": i.message} for i in items],
                "publishers": owner.as_dict() if owner is not None else None,
                "repository": values.get("source_repository"),
                "provenance": _provenance(values),
                "path": finding_path(result, name),
                "findings": [
                    {
                        "rule": f.rule_id,
                        "severity": f.severity,
                        "title": f.title,
                        "evidence": dict(f.evidence),
                    }
                    for f in result.findings
                    if f.package == name
                ],
                "approve": approve_command(result, name),
            }
        )
    document = {
        "tool": {"name": "trustmap", "version": version},
        "outcome": verdict.outcome,
        "allowlist": verdict.source,
        "candidates": rows,
        "allowed": dict(verdict.allowed),
        "notes": list(verdict.notes),
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
