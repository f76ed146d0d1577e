"""Figures every report leads with, computed once from a ScanResult: the counts, where to
look first (graph-aware risk), and who can ship code here (publishing accounts)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from scanner.graph import BlastRadius, blast_radius, shortest_paths_from_top, top_level
from scanner.model import SEVERITIES, Facts, Finding, ScanResult
from scanner.risk import LOOK_FIRST, PackageRisk, look_first, score_packages

TOP_ACCOUNTS = 5
# An account that can publish at least this many packages of the closure is reported
# once, as a concentration of power (a fact about the account, not about each package).
CONCENTRATION_THRESHOLD = 5
# Kinds of fact whose absence leaves a whole class of risk unchecked, by the fact that
# stands for the kind: when it is unknown for a package, that check was not made there.
CHECK_KINDS: tuple[tuple[str, str], ...] = (
    ("vulnerabilities", "vulnerability_count"),
    ("provenance", "has_provenance"),
    ("ownership", "publishers"),
    ("usage", "download_rank"),
    ("release history", "first_release"),
)


@dataclass(frozen=True)
class NotChecked:
    """A kind of check that could not be made for some packages, and the commonest why."""

    kind: str
    fact: str
    packages: int
    of: int
    reason: str

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "fact": self.fact,
            "packages": self.packages,
            "of": self.of,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Ownership:
    """Who can publish one package. `accounts` is None when that is unknown (`reason`
    says why); `organization` is "" when the package belongs to none, None when unknown."""

    accounts: tuple[str, ...] | None
    organization: str | None
    reason: str | None = None

    @property
    def known(self) -> bool:
        return self.accounts is not None

    def as_dict(self) -> dict:
        return {
            "known": self.known,
            "accounts": list(self.accounts) if self.accounts is not None else None,
            "organization": self.organization,
            "unknown_reason": self.reason,
        }


def ownership(facts: Facts | None) -> Ownership:
    if facts is None:
        return Ownership(None, None, "no facts were gathered")
    publishers = facts.values.get("publishers")
    if publishers is None:
        reason = facts.unknown.get("publishers") or "not known"
        return Ownership(None, None, reason)
    organization = facts.values.get("organization")
    return Ownership(
        tuple(publishers), organization if isinstance(organization, str) else None, None
    )


@dataclass(frozen=True)
class AccountShare:
    account: str
    packages: tuple[str, ...]  # the packages of this closure it can publish, by name


@dataclass(frozen=True)
class LookFirst:
    """One entry of "where to look first": a package, its risk and what pulls it in."""

    name: str
    label: str  # name==version
    risk: PackageRisk
    path: list[str]
    ownership: Ownership
    top_level: bool = False

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            **self.risk.as_dict(),
            "findings": [{"rule": r, "severity": s} for r, s in self.risk.findings],
            "undetermined": self.risk.undetermined,
            "top_level": self.top_level,
            "path": self.path,
            "publishers": self.ownership.as_dict(),
        }


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
    top_accounts: list[AccountShare]  # accounts that can publish the most packages
    organization_names: list[str] = field(default_factory=list)
    ownership_unknown_packages: list[str] = field(default_factory=list)
    # The project's own code: who can change it is its repository's business, not the
    # index's, so it is not "ownership unknown".
    first_party: list[str] = field(default_factory=list)
    look_first: list[LookFirst] = field(default_factory=list)
    concentrated_accounts: list[AccountShare] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)
    undetermined_by_fact: dict[str, int] = field(default_factory=dict)
    # Per package, for the reports' package sections.
    risks: Mapping[str, PackageRisk] = field(default_factory=dict, repr=False)
    radius: Mapping[str, BlastRadius] = field(default_factory=dict, repr=False)
    paths: Mapping[str, list[str]] = field(default_factory=dict, repr=False)
    owners: Mapping[str, Ownership] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        return {
            "packages": self.packages,
            "top_level_packages": self.top_level,
            "edges": self.edges,
            "publishing_accounts": self.publishing_accounts,
            "organizations": self.organizations,
            "organization_names": self.organization_names,
            "packages_with_unknown_ownership": self.ownership_unknown,
            "unknown_ownership": self.ownership_unknown_packages,
            "first_party": self.first_party,
            "findings_by_severity": self.findings_by_severity,
            "undetermined": self.undetermined,
            "problems": self.problems,
            "top_accounts": [
                {"account": a.account, "packages": len(a.packages), "names": list(a.packages)}
                for a in self.top_accounts
            ],
            "look_first": [item.as_dict() for item in self.look_first],
            "concentrated_accounts": [
                {"account": a.account, "packages": len(a.packages), "names": list(a.packages)}
                for a in self.concentrated_accounts
            ],
            "concentration_threshold": CONCENTRATION_THRESHOLD,
            "not_checked": [item.as_dict() for item in self.not_checked],
            "undetermined_by_fact": self.undetermined_by_fact,
        }


def summarize(
    result: ScanResult, look_first_count: int = LOOK_FIRST, top_accounts: int = TOP_ACCOUNTS
) -> Summary:
    packages = result.packages
    names = [name for name in result.graph if name in packages]
    owners = {name: ownership(result.facts.get(name)) for name in names}
    controlled: dict[str, list[str]] = {}
    organizations: set[str] = set()
    unknown: list[str] = []
    first_party = sorted(
        name for name in names if name in result.facts and result.facts[name].get("first_party")
    )
    for name, owner in owners.items():
        if owner.accounts is None:
            if name not in first_party:
                unknown.append(name)
            continue
        for account in owner.accounts:
            controlled.setdefault(account, []).append(name)
        if owner.organization:
            organizations.add(owner.organization)
    by_severity = Counter(f.severity for f in result.findings)
    radius = blast_radius(result.graph)
    risks = score_packages(names, result.findings, result.undetermined, radius)
    paths = shortest_paths_from_top(result.graph)
    ranked_accounts = sorted(controlled.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return Summary(
        packages=len(result.resolution.packages),
        top_level=len(top_level(result.graph)),
        edges=result.graph.number_of_edges(),
        publishing_accounts=len(controlled),
        organizations=len(organizations),
        ownership_unknown=len(unknown),
        findings_by_severity={s: by_severity.get(s, 0) for s in reversed(SEVERITIES)},
        undetermined=len(result.undetermined),
        problems=len(result.resolution.problems),
        top_accounts=[
            AccountShare(account, tuple(sorted(held)))
            for account, held in ranked_accounts[:top_accounts]
        ],
        organization_names=sorted(organizations),
        ownership_unknown_packages=sorted(unknown),
        first_party=first_party,
        look_first=[
            LookFirst(
                name=risk.name,
                label=packages[risk.name].label,
                risk=risk,
                path=paths.get(risk.name, [risk.name]),
                ownership=owners[risk.name],
                top_level=bool(result.graph.nodes[risk.name].get("top_level")),
            )
            for risk in look_first(risks, look_first_count)
        ],
        concentrated_accounts=[
            AccountShare(account, tuple(sorted(held)))
            for account, held in ranked_accounts
            if len(held) >= CONCENTRATION_THRESHOLD
        ],
        not_checked=not_checked(result.facts, names),
        undetermined_by_fact=_undetermined_by_fact(result),
        risks=risks,
        radius=radius,
        paths=paths,
        owners=owners,
    )


def not_checked(facts: Mapping[str, Facts], names: list[str]) -> list[NotChecked]:
    """Each kind of check that could not be made for at least one package: "0 critical"
    must never be read as clean when the facts behind it were never seen."""
    # The project's own code is not checked as a third party's: it does not count.
    third_party = [n for n in names if n in facts and not facts[n].values.get("first_party")]
    out = []
    for kind, fact in CHECK_KINDS:
        reasons = Counter(
            facts[name].unknown.get(fact, "not known")
            for name in third_party
            if fact not in facts[name].values
        )
        if reasons:
            reason, _ = reasons.most_common(1)[0]
            out.append(NotChecked(kind, fact, sum(reasons.values()), len(third_party), reason))
    return out


def _undetermined_by_fact(result: ScanResult) -> dict[str, int]:
    counts = Counter(fact for item in result.undetermined for fact in item.missing)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def sorted_findings(result: ScanResult, summary: Summary | None = None) -> list[Finding]:
    """Most severe first, then by how much of the environment depends on the package."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}

    def dependents(name: str) -> int:
        if summary is not None and name in summary.radius:
            return summary.radius[name].dependents
        facts = result.facts.get(name)
        return (facts.values.get("dependents") if facts else None) or 0

    return sorted(
        result.findings,
        key=lambda f: (-rank[f.severity], -dependents(f.package), f.package, f.rule_id),
    )


def finding_path(result: ScanResult, package: str, summary: Summary | None = None) -> list[str]:
    """The shortest path from a top-level package that pulls `package` in."""
    if summary is not None and package in summary.paths:
        return summary.paths[package]
    from scanner.graph import path_from_top

    return path_from_top(result.graph, package)
