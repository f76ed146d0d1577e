"""Fact derivation: `build_facts` is a pure function of what the sources returned
(`GatheredData`) for one package, family by family (ownership, releases, repository,
usage and names, provenance, history, accounts). A fact that could not be found out is left
out of `Facts.values` and put in `Facts.unknown` with the reason, so rule conditions see
null and the report can say why; never a value that looks safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scanner.facts.schema import INDEX_FACTS, POPULAR_TARGETS
from scanner.model import Facts, Package
from scanner.names import FORGES, NameIndex, glob_match, repository_names_project, repository_path
from scanner.sources.provenance import Provenance
from scanner.sources.pypi import IndexRecord, release_summary
from scanner.sources.usage import TopPackages
from scanner.store import OwnershipRecord

_REPOSITORY_LABELS = ("source", "source code", "repository", "code", "github", "gitlab", "git")
_REPOSITORY_HOSTS = ("github.com/", "gitlab.com/", "bitbucket.org/", "codeberg.org/", "sr.ht/")


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
    index_facts = INDEX_FACTS
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
