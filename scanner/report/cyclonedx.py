"""CycloneDX 1.6 SBOM (JSON or XML) of a scan, built with cyclonedx-python-lib.

Every package is a component with its purl, hashes, licences and external references; the
dependency graph is written out in full; facts, unknown facts, findings and undetermined
rules travel as `trustmap:`-namespaced properties.

Everything that came from an index or a repository is untrusted text: it is stripped of the
characters XML 1.0 cannot carry and capped in length before it reaches the document, and a
value the library rejects is left out rather than failing the render.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from cyclonedx.model import (
    AttachedText,
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.spdx import fixup_id as spdx_fixup_id
from cyclonedx.spdx import is_expression as is_spdx_expression
from packageurl import PackageURL

from scanner.model import SEVERITIES, Facts, Package, ScanResult

SCHEMA_VERSION = SchemaVersion.V1_6
OUTPUT_FORMATS = {"json": OutputFormat.JSON, "xml": OutputFormat.XML}

PREFIX = "trustmap:"
ROOT_REF = "trustmap:scan-target"
MAX_TEXT = 4000
MAX_VERSION = 1024  # the schema's maxLength for a version
MAX_NAME = 200  # property names, licence names: identifiers, not prose
MAX_HASHES = 256

# Facts the summary counts accounts and organisations from.
ACCOUNTS_FACT = "publishing_accounts"
ORGANIZATION_FACT = "organization"

# Facts holding URLs, and the kind of external reference each becomes.
URL_FACTS: tuple[tuple[str, ExternalReferenceType], ...] = (
    ("source_repository", ExternalReferenceType.VCS),
    ("homepage", ExternalReferenceType.WEBSITE),
    ("documentation", ExternalReferenceType.DOCUMENTATION),
    ("issue_tracker", ExternalReferenceType.ISSUE_TRACKER),
    ("index_url", ExternalReferenceType.DISTRIBUTION),
)
# Anything else (javascript:, data:, file:) has no business in an SBOM link.
URL_SCHEMES = frozenset(
    {"http", "https", "git", "git+https", "git+http", "git+ssh", "ssh", "svn", "svn+ssh"}
)

# XML 1.0 allows tab, LF, CR, and U+0020 upwards minus surrogates and U+FFFE/U+FFFF. DEL and
# the C1 controls are allowed but go too: they only ever serve to drive a terminal.
_NOT_XML_TEXT = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_HEX = re.compile(r"[0-9a-fA-F]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 3986 reserved and unreserved characters, left as they are when percent-encoding a URL.
_URL_SAFE = "!$&'()*+,/:;=?@-._~%"

_HASH_ALGORITHMS: dict[str, tuple[HashAlgorithm, int]] = {
    "md5": (HashAlgorithm.MD5, 32),
    "sha1": (HashAlgorithm.SHA_1, 40),
    "sha256": (HashAlgorithm.SHA_256, 64),
    "sha384": (HashAlgorithm.SHA_384, 96),
    "sha512": (HashAlgorithm.SHA_512, 128),
    "sha3_256": (HashAlgorithm.SHA3_256, 64),
    "sha3-256": (HashAlgorithm.SHA3_256, 64),
    "sha3_384": (HashAlgorithm.SHA3_384, 96),
    "sha3-384": (HashAlgorithm.SHA3_384, 96),
    "sha3_512": (HashAlgorithm.SHA3_512, 128),
    "sha3-512": (HashAlgorithm.SHA3_512, 128),
}


def render_cyclonedx(
    result: ScanResult,
    output_format: str,
    tool_version: str,
    *,
    timestamp: datetime | None = None,
) -> str:
    """The scan as a CycloneDX 1.6 document in `output_format` ("json" or "xml").

    `timestamp` defaults to now; pass one for reproducible output.
    """
    try:
        cdx_format = OUTPUT_FORMATS[output_format]
    except KeyError:
        raise ValueError(
            f"unknown CycloneDX format {output_format!r}: expected one of {sorted(OUTPUT_FORMATS)}"
        ) from None
    bom = build_bom(result, tool_version, timestamp=timestamp)
    return make_outputter(bom, cdx_format, SCHEMA_VERSION).output_as_string(indent=2)


def build_bom(result: ScanResult, tool_version: str, *, timestamp: datetime | None = None) -> Bom:
    """The library's Bom for a scan (exposed so callers can post-process it)."""
    packages = _packages_in(result)
    top_level = _top_level_names(result, packages)
    findings_by_package: dict[str, list[Property]] = {}
    for finding in result.findings:
        key = PREFIX + "finding:" + clean(finding.rule_id, MAX_NAME)
        findings_by_package.setdefault(finding.package, []).extend(
            (
                Property(name=key, value=clean(f"{finding.severity}: {finding.title}")),
                Property(name=key + ":evidence", value=clean(to_json(finding.evidence))),
            )
        )
    for undetermined in result.undetermined:
        findings_by_package.setdefault(undetermined.package, []).append(
            Property(
                name=PREFIX + "undetermined:" + clean(undetermined.rule_id, MAX_NAME),
                value=clean(", ".join(undetermined.missing)),
            )
        )

    components: dict[str, Component] = {}
    for name, package in packages.items():
        facts = result.facts.get(name) or Facts()
        properties = _package_properties(package, facts, name in top_level)
        properties.extend(findings_by_package.get(name, ()))
        components[name] = _component(package, facts, properties)

    root = Component(
        type=ComponentType.APPLICATION,
        name=clean(result.resolution.source) or "scan target",
        description=clean(result.resolution.target.description) or None,
        bom_ref=ROOT_REF,
    )
    tool = Component(
        type=ComponentType.APPLICATION,
        name="trustmap",
        version=clean(tool_version, MAX_VERSION) or None,
    )
    metadata = BomMetaData(
        tools=ToolRepository(components=[tool]),
        component=root,
        properties=_metadata_properties(result, packages),
    )
    if timestamp is not None:
        metadata.timestamp = timestamp

    # The library keeps components in a sorted set whose comparisons are costly; handing them
    # over already in its order (name, then version, None last) makes that sort one pass.
    in_library_order = sorted(
        components.values(), key=lambda c: (c.name, c.version is None, c.version or "")
    )
    bom = Bom(components=in_library_order, metadata=metadata)
    bom.dependencies = _dependencies(result, components, root, top_level)
    _skip_repeated_dependency_registration(bom)
    return bom


