"""Facts: the one documented schema of what is known about a package, and how it is
gathered from the sources.

`FACTS` is the schema (shown by `trustmap rules facts`). `build_facts` is a pure function
of what the sources returned; `gather_facts` runs the sources. A fact that could not be
found out is left out of `Facts.values` and put in `Facts.unknown` with the reason, so
rule conditions see null and the report can say why; never a value that looks safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scanner.model import Facts, Package
from scanner.names import FORGES, NameIndex, glob_match, repository_names_project, repository_path
from scanner.sources.http import Fetcher, redact
from scanner.sources.other_index import lookup_other_indexes, not_asked, other_index_notes
from scanner.sources.provenance import Provenance, ProvenanceSource, lookup_provenance
from scanner.sources.pypi import IndexRecord, PyPISource, lookup_all, release_summary, stale_notes
from scanner.sources.usage import TopPackages, load_top_packages, top_packages_within
from scanner.store import OwnershipRecord

# Names within this download rank are the "popular" names that look-alikes are checked
# against (the same cut-off low-usage uses by default).
POPULAR_TARGETS = 5000


@dataclass(frozen=True)
class FactSpec:
    name: str
    type: str  # the CEL type a condition sees
    source: str
    description: str


FACTS: tuple[FactSpec, ...] = (
    FactSpec("name", "string", "input", "Canonical (PEP 503) project name."),
    FactSpec("version", "string", "input", "The pinned or installed version."),
    FactSpec(
        "direct_url",
        "string",
        "input",
        "Where it comes from when not from an index: the "
        'URL, VCS reference or local path (PEP 610 for installs); "" when from an index.',
    ),
    FactSpec("editable", "bool", "input", "Installed or declared as editable (-e)."),
    FactSpec(
        "first_party",
        "bool",
        "input",
        "The project's own code: the root project or an editable install of it, not a "
        "dependency someone else publishes.",
    ),
    FactSpec(
        "index_url",
        "string",
        "input",
        'The other index a lockfile locked it from (not PyPI, not the configured index); "" '
        "when from the configured index.",
    ),
    FactSpec("top_level", "bool", "graph", "Nothing in the closure requires this package."),
    FactSpec("dependents", "int", "graph", "How many packages depend on it, directly or not."),
    FactSpec(
        "required_by",
        "list(string)",
        "graph",
        "The packages of the closure that require it directly.",
    ),
    FactSpec(
        "required_by_well_kept",
        "list(string)",
        "graph + index + dataset",
        f"Of `required_by`, those widely used (download rank {POPULAR_TARGETS:,} or better) "
        "or owned by a PyPI organisation: their maintainers chose this dependency. Unknown "
        "when none is known to be and some requirer's facts are unknown.",
    ),
    FactSpec(
        "known_to_index",
        "bool",
        "index",
        "The index has a project of this name (false: local "
        "or internal package, or a name that was removed). For a package locked from "
        "another index, that index.",
    ),
    FactSpec(
        "publishers",
        "list(string)",
        "index JSON API `ownership`",
        "Accounts that can publish new releases (Owner and Maintainer roles).",
    ),
    FactSpec(
        "publisher_roles",
        "list(map)",
        "index JSON API `ownership`",
        "Each publishing account with its role: {user, role}.",
    ),
    FactSpec("publisher_count", "int", "index JSON API `ownership`", "len(publishers)."),
    FactSpec(
        "organization",
        "string",
        "index JSON API `ownership`",
        'The PyPI organisation that owns the project; "" when it belongs to none.',
    ),
    FactSpec("first_release", "string", "index", "Upload time of the first file (ISO 8601)."),
    FactSpec("latest_release", "string", "index", "Upload time of the newest release."),
    FactSpec("latest_version", "string", "index", "The index's current version."),
    FactSpec("release_count", "int", "index", "Number of releases with at least one file."),
    FactSpec("days_since_first_release", "int", "index", "Age of the project in days."),
    FactSpec("days_since_latest_release", "int", "index", "Days since the newest release."),
    FactSpec(
        "version_upload_time", "string", "index", "Upload time of the pinned version's files."
    ),
    FactSpec(
        "days_since_version_upload", "int", "index", "Days since the pinned version appeared."
    ),
    FactSpec("version_yanked", "bool", "index", "The pinned version is yanked (PEP 592)."),
    FactSpec("yanked_reason", "string", "index", "Why it was yanked, when it was."),
    FactSpec(
        "source_repository",
        "string",
        "index project URLs",
        'The source repository URL; "" when the project links none.',
    ),
    FactSpec("homepage", "string", "index project URLs", 'Home page URL, "" when none.'),
    FactSpec("license", "string", "index / METADATA", "Licence expression or name."),
    FactSpec(
        "vulnerabilities",
        "list(map)",
        "index JSON API `vulnerabilities`",
        "Known vulnerabilities of the pinned version: {id, aliases, fixed_in, link}.",
    ),
    FactSpec("vulnerability_count", "int", "index", "len(vulnerabilities)."),
    FactSpec(
        "file_hashes",
        "list(string)",
        "index",
        "sha256 of the pinned version's files on the "
        'index ("sha256:<hex>"); the installed wheel\'s first when it can be told.',
    ),
    FactSpec(
        "in_top_packages",
        "bool",
        "top-PyPI-packages dataset",
        "Among the most-downloaded projects of the dataset.",
    ),
    FactSpec(
        "download_rank",
        "int",
        "top-PyPI-packages dataset",
        "Rank by downloads over 30 days (1 = most); 0 when not in the dataset.",
    ),
    FactSpec(
        "downloads_30d",
        "int",
        "top-PyPI-packages dataset",
        "Downloads over 30 days; unknown when the project is not in the dataset.",
    ),
    FactSpec(
        "top_packages_size", "int", "top-PyPI-packages dataset", "How many projects it ranks."
    ),
    FactSpec(
        "repository_stars",
        "int",
        "repository host (GitHub)",
        "Stars of the linked repository. Not gathered yet: unknown, with the reason.",
    ),
    FactSpec(
        "repository_archived",
        "bool",
        "repository host (GitHub)",
        "The linked repository is archived. Not gathered yet: unknown, with the reason.",
    ),
    FactSpec(
        "dependent_packages",
        "int",
        "dependency graph service (deps.dev)",
        "How many published packages depend on it. Not gathered yet: unknown.",
    ),
    FactSpec(
        "enrichment",
        "map",
        "repository host, dependency graph service",
        "Only the optional signals that are known, under the names above "
        "(repository_stars, repository_archived, dependent_packages); empty when none "
        "is. Rules use `has(facts.enrichment.X)` to apply a signal where it exists.",
    ),
    FactSpec(
        "has_wheel",
        "bool",
        "index files",
        "The pinned version has a wheel on the index (false: installing it from the "
        "index runs its build code).",
    ),
    FactSpec(
        "file_types",
        "list(string)",
        "index files",
        'Kinds of the pinned version\'s files on the index ("sdist", "bdist_wheel", ...).',
    ),
    FactSpec(
        "repository_slug",
        "string",
        "index project URLs",
        'host/owner/repository of the linked source repository on a known forge; "" '
        "when there is none or it is elsewhere.",
    ),
    FactSpec(
        "repository_names_package",
        "bool",
        "index project URLs",
        "The linked repository's name plausibly holds this project (see "
        "scanner.names.repository_names_project); unknown without a repository on a "
        "known forge.",
    ),
    FactSpec(
        "has_provenance",
        "bool",
        "index integrity API (PEP 740)",
        "The pinned file has a PEP 740 attestation on the index; unknown where the "
        "index does not serve provenance.",
    ),
    FactSpec(
        "provenance_file",
        "string",
        "index integrity API (PEP 740)",
        "The file whose provenance was asked for (the installed wheel when known).",
    ),
    FactSpec(
        "provenance_publisher",
        "string",
        "index integrity API (PEP 740)",
        'Kind of trusted publisher that attested it ("GitHub", "GitLab", ...); "" when '
        "not attested.",
    ),
    FactSpec(
        "provenance_repository",
        "string",
        "index integrity API (PEP 740)",
        'The repository the attested file was built from (owner/name); "" when not attested.',
    ),
    FactSpec(
        "provenance_workflow",
        "string",
        "index integrity API (PEP 740)",
        'The workflow that published it (e.g. release.yml); "" when not attested.',
    ),
    FactSpec(
        "vulnerability_ids",
        "list(string)",
        "index JSON API `vulnerabilities`",
        "IDs of the pinned version's known vulnerabilities (with their aliases).",
    ),
    FactSpec(
        "fixed_versions",
        "list(string)",
        "index JSON API `vulnerabilities`",
        "Versions that fix them, as the advisories list them; [] when none is fixed.",
    ),
    FactSpec(
        "lookalike_of",
        "string",
        "name + top-PyPI-packages dataset",
        "A popular project (among the top 5,000) whose name this one looks like: one "
        "edit, swapped characters, a swapped or dropped separator, look-alike characters "
        '(0/o, 1/l, rn/m) or a prefix/suffix (python-, -py, -dev, ...); "" when none.',
    ),
    FactSpec("lookalike_kind", "string", "name", 'How the name looks like it; "" when none.'),
    FactSpec("lookalike_detail", "string", "name", 'The resemblance in words; "" when none.'),
    FactSpec(
        "lookalike_rank",
        "int",
        "top-PyPI-packages dataset",
        "Download rank of the look-alike target; 0 when none.",
    ),
    FactSpec(
        "lookalike_target_same_publisher",
        "bool",
        "index ownership + graph",
        "The look-alike target is in this closure and an account publishes both (a "
        "maintainer's own fork or successor, such as httpx2 by an httpx maintainer); false "
        "otherwise, including when the target is not in the closure.",
    ),
    FactSpec(
        "matches_internal_pattern",
        "bool",
        "config `internal-packages`",
        "The name matches one of the configured glob patterns of internal package names "
        "(false when none is configured).",
    ),
    FactSpec(
        "index_name_collision",
        "bool",
        "input + index",
        "Installed from outside the index (URL, VCS or local path) while the index has "
        "a project of the same name that does not link to where it came from: "
        "installing it by name takes the index's.",
    ),
    FactSpec(
        "previous_publishers",
        "list(string)",
        "scan history",
        "Publishers at the last scan that saw this package on this index; [] at the first.",
    ),
    FactSpec(
        "previous_organization",
        "string",
        "scan history",
        'Organisation at the last scan; "" when none or at the first sighting.',
    ),
    FactSpec(
        "publishers_added",
        "list(string)",
        "scan history",
        "Accounts that can publish now and could not at the last scan.",
    ),
    FactSpec(
        "publishers_removed",
        "list(string)",
        "scan history",
        "Accounts that could publish at the last scan and no longer can.",
    ),
    FactSpec(
        "organization_changed",
        "bool",
        "scan history",
        "The owning organisation differs from the last scan's (false at the first).",
    ),
    FactSpec(
        "ownership_changed",
        "bool",
        "scan history",
        "Publishers or organisation differ from the last scan (false at the first "
        "sighting, which is not a change).",
    ),
    FactSpec(
        "ownership_last_seen",
        "string",
        "scan history",
        'When the previous ownership was last seen (ISO 8601); "" at the first sighting.',
    ),
    FactSpec(
        "busiest_account",
        "string",
        "index `ownership`, whole closure",
        "Of the accounts that can publish this package, the one that can publish the "
        'most packages of this closure; "" when it has no publisher.',
    ),
    FactSpec(
        "busiest_account_package_count",
        "int",
        "index `ownership`, whole closure",
        "How many packages of this closure that account can publish.",
    ),
    FactSpec(
        "busiest_account_packages",
        "list(string)",
        "index `ownership`, whole closure",
        "Those packages.",
    ),
)
FACT_NAMES = frozenset(spec.name for spec in FACTS)
# Facts that come from the index: unknown, with the reason, when the index did not answer.
_INDEX_FACTS = tuple(s.name for s in FACTS if "index" in s.source and s.name != "license")

_REPOSITORY_LABELS = ("source", "source code", "repository", "code", "github", "gitlab", "git")
_REPOSITORY_HOSTS = ("github.com/", "gitlab.com/", "bitbucket.org/", "codeberg.org/", "sr.ht/")


@dataclass(frozen=True)
class GatheredData:
    """What the sources said, before it is turned into facts."""

    index: dict[str, IndexRecord]
    top_packages: TopPackages
    notes: tuple[str, ...]
    # The last scan's ownership of each package on this index (absent: first sighting);
    # None when no history was read.
    history: dict[str, OwnershipRecord] | None = None
    # account -> the packages of this closure it can publish
    accounts: dict[str, list[str]] = field(default_factory=dict)


async def gather(
    packages: Iterable[Package],
    fetcher: Fetcher,
    source: PyPISource,
    on_done: Callable[[str], None] | None = None,
    *,
    record_history: bool = True,
    other_indexes: bool = True,
) -> GatheredData:
    """Ask the sources about every package: the index (project JSON and the pinned
    file's PEP 740 provenance), the usage dataset, and the scan history, which then
    records this scan's ownership (`record_history`). A package a lockfile locked from
    another index is looked up on that index's simple API (`other_indexes`; else its
    index facts are unknown), never on the configured one."""
    packages = list(packages)
    usage_task = asyncio.create_task(load_top_packages(fetcher))
    elsewhere = [p for p in packages if _from_other_index(p, source)]
    others = {p.name for p in elsewhere}
    index = await lookup_all(
        source, ((p.name, p.version) for p in packages if p.name not in others), on_done
    )
    if other_indexes:
        found_elsewhere, sent = await lookup_other_indexes(
            fetcher, ((p.name, p.version, p.index_url or "") for p in elsewhere), on_done
        )
        fetcher.requests_sent += sent
    else:
        found_elsewhere = {p.name: not_asked(p.name, p.index_url or "") for p in elsewhere}
        for name in found_elsewhere:
            if on_done:
                on_done(name)
    index.update(found_elsewhere)
    # Provenance is the configured index's word about its own files only.
    provenance = await lookup_provenance(
        ProvenanceSource(fetcher, source.index_url),
        index,
        ((p.name, p.version, p.wheel_tags) for p in packages if p.name not in others),
    )
    for name, found in provenance.items():
        index[name].provenance = found
    top, usage_note = await top_packages_within(usage_task, fetcher)
    notes = [f"usage: top-PyPI-packages dataset of {top.snapshot_date} ({top.origin})"]
    if usage_note:
        notes.append(usage_note)
    notes.extend(other_index_notes(found_elsewhere))
    notes.extend(stale_notes(index))
    unknown = {p.reason for p in provenance.values() if p.status == "unknown"}
    if provenance and len(unknown) == 1 and len(provenance) > 1:
        notes.append(f"provenance: {unknown.pop()}")
    history = _history(fetcher, source, index, record_history)
    return GatheredData(
        index=index,
        top_packages=top,
        notes=tuple(notes),
        history=history,
        accounts=account_index(index),
    )


def _from_other_index(package: Package, source: PyPISource) -> bool:
    return bool(package.index_url) and package.index_url.rstrip("/") != source.index_url


def _history(
    fetcher: Fetcher, source: PyPISource, index: dict[str, IndexRecord], record: bool
) -> dict[str, OwnershipRecord]:
    """The last scan's ownership of these packages, then this scan's recorded."""
    key = redact(source.index_url)
    previous = fetcher.store.last_ownership(key, sorted(index))
    if record:
        observed = {}
        for name, found in index.items():
            ownership = (found.project or {}).get("ownership") if found.status == "found" else None
            if isinstance(ownership, dict):
                publishers = tuple(sorted({r["user"] for r in ownership.get("roles") or []}))
                observed[name] = (publishers, ownership.get("organization") or "")
        fetcher.store.record_ownership(key, observed, previous)
    return previous


def account_index(records: Mapping[str, IndexRecord]) -> dict[str, list[str]]:
    """Which packages of the closure each account can publish (from index ownership)."""
    accounts: dict[str, list[str]] = {}
    for name in sorted(records):
        record = records[name]
        ownership = (record.project or {}).get("ownership") if record.status == "found" else None
        if not isinstance(ownership, dict):
            continue
        for user in sorted({r["user"] for r in ownership.get("roles") or []}):
            accounts.setdefault(user, []).append(name)
    return accounts


NOT_GATHERED = (
    "not gathered: no repository host or dependency-graph service is asked (GitHub and "
    "deps.dev are not reachable from this network)"
)
_ENRICHMENT = ("repository_stars", "repository_archived", "dependent_packages")


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
            unknown["required_by_well_kept"] = (
                f"usage or ownership unknown for {', '.join(undecided[:5])}"
                + (f" and {len(undecided) - 5} more" if len(undecided) > 5 else "")
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


def build_facts(
    package: Package,
    record: IndexRecord | None,
    top: TopPackages,
    graph_facts: dict[str, Any],
    now: datetime | None = None,
    *,
    history: Mapping[str, OwnershipRecord] | None = None,
    accounts: Mapping[str, list[str]] | None = None,
    enrichment: Mapping[str, Any] | None = None,
    internal_patterns: Iterable[str] = (),
) -> Facts:
    """The facts of one package. `history`: the last scan's ownership per package on
    this index (GatheredData.history; a package absent from it is seen for the first
    time; None: no history, and the ownership-change facts are unknown). `accounts`:
    account -> packages of this closure (GatheredData.accounts; None: unknown).
    `enrichment`: optional signals known for this package (repository_stars, ...).
    `internal_patterns`: glob patterns of the lab's internal package names (config)."""
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
    _usage_facts(package.name, top, values, unknown)
    if record is not None and record.other_index:
        # PyPI's download counts are of PyPI's project of this name, not of this one.
        for name in ("in_top_packages", "download_rank", "downloads_30d"):
            values.pop(name, None)
            unknown[name] = (
                f"locked from {record.other_index}: the download counts are PyPI's, of "
                "PyPI's project of this name, not of this one"
            )
    _name_facts(package.name, top, values)
    values["matches_internal_pattern"] = any(glob_match(package.name, p) for p in internal_patterns)
    _enrichment_facts(enrichment, values, unknown)
    index_facts = _INDEX_FACTS
    if record is None or record.status == "unknown":
        reason = record.reason if record else "not looked up"
        for name in index_facts:
            unknown[name] = reason
        for name in _HISTORY_FACTS:
            unknown[name] = reason
        if not package.direct_url:
            values["index_name_collision"] = False
            unknown.pop("index_name_collision", None)
        if package.license:
            values["license"] = package.license
        else:
            unknown["license"] = reason
        return Facts(values, unknown)
    if record.status == "not-found":
        values["known_to_index"] = False
        values["index_name_collision"] = False
        values["lookalike_target_same_publisher"] = False  # it has no publishers there
        for name in (*index_facts, *_HISTORY_FACTS):
            if name not in values:
                unknown[name] = "the index has no record of this package"
        if package.license:
            values["license"] = package.license
        return Facts(values, unknown)
    project = record.project or {}
    values["known_to_index"] = True
    if record.other_index:
        _not_pypi_ownership(record.other_index, unknown)
    else:
        _ownership_facts(project, values, unknown)
    _history_facts(package.name, history, values, unknown, now)
    _account_facts(accounts, values, unknown)
    _lookalike_publisher_facts(accounts, values, unknown)
    _release_facts(package, project, now, values, unknown)
    _usage_recency(top, values, unknown)
    _url_facts(project, values)
    _repository_facts(package.name, values, unknown)
    values["index_name_collision"] = _collision(package, values)
    values["license"] = (
        project.get("license_expression")
        or _short_license(project.get("license"))
        or package.license
        or _classifier_license(project.get("classifiers") or [])
    )
    if record.version_vulnerabilities is not None:
        vulns = [v for v in record.version_vulnerabilities if not v.get("withdrawn")]
        values["vulnerabilities"] = vulns
        values["vulnerability_count"] = len(vulns)
        values["vulnerability_ids"] = sorted(
            {i for v in vulns for i in (v.get("id"), *(v.get("aliases") or ())) if i}
        )
        values["fixed_versions"] = sorted({f for v in vulns for f in v.get("fixed_in") or ()})
    else:
        reason = record.vulnerabilities_unknown or "not known"
        for name in ("vulnerabilities", "vulnerability_count", "vulnerability_ids"):
            unknown[name] = reason
        unknown["fixed_versions"] = reason
    _hash_facts(package, project, values, unknown)
    _provenance_facts(record.provenance, values, unknown)
    if record.other_index:
        _simple_index_facts(package, record.other_index, project, values, unknown)
    return Facts(values, unknown)


