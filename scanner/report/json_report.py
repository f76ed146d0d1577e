"""JSON for scripts: packages (name, version, facts, findings), edges, problems and the
summary. The shape is documented in the README."""

from __future__ import annotations

import json
from typing import Any

from scanner.model import SEVERITIES, Finding, Package, ScanResult, Undetermined
from scanner.report.summary import finding_path, summary_of

FORMAT_VERSION = 1


def render_json(result: ScanResult, tool_version: str) -> str:
    target = result.resolution.target
    summary = summary_of(result)
    findings = by_package(result)
    packages = [package_entry(result, package, findings) for package in result.resolution.packages]
    document = {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "trustmap", "version": tool_version},
        "target": {
            "source": result.resolution.source,
            "description": target.description,
            "python_version": target.python_version,
            "markers": dict(target.markers),
            "notes": list(target.notes),
        },
        "summary": summary.as_dict(),
        "packages": packages,
        "edges": [
            {
                "from": edge.parent,
                "to": edge.child,
                "specifier": edge.specifier,
                "marker": edge.marker,
                "extra": edge.extra,
                "extra_inferred": edge.extra_inferred,
                "satisfied": edge.satisfied,
            }
            for edge in result.resolution.edges
        ],
        "problems": [
            {
                "kind": p.kind,
                "message": p.message,
                "package": p.package,
                "location": str(p.location) if p.location else None,
                "fatal": p.fatal,
            }
            for p in result.resolution.problems
        ],
        "notes": list(result.notes),
        # The rules as configured for this scan: what a report rendered later from this
        # file (`trustmap report`) says of each rule.
        "rules": [
            {
                "id": rule.id,
                "title": rule.title,
                "severity": rule.severity,
                "category": rule.category,
                "motivation": rule.motivation,
                "remediation": rule.remediation,
                "references": list(rule.references),
            }
            for rule in result.rules.values()
        ],
    }
    if result.verdict is not None:  # the gate's decision (`trustmap gate -f json`)
        from scanner.report.verdict import verdict_dict

        document["verdict"] = verdict_dict(result)
    return dump(document)


def dump(document: dict[str, Any]) -> str:
    # Compact: json.dumps with an indent runs the pure-Python encoder, a tenth of a warm
    # scan for a lab environment; pipe through `jq .` (or `python -m json.tool`) to read.
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def by_package(result: ScanResult) -> dict[str, tuple[list[Finding], list[Undetermined]]]:
    grouped: dict[str, tuple[list[Finding], list[Undetermined]]] = {}
    for finding in result.findings:
        grouped.setdefault(finding.package, ([], []))[0].append(finding)
    for item in result.undetermined:
        grouped.setdefault(item.package, ([], []))[1].append(item)
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    for findings, undetermined in grouped.values():  # most severe first, then by rule
        findings.sort(key=lambda f: (-rank[f.severity], f.rule_id))
        undetermined.sort(key=lambda u: (-rank[u.severity], u.rule_id))
    return grouped


def package_entry(
    result: ScanResult,
    package: Package,
    grouped: dict[str, tuple[list[Finding], list[Undetermined]]] | None = None,
) -> dict[str, Any]:
    """One package as the JSON report (and `trustmap explain -f json`) shows it."""
    name = package.name
    summary = summary_of(result)
    facts = result.facts.get(name)
    risk = summary.risks.get(name)
    if grouped is None:
        grouped = by_package(result)
    findings, undetermined = grouped.get(name, ([], []))
    return {
        "name": name,
        "display_name": package.display_name or name,
        "version": package.version,
        "summary": package.summary,
        "license": package.license,
        "requires_python": package.requires_python,
        "editable": package.editable,
        "hashes": list(package.hashes),
        "wheel_tags": list(package.wheel_tags),
        "metadata_problems": list(package.problems),
        "top_level": bool(result.graph.nodes[name].get("top_level")),
        "origin": str(package.origin) if package.origin else None,
        "direct_url": package.direct_url,
        "index_url": package.index_url,
        # The manifest lines that require it directly, and the shortest chain from a
        # top-level (direct) requirement that pulls it in.
        "declared_at": [str(location) for location in package.declared_at],
        "path": finding_path(result, name),
        "risk": risk.as_dict() if risk else None,
        "publishers": summary.owners[name].as_dict() if name in summary.owners else None,
        "facts": dict(facts.values) if facts else {},
        "unknown_facts": dict(facts.unknown) if facts else {},
        "findings": [
            {
                "rule": finding.rule_id,
                "severity": finding.severity,
                "title": finding.title,
                "detail": finding.detail,
                "evidence": dict(finding.evidence),
                "covers": list(finding.covers),
                "path": finding_path(result, name),
            }
            for finding in findings
        ],
        "undetermined": [
            {
                "rule": item.rule_id,
                "severity": item.severity,
                "missing_facts": list(item.missing),
                "reasons": list(item.reasons),
            }
            for item in undetermined
        ],
    }
