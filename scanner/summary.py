"""The summary stage, after the rules: the figures every report leads with, computed once
per scan from the ScanResult and carried in `ScanResult.summary` (a model.Summary). The
counts, where to look first (graph-aware risk), who can ship code here (publishing
accounts), and per package its risk, blast radius, path and publishers. Outputs read it;
they never recompute it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from scanner.graph import blast_radius, shortest_paths_from_top, top_level
from scanner.model import (
    SEVERITIES,
    AccountShare,
    BlastRadius,
    Facts,
    LookFirst,
    NotChecked,
    Ownership,
    ScanResult,
    Summary,
)
from scanner.risk import LOOK_FIRST, look_first, score_packages

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


def with_summary(
    result: ScanResult,
    radius: Mapping[str, BlastRadius] | None = None,
    accounts: Mapping[str, Sequence[str]] | None = None,
) -> ScanResult:
    """`result` with its summary. `radius` is the blast radius and `accounts` the account
    index (account -> the packages of the closure it can publish) that the pipeline has
    already computed for the facts, once per scan; None: worked out here, for a result
    built by hand."""
    return replace(result, summary=summarize(result, radius, accounts=accounts))


def account_index(owners: Mapping[str, Ownership]) -> dict[str, list[str]]:
    """Which packages each account can publish, from the facts' ownership: for a result
    built by hand (a scan hands over the index the facts stage built)."""
    accounts: dict[str, list[str]] = {}
    for name in sorted(owners):
        for account in owners[name].accounts or ():
            accounts.setdefault(account, []).append(name)
    return accounts


NO_FACTS = "no facts were gathered"


def ownership(facts: Facts | None) -> Ownership:
    if facts is None:
        return Ownership(None, None, NO_FACTS)
    publishers = facts.values.get("publishers")
    if publishers is None:
        reason = facts.unknown.get("publishers") or "not known"
        return Ownership(None, None, reason)
    organization = facts.values.get("organization")
    return Ownership(
        tuple(publishers), organization if isinstance(organization, str) else None, None
    )


def summarize(
    result: ScanResult,
    radius: Mapping[str, BlastRadius] | None = None,
    look_first_count: int = LOOK_FIRST,
    top_accounts: int = TOP_ACCOUNTS,
    accounts: Mapping[str, Sequence[str]] | None = None,
) -> Summary:
    packages = result.packages
    names = [name for name in result.graph if name in packages]
    owners = {name: ownership(result.facts.get(name)) for name in names}
    if accounts is None:
        accounts = account_index(owners)
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
        if owner.organization:
            organizations.add(owner.organization)
    by_severity = Counter(f.severity for f in result.findings)
    if radius is None:
        radius = blast_radius(result.graph)
    risks = score_packages(names, result.findings, result.undetermined, radius)
    paths = shortest_paths_from_top(result.graph)
    ranked_accounts = sorted(accounts.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    shares = [AccountShare(account, tuple(sorted(held))) for account, held in ranked_accounts]
    return Summary(
        packages=len(result.resolution.packages),
        top_level=len(top_level(result.graph)),
        edges=result.graph.number_of_edges(),
        publishing_accounts=len(accounts),
        organizations=len(organizations),
        ownership_unknown=len(unknown),
        findings_by_severity={s: by_severity.get(s, 0) for s in reversed(SEVERITIES)},
        undetermined=len(result.undetermined),
        problems=len(result.resolution.problems),
        top_accounts=shares[:top_accounts],
        concentration_threshold=CONCENTRATION_THRESHOLD,
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
        concentrated_accounts=[a for a in shares if len(a.packages) >= CONCENTRATION_THRESHOLD],
        not_checked=not_checked(result.facts, names),
        undetermined_by_fact=_undetermined_by_fact(result),
        risks=risks,
        radius=radius,
        paths=paths,
        owners=owners,
        accounts=shares,
    )


def not_checked(facts: Mapping[str, Facts], names: list[str]) -> list[NotChecked]:
    """Each kind of check that could not be made for at least one package: "0 critical"
    must never be read as clean when the facts behind it were never seen."""
    # The project's own code is not checked as a third party's: it does not count. A
    # package with no facts at all was checked for nothing (and counts, as it does among
    # the packages of unknown ownership).
    third_party = [n for n in names if not (n in facts and facts[n].values.get("first_party"))]
    out = []
    for kind, fact in CHECK_KINDS:
        reasons = Counter(
            facts[name].unknown.get(fact, "not known") if name in facts else NO_FACTS
            for name in third_party
            if name not in facts or fact not in facts[name].values
        )
        if reasons:
            reason, _ = reasons.most_common(1)[0]
            out.append(NotChecked(kind, fact, sum(reasons.values()), len(third_party), reason))
    return out


def _undetermined_by_fact(result: ScanResult) -> dict[str, int]:
    counts = Counter(fact for item in result.undetermined for fact in item.missing)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
