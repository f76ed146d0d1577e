"""Facts: the one documented schema of what is known about a package, and how it is
gathered from the sources.

`FACTS` is the schema (shown by `trustmap rules facts`). `build_facts` is a pure function
of what the sources returned; `gather_facts` runs the sources. A fact that could not be
found out is left out of `Facts.values` and put in `Facts.unknown` with the reason, so
rule conditions see null and the report can say why; never a value that looks safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scanner.model import Facts, Package
from scanner.sources.http import Fetcher
from scanner.sources.pypi import IndexRecord, PyPISource, lookup_all
from scanner.sources.usage import TopPackages, load_top_packages


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
    FactSpec("top_level", "bool", "graph", "Nothing in the closure requires this package."),
    FactSpec("dependents", "int", "graph", "How many packages depend on it, directly or not."),
    FactSpec(
        "known_to_index",
        "bool",
        "index",
        "The index has a project of this name (false: local "
        "or internal package, or a name that was removed).",
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
)
FACT_NAMES = frozenset(spec.name for spec in FACTS)

_REPOSITORY_LABELS = ("source", "source code", "repository", "code", "github", "gitlab", "git")
_REPOSITORY_HOSTS = ("github.com/", "gitlab.com/", "bitbucket.org/", "codeberg.org/", "sr.ht/")


@dataclass(frozen=True)
class GatheredData:
    """What the sources said, before it is turned into facts."""

    index: dict[str, IndexRecord]
    top_packages: TopPackages
    notes: tuple[str, ...]


async def gather(
    packages: Iterable[Package],
    fetcher: Fetcher,
    source: PyPISource,
    on_done: Callable[[str], None] | None = None,
) -> GatheredData:
    packages = list(packages)
    usage_task = asyncio.create_task(load_top_packages(fetcher))
    index = await lookup_all(source, ((p.name, p.version) for p in packages), on_done)
    top, usage_note = await usage_task
    notes = [f"usage: top-PyPI-packages dataset of {top.snapshot_date} ({top.origin})"]
    if usage_note:
        notes.append(usage_note)
    return GatheredData(index=index, top_packages=top, notes=tuple(notes))


def build_facts(
    package: Package,
    record: IndexRecord | None,
    top: TopPackages,
    graph_facts: dict[str, Any],
    now: datetime | None = None,
) -> Facts:
    now = now or datetime.now(UTC)
    values: dict[str, Any] = {
        "name": package.name,
        "version": package.version,
        "direct_url": package.direct_url or "",
        "editable": package.editable,
        **graph_facts,
    }
    unknown: dict[str, str] = {}
    _usage_facts(package.name, top, values, unknown)
    index_facts = [s.name for s in FACTS if "index" in s.source and s.name not in ("license",)]
    if record is None or record.status == "unknown":
        reason = record.reason if record else "not looked up"
        for name in index_facts:
            unknown[name] = reason
        if package.license:
            values["license"] = package.license
        else:
            unknown["license"] = reason
        return Facts(values, unknown)
    if record.status == "not-found":
        values["known_to_index"] = False
        for name in index_facts:
            if name != "known_to_index":
                unknown[name] = "the index has no record of this package"
        if package.license:
            values["license"] = package.license
        return Facts(values, unknown)
    project = record.project or {}
    values["known_to_index"] = True
    _ownership_facts(project, values, unknown)
    _release_facts(package, project, now, values, unknown)
    _url_facts(project, values)
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
    else:
        reason = record.vulnerabilities_unknown or "not known"
        unknown["vulnerabilities"] = unknown["vulnerability_count"] = reason
    _hash_facts(package, project, values, unknown)
    return Facts(values, unknown)


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
    uploads = [r[0] for r in releases.values() if r and r[0]]
    values["latest_version"] = project.get("latest_version") or ""
    if uploads:
        first, latest = min(uploads), max(uploads)
        values["first_release"] = first
        values["latest_release"] = latest
        values["release_count"] = len(uploads)
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
        unknown["file_hashes"] = "the index lists no files for this version"
        return
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
