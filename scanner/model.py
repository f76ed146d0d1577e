"""The shared types every stage passes on to the next.

The flow is one-way: inputs -> resolve -> graph -> facts -> rules -> policy -> outputs.
Each stage imports its types from here and never from a sibling stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import networkx as nx

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")


class TrustmapError(Exception):
    """An error the user can cause or fix: printed as one line, never as a traceback.

    `exit_code` follows the documented codes: 2 usage or input error, 3 incomplete data.
    """

    exit_code = 2


class InputError(TrustmapError):
    """A target, file or argument that cannot be read as asked."""


class NetworkError(TrustmapError):
    """The index (or another remote that the scan cannot do without) is unreachable."""


@dataclass(frozen=True)
class Location:
    """Where something was declared: a manifest file and line, or a dist-info folder."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class TargetEnvironment:
    """The Python that markers are evaluated for.

    `markers` is the PEP 508 marker environment (python_version, sys_platform, ...).
    `notes` records how each value was found, for the report.
    """

    markers: Mapping[str, str]
    description: str
    notes: tuple[str, ...] = ()
    # All-platforms mode: a marker holds when it holds for any of these environments.
    alternatives: tuple[Mapping[str, str], ...] = ()

    @property
    def python_version(self) -> str:
        return self.markers.get("python_version", "")

    @property
    def python_full_version(self) -> str:
        """X.Y.Z: what requires-python is checked against (X.Y.0 when only X.Y was given)."""
        return self.markers.get("python_full_version", "")


@dataclass(frozen=True)
class Requirement:
    """A declared requirement (from a manifest, a lockfile or the command line)."""

    name: str  # canonical (PEP 503) name
    specifier: str = ""
    extras: frozenset[str] = frozenset()
    marker: str | None = None
    url: str | None = None  # direct URL, VCS reference or local path
    editable: bool = False
    location: Location | None = None
    hashes: tuple[str, ...] = ()  # "sha256:<hex>"


@dataclass(frozen=True)
class Package:
    """One distribution in the closure, pinned to a version."""

    name: str  # canonical (PEP 503) name: the key everywhere
    version: str
    display_name: str = ""
    summary: str = ""
    license: str = ""  # as declared in the distribution's own metadata
    requires_python: str = ""
    origin: Location | None = None  # dist-info folder, or the lockfile entry
    direct_url: str | None = None  # set when installed from a URL, VCS or local path
    # The index a lockfile locked it from, when that is not PyPI: another index's package
    # of the same name is another project, so PyPI's facts are not its facts.
    index_url: str | None = None
    editable: bool = False
    wheel_tags: tuple[str, ...] = ()  # from the WHEEL file, to match index files
    hashes: tuple[str, ...] = ()  # "sha256:<hex>" of the installed archive, when known
    problems: tuple[str, ...] = ()  # metadata that could not be read or parsed
    declared_at: tuple[Location, ...] = ()  # manifest lines that require it directly

    @property
    def label(self) -> str:
        """How reports name the package: its canonical name (as in every path and list,
        and as installers take it), never one spelling here and another there."""
        return f"{self.name}=={self.version}" if self.version else self.name


@dataclass(frozen=True)
class Edge:
    """`parent` requires `child`. `extra` is the parent's extra that activates it."""

    parent: str
    child: str
    specifier: str = ""
    marker: str | None = None
    extra: str | None = None
    satisfied: bool = True  # False: the installed version does not match the specifier
    extra_inferred: bool = False  # the extra was judged installed because all of its
    # requirements are present, not because anything asked for it


@dataclass(frozen=True)
class Problem:
    """Something about the input that the user should know: a missing or unsatisfied
    requirement, unreadable metadata, a target setting that had to be guessed."""

    kind: str  # "missing-requirement", "unsatisfied-requirement", "bad-metadata", ...
    message: str
    package: str | None = None
    location: Location | None = None
    fatal: bool = False  # an input error: the scan completes but exits with code 2


