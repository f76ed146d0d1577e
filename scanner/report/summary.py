"""Figures every report leads with, computed once from a ScanResult."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from scanner.graph import path_from_top, top_level
from scanner.model import SEVERITIES, Finding, ScanResult


@dataclass(frozen=True)
class Summary:
    packages: int
    top_level: int
    edges: int
    publishing_accounts: int
    organizations: int
    ownership_unknown: int  # packages whose publishers could not be found out
    findings_by_severity: dict[str, int]
    undetermined: int
    problems: int
    top_accounts: list[tuple[str, int]]  # accounts that can publish the most packages

    def as_dict(self) -> dict:
        return {
            "packages": self.packages,
            "top_level_packages": self.top_level,
            "edges": self.edges,
            "publishing_accounts": self.publishing_accounts,
            "organizations": self.organizations,
            "packages_with_unknown_ownership": self.ownership_unknown,
            "findings_by_severity": self.findings_by_severity,
            "undetermined": self.undetermined,
            "problems": self.problems,
            "top_accounts": [{"account": a, "packages": n} for a, n in self.top_accounts],
        }


def summarize(result: ScanResult) -> Summary:
    accounts: Counter[str] = Counter()
    organizations: set[str] = set()
    unknown = 0
    for facts in result.facts.values():
        publishers = facts.values.get("publishers")
        if publishers is None:
            unknown += 1
            continue
        accounts.update(publishers)
        if facts.values.get("organization"):
            organizations.add(facts.values["organization"])
    by_severity = Counter(f.severity for f in result.findings)
    return Summary(
        packages=len(result.resolution.packages),
        top_level=len(top_level(result.graph)),
        edges=result.graph.number_of_edges(),
        publishing_accounts=len(accounts),
        organizations=len(organizations),
        ownership_unknown=unknown,
        findings_by_severity={s: by_severity.get(s, 0) for s in reversed(SEVERITIES)},
        undetermined=len(result.undetermined),
        problems=len(result.resolution.problems),
        top_accounts=sorted(accounts.items(), key=lambda kv: (-kv[1], kv[0]))[:5],
    )


def sorted_findings(result: ScanResult) -> list[Finding]:
    """Most severe first, then by how much of the environment depends on the package."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(
        result.findings,
        key=lambda f: (
            -rank[f.severity],
            -(result.facts[f.package].values.get("dependents") or 0),
            f.package,
            f.rule_id,
        ),
    )


def finding_path(result: ScanResult, package: str) -> list[str]:
    return path_from_top(result.graph, package)
