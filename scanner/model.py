"""The shared types every stage passes on to the next.

The flow is one-way: inputs -> resolve -> graph -> facts -> rules -> policy -> outputs.
Each stage imports its types from here and never from a sibling stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Undetermined:
    """A rule that could not be decided for a package because facts it needs are unknown.

    Never a pass: the report lists these, and a fail-closed gate counts them."""

    rule_id: str
    package: str
    severity: Severity
    missing: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass
class ScanResult:
    """Everything a report needs. `graph` nodes are canonical names with a `package`
    attribute; edges carry an `edge` attribute (model.Edge)."""

    resolution: Resolution
    graph: nx.DiGraph  # built by scanner.graph
    facts: Mapping[str, Facts]
    findings: tuple[Finding, ...]
    undetermined: tuple[Undetermined, ...]
    notes: tuple[str, ...] = ()  # data sources used, caches, degraded enrichment

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

    kind: Literal["finding", "undetermined", "denied"]
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

    @property
    def exit_code(self) -> int:
        return {"pass": 0, "fail": 1, "incomplete": 3}[self.outcome]