@dataclass(frozen=True)
class Resolution:
    """What an input stage (or the resolver) hands on: pinned packages and their edges."""

    packages: tuple[Package, ...]
    edges: tuple[Edge, ...]
    target: TargetEnvironment
    source: str  # what was scanned, for the report
    roots: tuple[str, ...] | None = None  # direct requirements, when the input knows them
    problems: tuple[Problem, ...] = ()
    document: Mapping[str, Any] | None = None  # an input SBOM, which outputs annotate
    requests_sent: int = 0  # by the resolver, for the report's count of all requests
    notes: tuple[str, ...] = ()  # what the report must say about how it was resolved


@dataclass(frozen=True)
class Facts:
    """Facts about one package: plain values under the names listed in scanner.facts.schema.

    A fact that could not be found out is absent from `values` and present in `unknown`
    with the reason; rule conditions see it as null.
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    unknown: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.values.get(name)


@dataclass(frozen=True)
class Finding:
    """A rule that fired for a package, with the fact values that made it fire."""

    rule_id: str
    package: str
    severity: Severity
    title: str
    evidence: Mapping[str, Any]
    # Rules that also fired for this package and that this finding stands for (its rule
    # `supersedes` them): one cause is reported once, not once per rule that sees it.
    covers: tuple[str, ...] = ()
    detail: str = ""  # the rule's `detail` filled from the evidence ("like requests")


@dataclass(frozen=True)
class Undetermined:
    """A rule that could not be decided for a package because facts it needs are unknown.

    Never a pass: the report lists these, and a fail-closed gate counts them."""

    rule_id: str
    package: str
    severity: Severity
    missing: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RuleInfo:
    """What outputs show of a rule beyond its findings: the text of its rule file, as
    configured for this scan (filled by scanner.scan from the RuleSet)."""

    id: str
    title: str
    severity: Severity
    category: str = ""
    motivation: str = ""
    remediation: str = ""
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScanResult:
    """Everything a report needs. `graph` nodes are canonical names with a `package`
    attribute; edges carry an `edge` attribute (model.Edge)."""

    resolution: Resolution
    graph: nx.DiGraph  # built by scanner.graph
    facts: Mapping[str, Facts]
    findings: tuple[Finding, ...]
    undetermined: tuple[Undetermined, ...]
    notes: tuple[str, ...] = ()  # data sources used, caches, degraded enrichment
    # The figures every report leads with, computed once by scanner.summary; outputs read
    # it and never recompute it. None only on a result built by hand, before that stage.
    summary: Summary | None = None
    # What the policy stage decided (scanner.policy.decide): set by the command that
    # applied a policy (`gate`), None for a plain scan. Outputs read it to say what is new.
    verdict: Verdict | None = None
    # The enabled rules by id, for outputs that describe the rules they report (SARIF).
    rules: Mapping[str, RuleInfo] = field(default_factory=dict)

    @property
    def packages(self) -> dict[str, Package]:
        return {p.name: p for p in self.resolution.packages}


@dataclass(frozen=True)
class Publishers:
    """Who can publish a package: its accounts and organisation ("" for none)."""

    accounts: frozenset[str]
    organization: str = ""


@dataclass(frozen=True)
class Snapshot:
    """What one scan saw, reduced to what a gate and `diff` compare: the pinned versions,
    which checks fired or could not be decided for which package, and who could publish
    each package (absent: not known). Made from a ScanResult or read back from a saved
    JSON or CycloneDX output."""

    source: str
    packages: Mapping[str, str]  # canonical name -> version ("" when not pinned)
    findings: frozenset[tuple[str, str]] = frozenset()  # (package, rule id)
    undetermined: frozenset[tuple[str, str]] = frozenset()
    publishers: Mapping[str, Publishers] = field(default_factory=dict)
    titles: Mapping[tuple[str, str], str] = field(default_factory=dict)  # finding -> title
    severities: Mapping[tuple[str, str], Severity] = field(default_factory=dict)


@dataclass(frozen=True)
class GateItem:
    """One entry of a gate's verdict: a finding, an undetermined check or a denied
    package, with why it counts as new (or that it is not)."""

    kind: Literal["finding", "undetermined", "denied", "allowlist"]
    package: str
    rule_id: str
    severity: Severity
    message: str  # the rule's title, or why it is undetermined
    why_new: str = ""  # "new package", "1.0 -> 2.0", "new finding", ... ("" when existing)
    exception: str = ""  # the exception that excepts it: reason and where it is written


@dataclass(frozen=True)
class Verdict:
    """What the policy stage decided about a ScanResult: pass, fail (a finding at or
    above the threshold) or incomplete (a check that could reach it is undetermined),
    each with the reasons. The exit code follows the documented codes.

    The gate fills in the rest: what failed, what is unknown, what was excepted and what
    merely exists (in the baseline too), and notes (expired exceptions, a policy that
    changed in the same change)."""

    outcome: Literal["pass", "fail", "incomplete"]
    reasons: tuple[str, ...] = ()
    failed: tuple[GateItem, ...] = ()
    unknown: tuple[GateItem, ...] = ()
    excepted: tuple[GateItem, ...] = ()
    existing: tuple[GateItem, ...] = ()
    notes: tuple[str, ...] = ()
    fail_on: Severity | None = None
    baseline: str | None = None  # what the change was compared with
    # Every finding and undetermined check of the scan, of any severity, that is new
    # relative to the baseline: (package, rule id) -> why ("new package", "new finding",
    # ...). Without a baseline every one is new; outputs (SARIF's baselineState) read it.
    new: Mapping[tuple[str, str], str] = field(default_factory=dict)
    policy_changes: tuple[str, ...] = ()  # the policy itself changed in this change
    # Which policy decided: the gate's thresholds, or the allowlist (`allowlist check`,
    # whose items are packages not allowed; `allowed` says what allows each of the rest).
    policy: Literal["gate", "allowlist"] = "gate"
    allowed: Mapping[str, str] = field(default_factory=dict)  # package -> what allows it
    source: str = ""  # the allowlist file that judged it

    def is_new(self, package: str, rule_id: str) -> bool:
        return (package, rule_id) in self.new

    @property
    def exit_code(self) -> int:
        return {"pass": 0, "fail": 1, "incomplete": 3}[self.outcome]


# --- the allowlist (scanner.inputs.allowlist_file reads it, scanner.policy.allowlist checks)


@dataclass(frozen=True)
class Approval:
    """Who approved something, when, why and until when; `where` is FILE:LINE."""

    reason: str
    approved_by: str
    approved_on: date
    expires: date | None = None
    where: str = ""

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires


@dataclass(frozen=True)
class ApprovedFacts:
    """What a package was approved on, in the shape the check compares. None: not known
    at approval (then it cannot re-open the approval). `provenance` is the PEP 740
    identity, `KIND OWNER/REPO WORKFLOW`, or "" when the file was not attested."""

    publishers: tuple[str, ...] | None = None
    organization: str | None = None
    repository: str | None = None
    provenance: str | None = None


@dataclass(frozen=True)
class AllowedPackage:
    """An entry of the allowlist: `versions` a PEP 440 specifier ("" any version),
    `hashes` the allowed files ("sha256:<hex>"; empty: any file of an allowed version)."""

    name: str  # canonical
    approval: Approval
    versions: str = ""
    hashes: tuple[str, ...] = ()
    facts: ApprovedFacts = ApprovedFacts()
    baseline: bool = False  # written by `allowlist init`: in use when the list was started


@dataclass(frozen=True)
class TrustedOrganization:
    """A PyPI organisation whose packages are allowed while the accounts that can publish
    them are among `members` (recorded at approval; None: not recorded)."""

    name: str
    approval: Approval
    members: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TrustedAccount:
    """A PyPI account: a package all of whose publishers are trusted accounts is allowed."""

    name: str
    approval: Approval


@dataclass(frozen=True)
class TrustedPublisher:
    """A provenance identity (PEP 740 trusted publisher): packages whose file was attested
    by a matching `kind` ("" any), `repository` and `workflow` (globs) are allowed.
    `packages`: those it covered at approval, re-opened when they stop matching."""

    repository: str
    approval: Approval
    workflow: str = "*"
    kind: str = ""
    packages: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        kind = f"{self.kind} " if self.kind else ""
        return f"{kind}{self.repository} {self.workflow}"


ALLOWLIST_NAME = "trustmap-allowlist.toml"  # the allowlist file's default name


@dataclass(frozen=True)
class Allowlist:
    """Whom a project trusts to ship code into it (`trustmap-allowlist.toml`)."""

    source: str  # the file, for messages
    packages: Mapping[str, AllowedPackage] = field(default_factory=dict)
    organizations: Mapping[str, TrustedOrganization] = field(default_factory=dict)
    accounts: Mapping[str, TrustedAccount] = field(default_factory=dict)
    publishers: tuple[TrustedPublisher, ...] = ()


@dataclass(frozen=True)
class IndexFile:
    """One file of a project on the index, as an exported simple index lists it."""

    filename: str
    url: str  # absolute
    sha256: str  # hex
    version: str
    requires_python: str = ""
    yanked: str | None = None  # the reason ("" none given) when yanked, else None


# --- what the summary stage computes (scanner.summary), read by every output -------------


@dataclass(frozen=True)
class BlastRadius:
    """How much of the closure runs a package's code.

    `dependents`: packages that depend on it, directly or not. `top_level`: top-level
    packages (direct requirements) whose closure holds it, itself included when it is one.
    """

    dependents: int
    top_level: int


@dataclass(frozen=True)
class PackageRisk:
    """A package's graph-aware risk (scanner.risk says how it is scored)."""

    name: str
    score: float  # findings_score x reach_factor
    findings_score: float
    reach_factor: float
    dependents: int  # packages that depend on it, directly or not
    top_level: int  # top-level packages whose closure holds it (itself included)
    findings: tuple[tuple[str, Severity], ...]  # (rule id, severity), most severe first
    undetermined: int  # rule checks that could not be decided

    def as_dict(self) -> dict:
        return {
            "score": self.score,
            "findings_score": self.findings_score,
            "reach_factor": self.reach_factor,
            "dependents": self.dependents,
            "top_level_reached": self.top_level,
        }


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
    """The figures every report leads with: the counts, where to look first (graph-aware
    risk), who can ship code here (publishing accounts), and per package its risk, blast
    radius, shortest path from a top-level package and publishers."""

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
    # An account that can publish at least this many packages is reported as a
    # concentration of power.
    concentration_threshold: int
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
    # Every publishing account, the most packages first (top_accounts is its head), for
    # the outputs that chart more than a few.
    accounts: list[AccountShare] = field(default_factory=list, repr=False)

    @property
    def publishers_exact(self) -> bool:
        """Whether `publishing_accounts` and `organizations` count every package's
        publishers; when ownership is unknown for some, they are lower bounds."""
        return self.ownership_unknown == 0

    @property
    def ownership_known(self) -> int:
        """Third-party packages whose publishers are known."""
        first_party = set(self.first_party)
        return sum(
            1
            for name, owner in self.owners.items()
            if owner.accounts is not None and name not in first_party
        )

    def as_dict(self) -> dict:
        return {
            "packages": self.packages,
            "top_level_packages": self.top_level,
            "edges": self.edges,
            "publishing_accounts": self.publishing_accounts,
            "organizations": self.organizations,
            "publishing_accounts_exact": self.publishers_exact,
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
            "concentration_threshold": self.concentration_threshold,
            "not_checked": [item.as_dict() for item in self.not_checked],
            "undetermined_by_fact": self.undetermined_by_fact,
        }


@dataclass(frozen=True)
class PathsFromTop:
    """Paths from top-level packages to one package: the first `limit`, shortest first,
    and how many there are in all (`exact` False: at least `total`, counting stopped)."""

    paths: list[list[str]]
    total: int
    exact: bool


@dataclass(frozen=True)
class Explanation:
    """What `trustmap explain NAME` shows about one package beyond the ScanResult
    (built by scanner.explain; drawn by scanner.report.explain)."""

    package: Package
    summary: Summary
    paths: PathsFromTop
    dependents: list[str]  # every package that depends on it, directly or not
    required_by: list[str]  # the packages that require it directly
    requires: list[str]  # its direct dependencies
