"""Release facts: the project's release history (first, newest, how many), the pinned
version's upload and yanking, its files on the index (hashes, wheels) and its known
vulnerabilities."""

from __future__ import annotations

from datetime import UTC, datetime

from scanner.model import Package
from scanner.records import IndexRecord, Project
from scanner.wheels import matches_tags

# The dates of the release history, and of the pinned version's upload.
RELEASE_HISTORY_DATE_FACTS = (
    "first_release",
    "latest_release",
    "days_since_first_release",
    "days_since_latest_release",
)
VERSION_DATE_FACTS = ("version_upload_time", "days_since_version_upload")
_HISTORY_FACTS = (
    "first_release",
    "latest_release",
    "release_count",
    "days_since_first_release",
    "days_since_latest_release",
)


def days_since(now: datetime, iso: str | None) -> int | None:
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, (now - when).days)


def release_facts(
    package: Package,
    project: Project,
    now: datetime,
    values: dict,
    unknown: dict,
    index: str = "the index",
) -> None:
    """`index`: how the reasons name the index that was asked (another index a lockfile
    names is named by its URL)."""
    summary = project.release_summary
    values["latest_version"] = project.latest_version
    if summary.count:
        values["first_release"] = summary.first
        values["latest_release"] = summary.latest
        values["release_count"] = summary.count
        values["days_since_first_release"] = days_since(now, summary.first)
        values["days_since_latest_release"] = days_since(now, summary.latest)
    else:
        for name in _HISTORY_FACTS:
            unknown[name] = f"{index} lists no release history"
    release = project.releases.get(package.version)
    if release is None:
        reason = f"{index} has no release {package.version}"
        for name in ("version_upload_time", "days_since_version_upload", "version_yanked"):
            unknown[name] = reason
        unknown["yanked_reason"] = reason
        return
    if release.upload_time:
        values["version_upload_time"] = release.upload_time
        values["days_since_version_upload"] = days_since(now, release.upload_time)
    else:
        unknown["version_upload_time"] = unknown["days_since_version_upload"] = "no files"
    values["version_yanked"] = release.yanked
    values["yanked_reason"] = release.yanked_reason


def file_facts(
    package: Package, project: Project, values: dict, unknown: dict, index: str = "the index"
) -> None:
    files = project.files_of(package.version)
    if not files:
        for fact in ("file_hashes", "has_wheel", "file_types"):
            unknown[fact] = f"{index} lists no files for this version"
        return
    types = {f.packagetype or ("bdist_wheel" if f.filename.endswith(".whl") else "") for f in files}
    values["file_types"] = sorted(t for t in types if t)
    values["has_wheel"] = any(f.is_wheel for f in files)
    installed_first = sorted(files, key=lambda f: not matches_tags(f.filename, package.wheel_tags))
    values["file_hashes"] = [f"sha256:{f.sha256}" for f in installed_first if f.sha256]


def vulnerability_facts(record: IndexRecord, values: dict, unknown: dict) -> None:
    if record.version_vulnerabilities is None:
        reason = record.vulnerabilities_unknown or "not known"
        for name in ("vulnerabilities", "vulnerability_count", "vulnerability_ids"):
            unknown[name] = reason
        unknown["fixed_versions"] = reason
        return
    vulns = [dict(v) for v in record.version_vulnerabilities if not v.get("withdrawn")]
    values["vulnerabilities"] = vulns
    values["vulnerability_count"] = len(vulns)
    values["vulnerability_ids"] = sorted(
        {i for v in vulns for i in (v.get("id"), *(v.get("aliases") or ())) if i}
    )
    values["fixed_versions"] = sorted({f for v in vulns for f in v.get("fixed_in") or ()})
