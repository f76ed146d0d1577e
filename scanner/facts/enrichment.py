"""Enrichment facts: optional signals from the sources the gather stage loops over
(`scanner.sources.interface`): a repository's stars, forks, last push and contributors,
how many packages depend on a project, OSV's advisories. What a source knows becomes a
fact, and some facts are derived from it here (the bus factor from the commit counts);
what it could not find out is unknown with the source's reason."""

from __future__ import annotations

from datetime import datetime

from scanner.records import NOT_GATHERED, SourceAnswer

# The optional signals rules read through `facts.enrichment.X`, where known.
ENRICHMENT_FACTS = (
    "repository_stars",
    "repository_forks",
    "repository_archived",
    "repository_owner_type",
    "days_since_repository_push",
    "contributors",
    "top_contributor_share",
    "bus_factor",
    "dependent_packages",
    "downloads_last_month",
    "scorecard_score",
    "scorecard_checks",
)
_SEVERITIES = ("low", "medium", "high", "critical")


def answer_facts(answer: SourceAnswer | None, values: dict, unknown: dict, now: datetime) -> None:
    """The looped sources' facts, those derived from them, and `enrichment`: the map of
    the optional signals that are known (rules use `has(facts.enrichment.X)`)."""
    answer = answer or SourceAnswer()
    known = {k: v for k, v in answer.values.items() if v is not None}
    values.update(known)
    unknown.update({k: why for k, why in answer.unknown.items() if k not in known})
    _push_facts(now, values, unknown)
    _contributor_facts(values, unknown)
    values["enrichment"] = {k: values[k] for k in ENRICHMENT_FACTS if k in values}
    for name in ENRICHMENT_FACTS:
        if name not in values:
            unknown.setdefault(name, NOT_GATHERED)


def _push_facts(now: datetime, values: dict, unknown: dict) -> None:
    pushed = values.get("repository_pushed_at")
    if pushed is None:
        unknown["days_since_repository_push"] = unknown.get("repository_pushed_at", NOT_GATHERED)
        return
    try:
        when = datetime.fromisoformat(str(pushed).replace("Z", "+00:00"))
        values["days_since_repository_push"] = max(0, (now - when).days)
    except (ValueError, TypeError):
        unknown["days_since_repository_push"] = f"unreadable push time {str(pushed)[:40]!r}"


def bus_factor(commits: list[int]) -> int:
    """The fewest contributors whose commits make at least half of all commits."""
    total = sum(commits)
    covered = 0
    for count, contributions in enumerate(sorted(commits, reverse=True), start=1):
        covered += contributions
        if covered * 2 >= total:
            return count
    return 0


def _contributor_facts(values: dict, unknown: dict) -> None:
    commits = values.get("contributor_commits")
    if commits is None:
        why = unknown.get("contributor_commits", NOT_GATHERED)
        for name in ("contributors", "top_contributor_share", "bus_factor"):
            unknown[name] = why
        return
    values["contributors"] = len(commits)
    total = sum(commits)
    if total:
        values["top_contributor_share"] = round(max(commits) / total, 3)
        values["bus_factor"] = bus_factor(commits)
    else:
        why = "the repository lists no commits"
        unknown["top_contributor_share"] = unknown["bus_factor"] = why


def osv_vulnerability_facts(values: dict, unknown: dict) -> None:
    """Where the index did not list the pinned version's vulnerabilities, OSV's list
    stands in; then `vulnerability_severity`, the highest severity the advisories give
    ("" when none gives one, as the index's own list never does)."""
    osv = values.get("osv_vulnerabilities")
    if "vulnerability_count" not in values and osv is not None:
        vulns = [v for v in osv if not v.get("withdrawn")]
        values["vulnerabilities"] = vulns
        values["vulnerability_count"] = len(vulns)
        values["vulnerability_ids"] = sorted(
            {i for v in vulns for i in (v.get("id"), *(v.get("aliases") or ())) if i}
        )
        values["fixed_versions"] = sorted({f for v in vulns for f in v.get("fixed_in") or ()})
        for name in ("vulnerabilities", "vulnerability_count", "vulnerability_ids"):
            unknown.pop(name, None)
        unknown.pop("fixed_versions", None)
    if "vulnerabilities" not in values:
        unknown["vulnerability_severity"] = unknown.get("vulnerability_count", "not known")
        return
    # The index's list gives no severity: OSV's record of the same advisory does.
    by_id = {i: v for v in osv or () for i in (v.get("id"), *(v.get("aliases") or ())) if i}
    given = [
        v.get("severity")
        or next(
            (
                by_id[i].get("severity")
                for i in (v.get("id"), *(v.get("aliases") or ()))
                if i in by_id
            ),
            None,
        )
        for v in values["vulnerabilities"]
    ]
    ranks = [_SEVERITIES.index(s) for s in given if s in _SEVERITIES]
    values["vulnerability_severity"] = _SEVERITIES[max(ranks)] if ranks else ""