_OWNERSHIP_FACTS = ("publishers", "publisher_roles", "publisher_count", "organization")
# What only PyPI's JSON API gives (project URLs, licence): a simple index says none of it.
_JSON_API_FACTS = ("source_repository", "homepage", "repository_slug", "repository_names_package")
_RELEASE_DATE_FACTS = (
    "first_release",
    "latest_release",
    "days_since_first_release",
    "days_since_latest_release",
    "version_upload_time",
    "days_since_version_upload",
)


def _not_pypi_ownership(index: str, unknown: dict) -> None:
    # Set before the derivations that read ownership, so they give this reason too.
    for fact in _OWNERSHIP_FACTS:
        unknown[fact] = f"{index} is not PyPI: it does not say who can publish"


def _simple_index_facts(
    package: Package, index: str, project: dict, values: dict, unknown: dict
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
    if project.get("release_versions"):
        values.setdefault("release_count", len(project["release_versions"]))
    no_dates = f"{index} gives no upload times (PEP 700) on its simple index"
    for fact in _RELEASE_DATE_FACTS:
        reason = unknown.get(fact, "")
        if fact not in values and (reason == "no files" or "release history" in reason):
            unknown[fact] = no_dates
    for fact in _PROVENANCE_FACTS:
        values.pop(fact, None)
        unknown[fact] = (
            f"{index} is not PyPI: trustmap asks only the configured index for PEP 740 provenance"
        )
    for fact, reason in unknown.items():
        # The derivations' generic words name the index that was asked.
        if reason.startswith("the index "):
            unknown[fact] = f"{index} {reason.removeprefix('the index ')}"


_HISTORY_FACTS = (
    "previous_publishers",
    "previous_organization",
    "publishers_added",
    "publishers_removed",
    "organization_changed",
    "ownership_changed",
    "ownership_last_seen",
)
_PROVENANCE_FACTS = (
    "has_provenance",
    "provenance_file",
    "provenance_publisher",
    "provenance_repository",
    "provenance_workflow",
)
_ACCOUNT_FACTS = ("busiest_account", "busiest_account_package_count", "busiest_account_packages")

_name_index_cache: dict[tuple[Any, ...], NameIndex] = {}


def name_index(top: TopPackages) -> NameIndex:
    """The look-alike index of the dataset's POPULAR_TARGETS most downloaded names, built
    once per dataset (snapshot) and process."""
    key = (top.snapshot_date, top.origin, top.size, next(iter(top.ranks), ""))
    index = _name_index_cache.get(key)
    if index is None:
        index = NameIndex({n: r for n, r in top.ranks.items() if r <= POPULAR_TARGETS})
        _name_index_cache.clear()
        _name_index_cache[key] = index
    return index


def _name_facts(name: str, top: TopPackages, values: dict) -> None:
    match = name_index(top).lookalike(name)
    values["lookalike_of"] = match.target if match else ""
    values["lookalike_kind"] = match.kind if match else ""
    values["lookalike_detail"] = match.detail if match else ""
    values["lookalike_rank"] = top.ranks.get(match.target, 0) if match else 0


def _enrichment_facts(enrichment: Mapping[str, Any] | None, values: dict, unknown: dict) -> None:
    known = {k: v for k, v in (enrichment or {}).items() if k in _ENRICHMENT and v is not None}
    values["enrichment"] = known
    for name in _ENRICHMENT:
        if name in known:
            values[name] = known[name]
        else:
            unknown[name] = NOT_GATHERED


def _history_facts(
    name: str,
    history: Mapping[str, OwnershipRecord] | None,
    values: dict,
    unknown: dict,
    now: datetime,
) -> None:
    if "publishers" not in values:
        for fact in _HISTORY_FACTS:
            unknown[fact] = unknown.get("publishers", "ownership unknown")
        return
    if history is None:
        for fact in _HISTORY_FACTS:
            unknown[fact] = "no scan history was given"
        return
    previous = history.get(name)
    if previous is None:  # the first sighting is not a change
        values.update(
            previous_publishers=[],
            previous_organization="",
            publishers_added=[],
            publishers_removed=[],
            organization_changed=False,
            ownership_changed=False,
            ownership_last_seen="",
        )
        return
    now_set, before = set(values["publishers"]), set(previous.publishers)
    organization_changed = previous.organization != values["organization"]
    values.update(
        previous_publishers=list(previous.publishers),
        previous_organization=previous.organization,
        publishers_added=sorted(now_set - before),
        publishers_removed=sorted(before - now_set),
        organization_changed=organization_changed,
        ownership_changed=organization_changed or now_set != before,
        ownership_last_seen=datetime.fromtimestamp(previous.last_seen, UTC).isoformat(
            timespec="seconds"
        ),
    )


def _account_facts(accounts: Mapping[str, list[str]] | None, values: dict, unknown: dict) -> None:
    if "publishers" not in values:
        for fact in _ACCOUNT_FACTS:
            unknown[fact] = unknown.get("publishers", "ownership unknown")
        return
    if accounts is None:
        for fact in _ACCOUNT_FACTS:
            unknown[fact] = "the closure's accounts were not given"
        return
    best, packages = "", []
    for user in values["publishers"]:
        mine = accounts.get(user, [])
        if len(mine) > len(packages):
            best, packages = user, mine  # shared with the other packages: not changed
    values["busiest_account"] = best
    values["busiest_account_package_count"] = len(packages)
    values["busiest_account_packages"] = packages


def _lookalike_publisher_facts(
    accounts: Mapping[str, list[str]] | None, values: dict, unknown: dict
) -> None:
    target = values.get("lookalike_of")
    if not target:
        values["lookalike_target_same_publisher"] = False
    elif "publishers" not in values:
        unknown["lookalike_target_same_publisher"] = unknown.get("publishers", "ownership unknown")
    elif accounts is None:
        unknown["lookalike_target_same_publisher"] = "the closure's accounts were not given"
    else:
        values["lookalike_target_same_publisher"] = any(
            target in accounts.get(user, ()) for user in values["publishers"]
        )


# A project needs a full 30-day window before the dataset's date to be ranked in it.
_USAGE_WINDOW_DAYS = 30


def _usage_recency(top: TopPackages, values: dict, unknown: dict) -> None:
    """Absence from the top-packages dataset says "little used" only of projects that
    existed, a whole window long, before the dataset was compiled. For newer ones the
    rank is unknown, not zero."""
    first = values.get("first_release")
    if values.get("in_top_packages") or not first or not top.snapshot_date:
        return
    # An unknown absence is unknown for every fact that reads it: a negated condition
    # (`!facts.in_top_packages`) must not see a known false.
    try:
        compiled = datetime.fromisoformat(top.snapshot_date).replace(tzinfo=UTC)
        released = datetime.fromisoformat(first.replace("Z", "+00:00"))
    except ValueError:
        return
    if released.tzinfo is None:
        released = released.replace(tzinfo=UTC)
    if (compiled - released).days < _USAGE_WINDOW_DAYS:
        reason = (
            f"first released {first[:10]}, too late to be ranked in the top-packages dataset "
            f"of {top.snapshot_date}: its absence there says nothing"
        )
        for fact in ("download_rank", "in_top_packages"):
            values.pop(fact, None)
            unknown[fact] = reason


def _repository_facts(name: str, values: dict, unknown: dict) -> None:
    url = values.get("source_repository", "")
    parsed = repository_path(url) if url else None
    values["repository_slug"] = "/".join(parsed) if parsed else ""
    if not url:
        unknown["repository_names_package"] = "the project links no source repository"
        return
    matches = repository_names_project(name, url)
    if matches is None:
        unknown["repository_names_package"] = (
            "the repository is not on a forge whose URLs name the repository "
            f"({', '.join(sorted(FORGES))})"
        )
    else:
        values["repository_names_package"] = matches


def _collision(package: Package, values: dict) -> bool:
    """Installed from outside the index, and the index's project of that name is not the
    repository it was installed from."""
    if not package.direct_url:
        return False
    installed = _strip_vcs(package.direct_url)
    origin = repository_path(installed)
    linked = repository_path(values.get("source_repository", ""))
    return not (origin and linked and origin == linked)


def _strip_vcs(url: str) -> str:
    for prefix in ("git+", "hg+", "svn+", "bzr+"):
        if url.startswith(prefix):
            return url[len(prefix) :].split("@", 1)[0] if "://" in url else url
    return url


def _provenance_facts(provenance: Provenance | None, values: dict, unknown: dict) -> None:
    if provenance is None:
        for fact in _PROVENANCE_FACTS:
            unknown[fact] = unknown.get("file_hashes") or "provenance was not looked up"
        return
    values["provenance_file"] = provenance.filename
    if provenance.status == "unknown":
        for fact in _PROVENANCE_FACTS[2:]:
            unknown[fact] = provenance.reason
        unknown["has_provenance"] = provenance.reason
        return
    publisher = provenance.publisher
    values["has_provenance"] = provenance.status == "attested"
    values["provenance_publisher"] = publisher.get("kind", "")
    values["provenance_repository"] = publisher.get("repository", "")
    values["provenance_workflow"] = publisher.get("workflow", "")


def _usage_facts(name: str, top: TopPackages, values: dict, unknown: dict) -> None:
    rank = top.ranks.get(name)
    values["in_top_packages"] = rank is not None
    values["download_rank"] = rank or 0
    values["top_packages_size"] = top.size
    if rank is not None:
        values["downloads_30d"] = top.counts[name]
    else:
        unknown["downloads_30d"] = f"not among the {top.size} projects of the top-packages dataset"


def _ownership_facts(project: dict, values: dict, unknown: dict) -> None:
    ownership = project.get("ownership")
    if ownership is None:
        reason = "the index does not publish ownership (not PyPI's JSON API, or a mirror)"
        for name in ("publishers", "publisher_roles", "publisher_count", "organization"):
            unknown[name] = reason
        return
    roles = ownership.get("roles") or []
    publishers = sorted({r["user"] for r in roles})
    values["publishers"] = publishers
    values["publisher_roles"] = roles
    values["publisher_count"] = len(publishers)
    values["organization"] = ownership.get("organization") or ""


def _days(now: datetime, iso: str | None) -> int | None:
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, (now - when).days)


