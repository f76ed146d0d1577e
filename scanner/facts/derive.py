"""Fact derivation: `build_facts` is a pure function of what the sources returned
(`GatheredData`) for one package. Each family of facts is derived in its own module
(usage, names, ownership, history, releases, repository, provenance, enrichment); this
module puts them together in order and handles what a package's index record leaves
unknown. A fact that could not be found out is left out of `Facts.values` and put in
`Facts.unknown` with the reason, so rule conditions see null and the report can say why;
never a value that looks safe. It reads only `scanner.model`/`scanner.records` types,
never the sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from scanner.facts.enrichment import answer_facts, osv_vulnerability_facts
from scanner.facts.history import HISTORY_FACTS, history_facts
from scanner.facts.names import name_facts, name_index, prepare_name_facts
from scanner.facts.ownership import (
    account_facts,
    lookalike_publisher_facts,
    not_pypi_ownership,
    ownership_facts,
)
from scanner.facts.provenance import PROVENANCE_FACTS, provenance_facts
from scanner.facts.releases import (
    RELEASE_HISTORY_DATE_FACTS,
    VERSION_DATE_FACTS,
    file_facts,
    release_facts,
    vulnerability_facts,
)
from scanner.facts.repository import collision, licence, repository_facts, url_facts
from scanner.facts.schema import INDEX_FACTS, POPULAR_TARGETS
from scanner.facts.usage import not_pypi_usage, usage_facts, usage_recency
from scanner.model import Facts, Package
from scanner.names import glob_match
from scanner.records import IndexRecord, OwnershipRecord, Project, SourceAnswer, TopPackages
from scanner.wording import some_of

__all__ = ["add_requirer_facts", "build_facts", "name_index", "prepare_name_facts"]

# What only PyPI's JSON API gives (project URLs, licence): a simple index says none of it.
_JSON_API_FACTS = ("source_repository", "homepage", "repository_slug", "repository_names_package")


def _first_party(package: Package) -> bool:
    """An editable install of a local folder is the code being developed here; an
    editable VCS checkout (`-e git+https://...`) is someone else's code."""
    if not package.editable:
        return False
    url = package.direct_url or ""
    return not url.startswith(("git+", "hg+", "svn+", "bzr+", "http://", "https://"))


def add_requirer_facts(
    facts: Mapping[str, Facts], required_by: Mapping[str, list[str]]
) -> dict[str, Facts]:
    """Facts that read the facts of the packages requiring each one (so they come after
    every package's own facts): who chose this dependency, and whether they are well kept.
    A look-alike name that popular, organisation-owned projects depend on was chosen by
    their maintainers, not mistyped by a person."""
    out: dict[str, Facts] = {}
    for name, own in facts.items():
        parents = sorted(required_by.get(name, ()))
        kept, undecided = [], []
        for parent in parents:
            verdict = _well_kept(facts.get(parent))
            if verdict is None:
                undecided.append(parent)
            elif verdict:
                kept.append(parent)
        values = {**own.values, "required_by": parents}
        unknown = dict(own.unknown)
        if kept or not undecided:
            values["required_by_well_kept"] = kept
        else:
            whose = "its requirer" if len(undecided) == 1 else "its requirers"
            unknown["required_by_well_kept"] = (
                f"the usage or ownership of {whose} {some_of(undecided)} is unknown"
            )
        out[name] = Facts(values, unknown)
    return out


def _well_kept(facts: Facts | None) -> bool | None:
    """Widely used or owned by an organisation: True; known to be neither: False;
    not known: None."""
    if facts is None:
        return None
    rank, organization = facts.values.get("download_rank"), facts.values.get("organization")
    if (isinstance(rank, int) and 0 < rank <= POPULAR_TARGETS) or organization:
        return True
    if rank is None or organization is None:
        return None
    return False


def _finished(values: dict[str, Any], unknown: dict[str, str]) -> Facts:
    """The facts, with OSV's answers for the versions whose vulnerabilities the index
    did not list: the last step of every way out of build_facts."""
    osv_vulnerability_facts(values, unknown)
    return Facts(values, unknown)


