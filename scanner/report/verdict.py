"""The gate's verdict as people and scripts read it: the terminal view (outcome first,
then what failed, what is unknown and why, what is excepted, what merely exists) and
the `verdict` object of the JSON report. Reads the model only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scanner.model import GateItem, Location, ScanResult, Verdict
from scanner.report.summary import finding_path
from scanner.report.text import safe_text, shown_path

# rich is imported where the terminal view is drawn: the JSON, SARIF and Markdown
# outputs read this module for the verdict's words and never draw.
if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

OUTCOME_STYLE = {"pass": "bold green", "fail": "bold red", "incomplete": "bold yellow"}
SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
SHOWN = 50  # items per section on a terminal before "... and N more" (-v shows all)


def bringing_in(result: ScanResult, package: str) -> tuple[Location | None, tuple[str, ...]]:
    """Where the scanned project brings `package` in, and through which packages: the
    manifest line that requires it, else its lockfile entry, else the line of the
    top-level package whose closure holds it (with the path from that package)."""
    packages = result.packages
    found = packages.get(package)
    if found is not None and found.declared_at:
        return found.declared_at[0], ()
    if found is not None and found.origin is not None and found.origin.line is not None:
        return found.origin, ()
    path = finding_path(result, package)
    top = packages.get(path[0]) if path else None
    if top is not None and top.declared_at:
        return top.declared_at[0], tuple(path)
    return None, ()


def brought_in_at(result: ScanResult, package: str) -> str:
    """`bringing_in` as people read it: `requirements.txt:3 (via a > b)`."""
    location, via = bringing_in(result, package)
    if location is None:
        return ""
    return f"{location} (via {' > '.join(via)})" if via else str(location)


def allowed_counts(verdict: Verdict) -> str:
    """`140 allowed (120 by entry, 20 by organisation)`."""
    by: dict[str, int] = {}
    for what in verdict.allowed.values():
        kind = what.split(" ", 1)[0]
        by[kind] = by.get(kind, 0) + 1
    detail = ", ".join(f"{count} by {kind}" for kind, count in sorted(by.items()))
    return f"{len(verdict.allowed)} allowed" + (f" ({detail})" if detail else "")


def item_location(result: ScanResult, item: GateItem) -> str:
    """Where an item is brought in; for an allowlist item in an environment, which names
    no manifest line, the path from the top-level package that pulls it in."""
    where = brought_in_at(result, item.package)
    if where or item.kind != "allowlist":
        return where
    path = finding_path(result, item.package)
    return f"via {' > '.join(path)}" if len(path) > 1 else ""


def headline_parts(verdict: Verdict, review: bool = False) -> tuple[str, str, str]:
    """The outcome, its counts, and what it was judged against: `FAIL`, `2 failing, 0
    unknown, 0 excepted, 1 existing`, `against git:HEAD~1; fail-on high`. For an
    allowlist `review`, the outcome is `TO REVIEW` or `ALL ALLOWED`."""
    if verdict.policy == "allowlist":
        counts = (
            f"{len(verdict.failed)} not allowed, {len(verdict.unknown)} unknown, "
            f"{allowed_counts(verdict)};"
        )
        outcome = verdict.outcome.upper()
        if review:
            outcome = "ALL ALLOWED" if verdict.outcome == "pass" else "TO REVIEW"
        return outcome, counts, f"allowlist {shown_path(verdict.source)}"
    counts = (
        f"{len(verdict.failed)} failing, {len(verdict.unknown)} unknown, "
        f"{len(verdict.excepted)} excepted, {len(verdict.existing)} existing"
    )
    against = f"against {verdict.baseline}" if verdict.baseline else "(no baseline: all is new)"
    threshold = f"fail-on {verdict.fail_on}" if verdict.fail_on else "fail-on never"
    return verdict.outcome.upper(), counts, f"{against}; {threshold}"


def headline_grid(verdict: Verdict, width: int, review: bool = False) -> Table:
    """The outcome, then what it counts; when that does not fit `width`, what it was judged
    against goes whole on a line of its own under the counts (rather than `fail-on` at the
    end of one line and `high` alone on the next)."""
    from rich.table import Table
    from rich.text import Text

    parts = headline_parts(verdict, review)
    outcome, counts, context = (safe_text(part, 300) for part in parts)
    one_line = f"{counts} {context}"
    text = one_line if len(outcome) + 2 + len(one_line) <= width else f"{counts}\n{context}"
    line = Table.grid(padding=(0, 1))
    line.add_column(no_wrap=True)
    line.add_column()
    style = OUTCOME_STYLE[verdict.outcome]
    line.add_row(Text(f"{outcome}:", style=style), Text(text, style=style))
    return line


def _item_lines(result: ScanResult, item: GateItem) -> list[RenderableType]:
    """One item: its severity, package and rule, then what, why new, where and any
    exception, indented so that wrapped lines stay under their item."""
    from rich.padding import Padding
    from rich.text import Text

    package = result.packages.get(item.package)
    label = package.label if package is not None else item.package
    head = Text("  ")
    head.append(f"{item.severity.upper():<8} ", style=SEVERITY_STYLE.get(item.severity, ""))
    head.append(safe_text(label, 100), style="bold")
    head.append(f"  {safe_text(item.rule_id, 80)}")
    body = Text(safe_text(item.message, 400))
    if item.why_new:
        body.append(f"\nnew: {safe_text(item.why_new, 200)}", style="dim")
    where = item_location(result, item)
    if where:
        body.append(f"\nat: {safe_text(where, 300)}", style="dim")
    if item.exception:
        body.append(f"\nexcepted: {safe_text(item.exception, 300)}", style="dim")
    return [head, Padding(body, (0, 0, 0, 6))]


def _existing_line(result: ScanResult, item: GateItem) -> Text:
    """`HIGH     dapy==1.16.1  solo-and-little-used`; an undetermined check says so, lest
    `requests  critical-vulnerability` read as a vulnerability found."""
    from rich.text import Text

    package = result.packages.get(item.package)
    label = package.label if package is not None else item.package
    line = Text(f"  {item.severity.upper():<8} {safe_text(label, 100)}  "
                f"{safe_text(item.rule_id, 80)}", style="dim")  # fmt: skip
    if item.kind == "undetermined":
        line.append(" (undetermined: facts unknown)")
    return line


def render_verdict(result: ScanResult, console: Console, verbose: bool = False) -> None:
    from rich.text import Text

    verdict = result.verdict
    if verdict is None:
        return
    console.print(headline_grid(verdict, console.width))
    if verdict.policy_changes:
        # Said before anything else: the change edits the policy that judges it.
        console.print(Text("This change edits the gate's own policy:", style="bold yellow"))
        for change in verdict.policy_changes:
            console.print(Text(f"  {safe_text(change, 300)}", style="yellow"))
    sections = (
        ("Failing (new, at or above fail-on)", verdict.failed),
        ("Unknown (a check that could fail could not be decided)", verdict.unknown),
        ("Excepted (by the policy's exceptions)", verdict.excepted),
    )
    if verdict.policy == "allowlist":
        sections = (
            ("Not allowed", verdict.failed),
            ("Unknown (a fact the decision needs is unknown)", verdict.unknown),
        )
    for title, items in sections:
        if not items:
            continue
        console.print(Text(f"\n{title}: {len(items)}", style="bold underline"))
        shown = items if verbose else items[:SHOWN]
        for item in shown:
            for line in _item_lines(result, item):
                console.print(line)
        if len(items) > len(shown):
            console.print(Text(f"  … and {len(items) - len(shown)} more (-v)", style="dim"))
    if verdict.existing and verdict.policy == "allowlist" and not verbose:
        # Allowed, so one line: a large baseline would bury what fails.
        console.print(Text(f"\nAllowed, worth a look: {len(verdict.existing)} (not reviewed "
                           "since init, or expiring; `allowlist review --standing`, or -v)",
                           style="bold"))  # fmt: skip
    elif verdict.existing:
        title = "Existing (in the baseline too, not judged)"
        if verdict.policy == "allowlist":
            title = "Allowed, worth a look (not reviewed since init, or expiring)"
        console.print(Text(f"\n{title}: {len(verdict.existing)}", style="bold"))
        shown = verdict.existing if verbose else verdict.existing[:10]
        for item in shown:
            console.print(_existing_line(result, item))
        if len(verdict.existing) > len(shown):
            console.print(
                Text(f"  … and {len(verdict.existing) - len(shown)} more (-v)", style="dim")
            )
    for note in verdict.notes:
        console.print(Text(f"note: {safe_text(note, 400)}", style="yellow"))


def render_gate(
    result: ScanResult, console: Console, verbose: bool, version: str, notes: bool = True
) -> None:
    """The gate's terminal report: what was gated, the verdict, and (unless `notes` is
    false: the whole scan above said them) the scan's notes (the index used, what is
    stale, what was not checked)."""
    from rich.text import Text

    from scanner.report.terminal import render_notes

    header = Text()
    command = (
        "allowlist check" if result.verdict and result.verdict.policy == "allowlist" else "gate"
    )
    header.append(f"trustmap {command} {version}", style="bold")
    header.append(f" · {safe_text(result.resolution.source, 300)}")
    header.append(f" · {len(result.resolution.packages)} packages")
    console.print(header)
    render_verdict(result, console, verbose)
    if notes:
        render_notes(console, [*result.resolution.target.notes, *result.notes])


def _item_dict(result: ScanResult, item: GateItem) -> dict[str, Any]:
    package = result.packages.get(item.package)
    return {
        "kind": item.kind,
        "package": item.package,
        "version": package.version if package is not None else None,
        "rule": item.rule_id,
        "severity": item.severity,
        "message": item.message,
        "why_new": item.why_new or None,
        "exception": item.exception or None,
        "at": item_location(result, item) or None,
    }


def verdict_dict(result: ScanResult) -> dict[str, Any] | None:
    verdict = result.verdict
    if verdict is None:
        return None
    return {
        "policy": verdict.policy,
        "outcome": verdict.outcome,
        "exit_code": verdict.exit_code,
        "fail_on": verdict.fail_on,
        "baseline": verdict.baseline,
        "failed": [_item_dict(result, i) for i in verdict.failed],
        "unknown": [_item_dict(result, i) for i in verdict.unknown],
        "excepted": [_item_dict(result, i) for i in verdict.excepted],
        "existing": [_item_dict(result, i) for i in verdict.existing],
        "policy_changes": list(verdict.policy_changes),
        "notes": list(verdict.notes),
        "reasons": list(verdict.reasons),
        # Every finding and check that is new, at any severity (SARIF's baselineState):
        # kept so that `trustmap report` renders the saved verdict as the gate did.
        "new": [
            {"package": package, "rule": rule_id, "why": why}
            for (package, rule_id), why in sorted(verdict.new.items())
        ],
        **({"allowlist": verdict.source, "allowed": dict(verdict.allowed)}
           if verdict.policy == "allowlist" else {}),
    }  # fmt: skip