def _release_facts(package: Package, project: dict, now: datetime, values: dict, unknown: dict):
    releases = project.get("releases") or {}
    summary = project.get("release_summary") or release_summary(releases)
    values["latest_version"] = project.get("latest_version") or ""
    if summary["count"]:
        first, latest = summary["first"], summary["latest"]
        values["first_release"] = first
        values["latest_release"] = latest
        values["release_count"] = summary["count"]
        values["days_since_first_release"] = _days(now, first)
        values["days_since_latest_release"] = _days(now, latest)
    else:
        for name in (
            "first_release",
            "latest_release",
            "release_count",
            "days_since_first_release",
            "days_since_latest_release",
        ):
            unknown[name] = "the index lists no release history"
    release = releases.get(package.version)
    if release is None:
        reason = f"the index has no release {package.version}"
        for name in ("version_upload_time", "days_since_version_upload", "version_yanked"):
            unknown[name] = reason
        unknown["yanked_reason"] = reason
        return
    upload, yanked, yanked_reason = release
    if upload:
        values["version_upload_time"] = upload
        values["days_since_version_upload"] = _days(now, upload)
    else:
        unknown["version_upload_time"] = unknown["days_since_version_upload"] = "no files"
    values["version_yanked"] = bool(yanked)
    values["yanked_reason"] = yanked_reason or ""