def build_facts(
    package: Package,
    record: IndexRecord | None,
    top: TopPackages,
    graph_facts: dict[str, Any],
    now: datetime | None = None,
    *,
    history: Mapping[str, OwnershipRecord] | None = None,
    accounts: Mapping[str, list[str]] | None = None,
    enrichment: SourceAnswer | None = None,
    internal_patterns: Iterable[str] = (),
) -> Facts:
    """The facts of one package. `history`: the last scan's ownership per package on
    this index (GatheredData.history; a package absent from it is seen for the first
    time; None: no history, and the ownership-change facts are unknown). `accounts`:
    account -> packages of this closure (GatheredData.accounts; None: unknown).
    `enrichment`: what the looped sources said of this package (GatheredData.answers:
    repository_stars, ...). `internal_patterns`: glob patterns of the lab's internal
    package names (config)."""
    now = now or datetime.now(UTC)
    values: dict[str, Any] = {
        "name": package.name,
        "version": package.version,
        "direct_url": package.direct_url or "",
        "editable": package.editable,
        "first_party": _first_party(package),
        "index_url": package.index_url or "",
        **graph_facts,
    }
    unknown: dict[str, str] = {}
    usage_facts(package.name, top, values, unknown)
    if record is not None and record.other_index:
        not_pypi_usage(record.other_index, values, unknown)
    name_facts(package.name, top, values)
    values["matches_internal_pattern"] = any(glob_match(package.name, p) for p in internal_patterns)
    answer_facts(enrichment, values, unknown, now)
    if record is None or record.status == "unknown":
        reason = record.reason if record else "not looked up"
        for name in (*INDEX_FACTS, *HISTORY_FACTS):
            unknown[name] = reason
        if not package.direct_url:
            values["index_name_collision"] = False
            unknown.pop("index_name_collision", None)
        if package.license:
            values["license"] = package.license
        else:
            unknown["license"] = reason
        return _finished(values, unknown)
    if record.status == "not-found":
        values["known_to_index"] = False
        values["index_name_collision"] = False
        values["lookalike_target_same_publisher"] = False  # it has no publishers there
        for name in (*INDEX_FACTS, *HISTORY_FACTS):
            if name not in values:
                unknown[name] = "the index has no record of this package"
        if package.license:
            values["license"] = package.license
        else:
            unknown["license"] = "the index has no record of it, and its METADATA gave none"
        return _finished(values, unknown)
    project = record.project or Project(record.name)
    values["known_to_index"] = True
    if record.other_index:
        not_pypi_ownership(record.other_index, unknown)
    else:
        ownership_facts(project.ownership, values, unknown)
    history_facts(package.name, history, values, unknown)
    account_facts(accounts, values, unknown)
    lookalike_publisher_facts(accounts, values, unknown)
    asked = record.other_index or "the index"  # how reasons name the index asked
    release_facts(package, project, now, values, unknown, asked)
    usage_recency(top, values, unknown)
    url_facts(project, values)
    repository_facts(package.name, values, unknown)
    values["index_name_collision"] = collision(package, values)
    values["license"] = licence(package, project)
    vulnerability_facts(record, values, unknown)
    file_facts(package, project, values, unknown, asked)
    provenance_facts(record.provenance, values, unknown)
    if record.other_index:
        _simple_index_facts(package, record.other_index, project, values, unknown)
    return _finished(values, unknown)


def _simple_index_facts(
    package: Package, index: str, project: Project, values: dict, unknown: dict
) -> None:
    """A package looked up on the other index its lockfile named: what that index's simple
    API gave stands; what it cannot say is unknown with why, never a value that looks safe
    (no project URLs is not "links no repository")."""
    for fact in _JSON_API_FACTS:
        values.pop(fact, None)
        unknown[fact] = f"{index} serves only a simple index, which gives no project URLs"
    if not package.license:
        values.pop("license", None)
        unknown["license"] = f"{index} serves only a simple index, which gives no licence"
    if project.release_versions:
        values.setdefault("release_count", len(project.release_versions))
    # Where its simple index gave no upload times (no PEP 700), say so: the dates the
    # release facts could not find are missing for that reason.
    no_dates = f"{index} gives no upload times (PEP 700) on its simple index"
    release = project.releases.get(package.version)
    undated = [] if project.release_summary.count else list(RELEASE_HISTORY_DATE_FACTS)
    if release is not None and not release.upload_time:
        undated += VERSION_DATE_FACTS
    for fact in undated:
        if fact not in values:
            unknown[fact] = no_dates
    for fact in PROVENANCE_FACTS:
        values.pop(fact, None)
        unknown[fact] = (
            f"{index} is not PyPI: trustmap asks only the configured index for PEP 740 provenance"
        )
