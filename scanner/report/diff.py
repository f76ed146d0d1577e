"""`trustmap diff`: what changed between two closures (scanner.policy.snapshot.Diff), as
plain text and as JSON. Names come from scanned metadata: escaped like every output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from scanner.report.text import safe_text

# `changes` is a scanner.policy.snapshot.Diff: report/ imports the model only (a test
# checks it), so it is read by its documented fields.
Diff = Any


def publisher_change_text(change) -> str:
    """`+bob, -carol, organisation acme -> (none)`: an OwnershipChange in a few words."""
    before, after = change.before, change.after
    parts = [f"+{a}" for a in sorted(after.accounts - before.accounts)]
    parts += [f"-{a}" for a in sorted(before.accounts - after.accounts)]
    if before.organization != after.organization:
        parts.append(f"organisation {before.organization or '(none)'} -> "
                     f"{after.organization or '(none)'}")  # fmt: skip
    return ", ".join(parts)


def finding_text(changes: Diff, key: tuple[str, str]) -> str:
    """`dapy: solo-and-little-used (high)`, with its severity as Markdown and JSON give it."""
    severity = changes.severities.get(key)
    return f"{key[0]}: {key[1]}" + (f" ({severity})" if severity else "")


def _finding_dict(changes: Diff, key: tuple[str, str]) -> dict[str, Any]:
    return {
        "package": key[0],
        "rule": key[1],
        "severity": changes.severities.get(key),
        "title": changes.titles.get(key),
    }


def diff_text(changes: Diff, notes: Sequence[str]) -> str:
    out = [f"trustmap diff {safe_text(changes.old, 200)} -> {safe_text(changes.new, 200)}"]
    if changes.empty:
        out.append("no change")
    sections = [
        ("added", [f"{n}=={v}" if v else n for n, v in changes.added.items()]),
        ("removed", [f"{n}=={v}" if v else n for n, v in changes.removed.items()]),
        (
            "changed",
            [
                f"{n} {a or '(unpinned)'} -> {b or '(unpinned)'}"
                for n, (a, b) in changes.changed.items()
            ],
        ),
        (
            "can now publish into the closure",
            [f"{a}: {', '.join(p)}" for a, p in changes.new_publishers.items()],
        ),
        (
            "can no longer publish into it",
            [f"{a}: {', '.join(p)}" for a, p in changes.gone_publishers.items()],
        ),
        ("findings added", [finding_text(changes, key) for key in changes.findings_added]),
        ("findings resolved", [finding_text(changes, key) for key in changes.findings_resolved]),
        (
            "ownership changes",
            [f"{c.package}: {publisher_change_text(c)}" for c in changes.ownership_changes],
        ),
    ]
    for title, lines in sections:
        if lines:
            out.append(f"{title} ({len(lines)}):")
            out.extend(f"  {safe_text(line, 400)}" for line in lines)
    if changes.publishers_unknown:
        out.append(f"publishers unknown for {len(changes.publishers_unknown)} packages of the new "
                   "side: who can publish them is not compared")  # fmt: skip
    out.extend(f"note: {safe_text(n, 400)}" for n in notes)
    return "\n".join(out) + "\n"


def diff_json(changes: Diff, notes: Sequence[str], version: str) -> str:
    document = {
        "tool": {"name": "trustmap", "version": version},
        "old": changes.old,
        "new": changes.new,
        "added": dict(changes.added),
        "removed": dict(changes.removed),
        "changed": {n: {"old": a, "new": b} for n, (a, b) in changes.changed.items()},
        "new_publishers": {a: list(p) for a, p in changes.new_publishers.items()},
        "gone_publishers": {a: list(p) for a, p in changes.gone_publishers.items()},
        "findings_added": [_finding_dict(changes, key) for key in changes.findings_added],
        "findings_resolved": [_finding_dict(changes, key) for key in changes.findings_resolved],
        "ownership_changes": [
            {"package": c.package, "change": publisher_change_text(c)}
            for c in changes.ownership_changes
        ],
        "publishers_unknown": list(changes.publishers_unknown),
        "notes": list(notes),
    }
    return json.dumps(document, ensure_ascii=False) + "\n"
