"""Graph-aware risk: a score per package from its findings, weighted by its blast radius.

    findings score = sum of SEVERITY_WEIGHTS over the package's findings
    reach factor   = 1 + log2(1 + dependents + top-level packages reached)
    risk score     = findings score x reach factor, rounded to one decimal

The weights make severity lead (one high finding outweighs three medium ones) and the reach
factor orders packages of like severity by how much of the environment would run their
code if they were compromised; it grows with the logarithm of the blast radius, so that a
package half the closure depends on counts a few times, not a hundred times, more than a
leaf.

Checks left undetermined (facts unknown) do not add to the score: they are listed beside
it, never hidden, and a fail-closed gate counts them. Most unknowns are the same for every
package (no scan history yet, an index without per-version vulnerabilities), so scoring
them would rank packages by reach alone and bury the findings.

Pure and fast: a dict look-up and a multiplication per package, on figures that
scanner.graph.blast_radius computes for the whole graph in one pass.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

from scanner.model import BlastRadius, Finding, PackageRisk, Severity, Undetermined

SEVERITY_WEIGHTS: dict[Severity, float] = {
    "info": 0.0,
    "low": 1.0,
    "medium": 3.0,
    "high": 10.0,
    "critical": 25.0,
}
LOOK_FIRST = 5  # packages in "where to look first"


def reach_factor(radius: BlastRadius) -> float:
    return 1.0 + math.log2(1 + radius.dependents + radius.top_level)


def score_packages(
    names: Iterable[str],
    findings: Iterable[Finding],
    undetermined: Iterable[Undetermined],
    radius: Mapping[str, BlastRadius],
) -> dict[str, PackageRisk]:
    """The risk of every package in `names` (a package without findings scores 0)."""
    rank = {severity: i for i, severity in enumerate(SEVERITY_WEIGHTS)}
    fired: dict[str, list[tuple[str, Severity]]] = {}
    for finding in findings:
        fired.setdefault(finding.package, []).append((finding.rule_id, finding.severity))
    open_checks: Counter[str] = Counter(item.package for item in undetermined)
    risks: dict[str, PackageRisk] = {}
    for name in names:
        hits = sorted(fired.get(name, ()), key=lambda h: (-rank[h[1]], h[0]))
        base = sum(SEVERITY_WEIGHTS[severity] for _, severity in hits)
        reach = radius.get(name, BlastRadius(0, 0))
        factor = reach_factor(reach)
        risks[name] = PackageRisk(
            name=name,
            score=round(base * factor, 1),
            findings_score=round(base, 2),
            reach_factor=round(factor, 2),
            dependents=reach.dependents,
            top_level=reach.top_level,
            findings=tuple(hits),
            undetermined=open_checks[name],
        )
    return risks


def look_first(risks: Mapping[str, PackageRisk], limit: int = LOOK_FIRST) -> list[PackageRisk]:
    """The `limit` packages with the highest score above zero: highest first, then the one
    that reaches more, then by name."""
    ranked = sorted(
        (r for r in risks.values() if r.score > 0),
        key=lambda r: (-r.score, -r.dependents, -r.top_level, r.name),
    )
    return ranked[:limit]
