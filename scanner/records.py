"""The typed records the sources hand to the facts stage: what an index said about a
project (its releases, files, ownership, vulnerabilities), a file's PEP 740 provenance,
the usage dataset, the scan history's ownership, and the answers of the sources the
gather stage loops over.

Both `scanner.sources` (which builds them) and `scanner.facts` (which reads them) import
them from here, so the facts stage never imports the sources. Every record is frozen.
What is cached is (de)serialised explicitly, by `to_dict`/`from_dict`: the cache holds
plain JSON, never positional lists whose slots must be remembered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# A vulnerability as the index lists it: {id, aliases, fixed_in, link, summary, withdrawn}.
# Kept a map: rule conditions read it as one (`facts.vulnerabilities`).
Vulnerability = Mapping[str, Any]


class FailureCause(Enum):
    """Why an answer is missing, set where it went missing (the fetcher, a source), so
    that later stages tell one cause from another by this value, never by the words of
    the reason that goes with it."""

    OFFLINE = "offline"  # offline, and not in the cache
    NOT_FOUND = "not-found"  # the index has no such page (HTTP 404/410)
    REFUSED = "refused"  # the index refused access (HTTP 401/403)
    UNREACHABLE = "unreachable"  # no connection, or no answer within the request's time
    BAD_ANSWER = "bad-answer"  # an HTTP error, a redirect off the host, an unreadable body
    TIME_LIMIT = "time-limit"  # the scan's own time limit ran out: nothing about the index
    INVALID_NAME = "invalid-name"  # not a project name: never asked
    NOT_SERVED = "not-served"  # the index lists the project but serves no JSON API for it
    SWITCHED_OFF = "switched-off"  # another index a lockfile names: asking it is switched off
    NOT_ASKED = "not-asked"  # another index a lockfile names, at a URL that is not asked

    @property
    def index_failed(self) -> bool:
        """The index itself failed to answer (not the scan's limits, not the data)."""
        return self in (FailureCause.REFUSED, FailureCause.UNREACHABLE, FailureCause.BAD_ANSWER)

    @property
    def host_down(self) -> bool:
        """Nothing more is to be had from that host in this scan: its other pages are
        not asked."""
        return self in (FailureCause.UNREACHABLE, FailureCause.TIME_LIMIT)


@dataclass(frozen=True)
class ReleaseFile:
    """One file of a release on an index. Its URL is not kept: nothing downloads files,
    and URLs are most of the bytes."""

    filename: str
    sha256: str  # "" when the index gives none (or not a sha256)
    packagetype: str  # "bdist_wheel", "sdist", ... ("" when not said)
    upload_time: str | None  # ISO 8601
    yanked: bool = False

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl") or self.packagetype == "bdist_wheel"

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "sha256": self.sha256,
            "packagetype": self.packagetype,
            "upload_time": self.upload_time,
            "yanked": self.yanked,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReleaseFile:
        return cls(
            filename=data["filename"],
            sha256=data["sha256"],
            packagetype=data["packagetype"],
            upload_time=data["upload_time"],
            yanked=bool(data["yanked"]),
        )


@dataclass(frozen=True)
class Release:
    """One release (version) of a project: its first upload, and whether it is yanked."""

    upload_time: str | None  # the earliest upload of its files; None when it has none
    yanked: bool = False  # every file of it is yanked (PEP 592)
    yanked_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "upload_time": self.upload_time,
            "yanked": self.yanked,
            "yanked_reason": self.yanked_reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Release:
        return cls(data["upload_time"], bool(data["yanked"]), data["yanked_reason"] or "")


@dataclass(frozen=True)
class ReleaseSummary:
    """First and newest upload over the releases that have files, and how many there
    are: worked out once at extraction (boto3 has thousands of releases)."""

    first: str | None = None
    latest: str | None = None
    count: int = 0

    @classmethod
    def of(cls, releases: Mapping[str, Release]) -> ReleaseSummary:
        uploads = [r.upload_time for r in releases.values() if r.upload_time]
        if not uploads:
            return cls()
        return cls(min(uploads), max(uploads), len(uploads))

    def to_dict(self) -> dict[str, Any]:
        return {"first": self.first, "latest": self.latest, "count": self.count}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReleaseSummary:
        return cls(data["first"], data["latest"], int(data["count"]))


@dataclass(frozen=True)
class Role:
    """An account's role on a project (PyPI's `ownership.roles`)."""

    user: str
    role: str

    def to_dict(self) -> dict[str, str]:
        return {"user": self.user, "role": self.role}


@dataclass(frozen=True)
class Ownership:
    """Who can publish a project (PyPI's JSON API `ownership`)."""

    organization: str  # "" when it belongs to none
    roles: tuple[Role, ...] = ()

    @property
    def publishers(self) -> tuple[str, ...]:
        """The accounts that can publish, sorted, each once."""
        return tuple(sorted({r.user for r in self.roles}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "organization": self.organization or None,
            "roles": [r.to_dict() for r in self.roles],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ownership:
        return cls(
            data.get("organization") or "",
            tuple(Role(r["user"], r["role"]) for r in data.get("roles") or ()),
        )


@dataclass(frozen=True)
class Project:
    """What an index said about one project, cut to the facts' size. From PyPI's JSON
    API, or from another index's simple API (which says no more than its files: no
    ownership, project URLs, licence or vulnerabilities)."""

    name: str
    latest_version: str = ""
    # Kept for the versions asked about only; `release_versions` lists them all.
    releases: Mapping[str, Release] = field(default_factory=dict)
    release_versions: tuple[str, ...] = ()
    release_summary: ReleaseSummary = ReleaseSummary()
    files: Mapping[str, tuple[ReleaseFile, ...]] = field(default_factory=dict)
    ownership: Ownership | None = None
    # None: the index lists none (a simple index), not "it has none".
    latest_vulnerabilities: tuple[Vulnerability, ...] | None = ()
    summary: str = ""
    license: str = ""
    license_expression: str = ""
    classifiers: tuple[str, ...] = ()  # the licence classifiers only
    home_page: str = ""
    project_urls: Mapping[str, str] = field(default_factory=dict)
    latest_yanked: bool = False
    # From another index's simple API: "json" or "html", and the page that answered.
    api: str = ""
    index_page: str = ""

    def files_of(self, version: str) -> tuple[ReleaseFile, ...]:
        return self.files.get(version, ())

    def to_dict(self) -> dict[str, Any]:
        vulnerabilities = self.latest_vulnerabilities
        return {
            "name": self.name,
            "latest_version": self.latest_version,
            "releases": {v: r.to_dict() for v, r in self.releases.items()},
            "release_versions": list(self.release_versions),
            "release_summary": self.release_summary.to_dict(),
            "files": {v: [f.to_dict() for f in files] for v, files in self.files.items()},
            "ownership": self.ownership.to_dict() if self.ownership else None,
            "latest_vulnerabilities": (
                None if vulnerabilities is None else [dict(v) for v in vulnerabilities]
            ),
            "summary": self.summary,
            "license": self.license,
            "license_expression": self.license_expression,
            "classifiers": list(self.classifiers),
            "home_page": self.home_page,
            "project_urls": dict(self.project_urls),
            "latest_yanked": self.latest_yanked,
            "api": self.api,
            "index_page": self.index_page,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Project:
        vulnerabilities = data["latest_vulnerabilities"]
        ownership = data["ownership"]
        return cls(
            name=data["name"],
            latest_version=data["latest_version"],
            releases={v: Release.from_dict(r) for v, r in data["releases"].items()},
            release_versions=tuple(data["release_versions"]),
            release_summary=ReleaseSummary.from_dict(data["release_summary"]),
            files={
                v: tuple(ReleaseFile.from_dict(f) for f in files)
                for v, files in data["files"].items()
            },
            ownership=Ownership.from_dict(ownership) if ownership is not None else None,
            latest_vulnerabilities=None if vulnerabilities is None else tuple(vulnerabilities),
            summary=data["summary"],
            license=data["license"],
            license_expression=data["license_expression"],
            classifiers=tuple(data["classifiers"]),
            home_page=data["home_page"],
            project_urls=dict(data["project_urls"]),
            latest_yanked=bool(data["latest_yanked"]),
            api=data["api"],
            index_page=data["index_page"],
        )


@dataclass(frozen=True)
class Provenance:
    """What the index says about the PEP 740 provenance of one file."""

    filename: str
    status: str  # "attested", "none", "unknown"
    publishers: tuple[Mapping[str, str], ...] = ()  # {kind, repository, workflow, environment}
    reason: str = ""  # why it is unknown
    # The same for the release before this one (its version), which this one's
    # publisher identity is compared with; None when there is none or it was not asked.
    previous: Provenance | None = None
    previous_version: str = ""
    # Whether the index serves PEP 740 provenance at all; None when that is not known.
    served: bool | None = None

    @property
    def publisher(self) -> Mapping[str, str]:
        return self.publishers[0] if self.publishers else {}


@dataclass(frozen=True)
class IndexRecord:
    """What the index said about one project, for one installed version, with the pinned
    file's provenance. Built once, when all of it is known."""

    name: str
    status: str  # "found", "not-found", "unknown"
    project: Project | None = None
    version_vulnerabilities: tuple[Vulnerability, ...] | None = None
    vulnerabilities_unknown: str = ""
    reason: str = ""  # why facts are unknown, when they are
    # Why, as a value (None when found): what later stages decide on, never `reason`.
    cause: FailureCause | None = None
    stale: bool = False  # answered from a cache entry older than its time-to-live
    stale_because: str = ""  # the index's failure that made it so ("" when offline)
    notes: tuple[str, ...] = ()
    # PEP 740 provenance of the pinned file; None when it was not asked.
    provenance: Provenance | None = None
    # The index a lockfile locked it from, when the record comes from there (not the
    # configured index): its facts are that index's, never PyPI's.
    other_index: str = ""

    @property
    def ownership(self) -> Ownership | None:
        """The project's ownership, when the index found it and publishes it."""
        if self.status != "found" or self.project is None:
            return None
        return self.project.ownership


@dataclass(frozen=True)
class TopPackages:
    """The top-PyPI-packages dataset."""

    counts: Mapping[str, int]  # canonical name -> downloads over 30 days
    ranks: Mapping[str, int]  # canonical name -> 1-based rank
    snapshot_date: str
    origin: str  # "bundled snapshot" or the URL it was refreshed from

    @property
    def size(self) -> int:
        return len(self.ranks)


@dataclass(frozen=True)
class OwnershipRecord:
    """Who could publish a package at the last scan that saw it (scan history)."""

    publishers: tuple[str, ...]  # sorted
    organization: str  # "" when none
    first_seen: float  # when this ownership was first seen
    last_seen: float  # the last scan that saw it unchanged


# Why the enrichment facts are unknown: their sources are switched off (and the facts
# stage says the same when it is given no answer from them).
NOT_GATHERED = (
    "not gathered: the enrichment source that gives it (GitHub, deps.dev, OSV, Scorecard, "
    "pypistats) was not asked"
)


@dataclass(frozen=True)
class SourceAnswer:
    """What the sources the gather stage loops over said about one package: the facts
    they know, and for each other fact they provide, why it is unknown."""

    values: Mapping[str, Any] = field(default_factory=dict)
    unknown: Mapping[str, str] = field(default_factory=dict)

    def merged(self, other: SourceAnswer) -> SourceAnswer:
        return SourceAnswer({**self.values, **other.values}, {**self.unknown, **other.unknown})


# The facts the scan history gives (what the last scan saw of each package's ownership):
# named here, where the history source and its derivation both read them.
HISTORY_FACTS = (
    "previous_publishers",
    "previous_organization",
    "publishers_added",
    "publishers_removed",
    "organization_changed",
    "ownership_changed",
    "ownership_last_seen",
)
