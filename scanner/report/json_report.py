"""JSON for scripts: packages (name, version, facts, findings), edges, problems and the
summary. The shape is documented in the README."""

from __future__ import annotations

import json
from typing import Any

from scanner.model import ScanResult
from scanner.report.summary import finding_path, summarize

FORMAT_VERSION = 1


def render_json(result: ScanResult, tool_version: str) -> str:
    target = result.resolution.target
    findings_by_package: dict[str, list[dict[str, Any]]] = {}
    for finding in result.findings:
        findings_by_package.setdefault(finding.package, []).append(
            {
                "rule": finding.rule_id,
                "severity": finding.severity,
                "title": finding.title,
                "evidence": dict(finding.evidence),
                "path": finding_path(result, finding.package),
            }
        )
    undetermined_by_package: dict[str, list[dict[str, Any]]] = {}
    for item in result.undetermined:
        undetermined_by_package.setdefault(item.package, []).append(
            {
                "rule": item.rule_id,
                "missing_facts": list(item.missing),
                "reasons": list(item.reasons),
            }
        )
    packages = []
    for package in result.resolution.packages:
        facts = result.facts.get(package.name)
        packages.append(
            {
                "name": package.name,
                "display_name": package.display_name or package.name,
                "version": package.version,
                "top_level": bool(result.graph.nodes[package.name].get("top_level")),
                "origin": str(package.origin) if package.origin else None,
                "direct_url": package.direct_url,
                "facts": dict(facts.values) if facts else {},
                "unknown_facts": dict(facts.unknown) if facts else {},
                "findings": findings_by_package.get(package.name, []),
                "undetermined": undetermined_by_package.get(package.name, []),
            }
        )
    document = {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "trustmap", "version": tool_version},
        "target": {
            "source": result.resolution.source,
            "python_version": target.python_version,
            "markers": dict(target.markers),
            "notes": list(target.notes),
        },
        "summary": summarize(result).as_dict(),
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
            }
            for p in result.resolution.problems
        ],
        "notes": list(result.notes),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