def _skip_repeated_dependency_registration(bom: Bom) -> None:
    """The outputters call Bom.validate(), which registers every component's dependency
    entry again; the library finds each by a linear search, quadratic for a big closure.
    Every entry is already there, so answer those calls from a set of known refs."""
    registered = {dependency.ref for dependency in bom.dependencies}
    register = bom.register_dependency

    def register_unless_known(target: Any, depends_on: Iterable[Any] | None = None) -> None:
        if depends_on or target.bom_ref not in registered:
            register(target, depends_on)

    bom.register_dependency = register_unless_known  # type: ignore[method-assign]


def clean(value: Any, limit: int = MAX_TEXT) -> str:
    """`value` as text that XML 1.0 can carry, at most `limit` characters long."""
    text = value if isinstance(value, str) else str(value)
    text = _NOT_XML_TEXT.sub("", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def to_json(value: Any) -> str:
    """Compact JSON with sorted keys; values JSON cannot hold become their str()."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
    except (TypeError, ValueError):  # keys of mixed types cannot be sorted; cycles
        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            return str(value)


def clean_url(value: Any) -> str | None:
    """`value` as a URL that both schemas accept, without credentials; None if it is not one."""
    if not isinstance(value, str):
        return None
    text = _NOT_XML_TEXT.sub("", value).strip()
    if not text or len(text) > MAX_TEXT:
        return None  # a truncated URL would point somewhere else
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in URL_SCHEMES or not hostname:
        return None
    # An index URL from PIP_INDEX_URL may carry user:token@: never let it into a report.
    host = quote(hostname, safe="-._~")
    if ":" in hostname:
        host = f"[{hostname}]"
    netloc = f"{host}:{port}" if port is not None else host

    def encode(part: str, extra_safe: str = "") -> str:
        return quote(_BAD_PERCENT.sub("%25", part), safe=_URL_SAFE + extra_safe)

    return urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            encode(parts.path),
            encode(parts.query),
            encode(parts.fragment),
        )
    )


def _packages_in(result: ScanResult) -> dict[str, Package]:
    """Every package: the resolution's, plus any graph node that carries one of its own."""
    packages = {package.name: package for package in result.resolution.packages}
    for name, data in result.graph.nodes(data=True):
        package = data.get("package")
        if name not in packages and isinstance(package, Package):
            packages[name] = package
    return packages


def _top_level_names(result: ScanResult, packages: Mapping[str, Package]) -> set[str]:
    flagged = {name for name, top in result.graph.nodes(data="top_level") if top}
    if not flagged and result.resolution.roots:
        flagged = set(result.resolution.roots)
    if not flagged:  # nothing says: whatever nothing depends on is where the graph starts
        flagged = {name for name, degree in result.graph.in_degree() if degree == 0}
    return flagged & packages.keys()


def _component(package: Package, facts: Facts, properties: list[Property]) -> Component:
    version = clean(package.version, MAX_VERSION)
    purl = PackageURL(type="pypi", name=package.name, version=version or None)
    purl_text = purl.to_string()
    return Component(
        type=ComponentType.LIBRARY,
        name=clean(package.display_name or package.name, MAX_NAME) or package.name,
        version=version or None,
        bom_ref=purl_text,
        purl=purl,
        description=clean(package.summary) or None,
        licenses=_licenses(package, facts),
        hashes=_hashes(facts.get("file_hashes") or package.hashes),
        external_references=_external_references(facts),
        properties=properties,
    )


def _licenses(package: Package, facts: Facts) -> list[License]:
    expression = facts.get("license_expression")
    if isinstance(expression, str):
        expression = clean(expression).strip()
        if expression and _license_kind(expression)[0] != "name":
            return [_declared_license(expression)]
    for declared in (expression, facts.get("license"), package.license):
        if isinstance(declared, str) and declared.strip():
            return [_declared_license(clean(declared).strip())]
    return []


def _declared_license(text: str) -> License:
    """A licence as declared: an SPDX id or expression if it is one, else a named licence
    (whose name is the first line; a longer text goes along as the licence text)."""
    kind, spdx_id = _license_kind(text)
    if kind == "expression":
        return LicenseExpression(text)
    if kind == "id":
        return DisjunctiveLicense(id=spdx_id)
    first_line = text.splitlines()[0].strip()
    if first_line == text:
        return DisjunctiveLicense(name=clean(text, MAX_NAME))
    return DisjunctiveLicense(
        name=clean(first_line, MAX_NAME) or "see text", text=AttachedText(content=text)
    )


@functools.lru_cache(maxsize=4096)
def _license_kind(text: str) -> tuple[str, str | None]:
    """("id", the SPDX id), ("expression", None) or ("name", None). Cached: the library's
    expression check takes about 0.2 ms and a closure repeats the same few licences."""
    if "\n" in text or len(text) > MAX_NAME:
        return "name", None
    try:
        spdx_id = spdx_fixup_id(text)
        if spdx_id is not None:
            return "id", spdx_id
        if is_spdx_expression(text):
            return "expression", None
    except Exception:  # noqa: S110 - anything odd is a plain name
        pass
    return "name", None


def _hashes(values: Any) -> list[HashType]:
    """ "<algorithm>:<hex>" strings as hashes; anything malformed is skipped."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        return []
    hashes: dict[tuple[HashAlgorithm, str], HashType] = {}
    for value in values:
        if not isinstance(value, str) or ":" not in value:
            continue
        algorithm_name, _, digest = value.partition(":")
        known = _HASH_ALGORITHMS.get(algorithm_name.strip().lower())
        digest = digest.strip().lower()
        if known is None or len(digest) != known[1] or not _HEX.fullmatch(digest):
            continue
        hashes.setdefault((known[0], digest), HashType(alg=known[0], content=digest))
        if len(hashes) >= MAX_HASHES:
            break
    return list(hashes.values())


def _external_references(facts: Facts) -> list[ExternalReference]:
    references = []
    for fact_name, reference_type in URL_FACTS:
        url = clean_url(facts.get(fact_name))
        if url is None:
            continue
        try:
            references.append(ExternalReference(type=reference_type, url=XsUri(url)))
        except Exception:  # noqa: S112 - a URL the library rejects is left out
            continue
    return references


def _package_properties(package: Package, facts: Facts, top_level: bool) -> list[Property]:
    properties = [Property(name=PREFIX + "top-level", value="true" if top_level else "false")]
    for fact_name, value in facts.values.items():
        text = value if isinstance(value, str) else to_json(value)
        properties.append(
            Property(name=PREFIX + "fact:" + clean(fact_name, MAX_NAME), value=clean(text))
        )
    for fact_name, reason in facts.unknown.items():
        properties.append(
            Property(name=PREFIX + "unknown:" + clean(fact_name, MAX_NAME), value=clean(reason))
        )
    for problem in package.problems:
        properties.append(Property(name=PREFIX + "problem", value=clean(problem)))
    return properties


def _metadata_properties(result: ScanResult, packages: Mapping[str, Package]) -> list[Property]:
    accounts: set[str] = set()
    organizations: set[str] = set()
    for facts in result.facts.values():
        accounts.update(_account_names(facts.get(ACCOUNTS_FACT)))
        organization = facts.get(ORGANIZATION_FACT)
        if isinstance(organization, str) and organization:
            organizations.add(organization)
    findings = dict.fromkeys(SEVERITIES, 0)
    for finding in result.findings:
        findings[finding.severity] = findings.get(finding.severity, 0) + 1

    target = result.resolution.target
    summary = {
        "packages": len(packages),
        "publishing-accounts": len(accounts),
        "organizations": len(organizations),
        **{f"findings:{severity}": count for severity, count in findings.items()},
        "undetermined": len(result.undetermined),
    }
    properties = [
        Property(name=PREFIX + "target-python", value=clean(target.python_version)),
        Property(name=PREFIX + "target-environment", value=clean(target.description)),
    ]
    properties.extend(
        Property(name=PREFIX + "summary:" + clean(key, MAX_NAME), value=str(count))
        for key, count in summary.items()
    )
    properties.extend(Property(name=PREFIX + "note", value=clean(note)) for note in result.notes)
    properties.extend(Property(name=PREFIX + "note", value=clean(note)) for note in target.notes)
    properties.extend(
        Property(
            name=PREFIX + "problem",
            value=clean(
                f"{problem.kind}: {problem.message}"
                + (f" ({problem.location})" if problem.location else "")
            ),
        )
        for problem in result.resolution.problems
    )
    return properties


def _account_names(value: Any) -> set[str]:
    """Account names from a list of names, a list of {"user": ...} roles, or a mapping."""
    if isinstance(value, str) or value is None:
        return set()
    if isinstance(value, Mapping):
        return {str(key) for key in value}
    names = set()
    if isinstance(value, Iterable):
        for item in value:
            if isinstance(item, str):
                names.add(item)
            elif isinstance(item, Mapping):
                name = item.get("user") or item.get("name") or item.get("login")
                if isinstance(name, str):
                    names.add(name)
    return names


def _dependencies(
    result: ScanResult,
    components: Mapping[str, Component],
    root: Component,
    top_level: set[str],
) -> list[Dependency]:
    """One entry for every component (leaves too), built directly: the library's
    register_dependency searches the whole list on each call, quadratic for a big closure."""
    graph = result.graph
    dependencies = [
        Dependency(
            ref=root.bom_ref,
            dependencies=[Dependency(ref=components[name].bom_ref) for name in sorted(top_level)],
        )
    ]
    for name, component in components.items():
        children = graph.successors(name) if name in graph else ()
        dependencies.append(
            Dependency(
                ref=component.bom_ref,
                dependencies=[
                    Dependency(ref=components[child].bom_ref)
                    for child in children
                    if child in components and child != name
                ],
            )
        )
    return dependencies