def _url_facts(project: dict, values: dict) -> None:
    urls = project.get("project_urls") or {}
    candidates = list(urls.items())
    if project.get("home_page"):
        candidates.append(("homepage", project["home_page"]))
    repository = ""
    for label, url in candidates:
        if label.strip().lower() in _REPOSITORY_LABELS and url.startswith("http"):
            repository = url
            break
    if not repository:
        repository = next(
            (u for _, u in candidates if any(h in u.lower() for h in _REPOSITORY_HOSTS)), ""
        )
    # A forge link found by its host may point inside the repository (its CI, issues,
    # changelog): name the repository itself.
    if repository and repository_path(repository) is not None:
        parts = urlsplit(repository)
        owner, name = [s for s in parts.path.split("/") if s][:2]
        repository = f"https://{parts.netloc}/{owner}/{name.removesuffix('.git')}"
    values["source_repository"] = repository
    values["homepage"] = next(
        (u for label, u in candidates if label.lower() in ("homepage", "home", "home page")), ""
    )


def _short_license(text: str | None) -> str:
    # Some projects paste the whole licence text into the field; keep a name-sized value.
    if not text:
        return ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:120]


def _classifier_license(classifiers: list[str]) -> str:
    names = [c.split(" :: ")[-1] for c in classifiers if c.startswith("License ::")]
    return " OR ".join(n for n in names if n != "OSI Approved")


def _hash_facts(package: Package, project: dict, values: dict, unknown: dict) -> None:
    files = (project.get("files") or {}).get(package.version)
    if not files:
        for fact in ("file_hashes", "has_wheel", "file_types"):
            unknown[fact] = "the index lists no files for this version"
        return
    types = {f[2] or ("bdist_wheel" if f[0].endswith(".whl") else "") for f in files}
    values["file_types"] = sorted(t for t in types if t)
    values["has_wheel"] = any(f[0].endswith(".whl") or f[2] == "bdist_wheel" for f in files)
    installed_first = sorted(files, key=lambda f: not _matches_tags(f[0], package.wheel_tags))
    values["file_hashes"] = [f"sha256:{f[1]}" for f in installed_first if f[1]]


def _matches_tags(filename: str, tags: tuple[str, ...]) -> bool:
    if not filename.endswith(".whl") or not tags:
        return False
    parts = filename[:-4].split("-")
    if len(parts) < 5:
        return False
    python, abi, platforms = parts[-3], parts[-2], parts[-1]
    file_tags = {
        f"{p}-{a}-{pl}"
        for p in python.split(".")
        for a in abi.split(".")
        for pl in platforms.split(".")
    }
    return bool(file_tags & set(tags))
