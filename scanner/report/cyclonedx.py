"""CycloneDX 1.6 SBOM (JSON or XML) of a scan, built with cyclonedx-python-lib.

Every package is a component with its purl, hashes, licences and external references; the
dependency graph is written out in full; facts, unknown facts, findings and undetermined
rules travel as `trustmap:`-namespaced properties.

Everything that came from an index or a repository is untrusted text: it is stripped of the
characters XML 1.0 cannot carry and capped in length before it reaches the document, and a
value the library rejects is left out rather than failing the render.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import gc
import json
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import networkx as nx
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
from packaging.utils import canonicalize_name

from scanner.model import Facts, InputError, Package, ScanResult, Summary
from scanner.names import is_project_name
from scanner.report.summary import summary_of

SCHEMA_VERSION = SchemaVersion.V1_6
OUTPUT_FORMATS = {"json": OutputFormat.JSON, "xml": OutputFormat.XML}

PREFIX = "trustmap:"
ROOT_REF = "trustmap:scan-target"
MAX_TEXT = 4000
MAX_VERSION = 1024  # the schema's maxLength for a version
MAX_NAME = 200  # property names, licence names: identifiers, not prose
MAX_HASHES = 256

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
# scheme://user:password@ -> scheme://
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]*@")
_MAX_DEPTH = 32
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
    with _collector_paused():
        bom = build_bom(result, tool_version, timestamp=timestamp)
        outputter = make_outputter(bom, cdx_format, SCHEMA_VERSION)
        if cdx_format is OutputFormat.JSON:
            return outputter.output_as_string(indent=2)
        return _indent_xml(outputter.output_as_string())


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The library allocates a few hundred thousand small objects for a big closure, which
    sets off full garbage collections over the whole scan; pausing them saves about a
    quarter of the render. Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _indent_xml(document: str) -> str:
    """`document` indented for people to read, in ASCII. The library indents XML by re-parsing it
    with minidom, which takes longer than building the whole SBOM; lxml takes a few ms."""
    try:
        from lxml import etree
    except ImportError:  # lxml comes with the xml-validation extra; without it, stay compact
        return document
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    root = etree.fromstring(document.encode("utf-8"), parser)
    # ASCII with character references, like the JSON outputter's escapes: safe to print on
    # a terminal or pipe of any encoding, and still UTF-8 as declared.
    body = etree.tostring(root, pretty_print=True, encoding="us-ascii", xml_declaration=False)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body.decode("ascii")


def build_bom(result: ScanResult, tool_version: str, *, timestamp: datetime | None = None) -> Bom:
    """The library's Bom for a scan (exposed so callers can post-process it)."""
    packages = _packages_in(result)
    top_level = _top_level_names(result, packages)
    summary = summary_of(result)
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
    used_refs = {ROOT_REF}
    for name, package in packages.items():
        facts = result.facts.get(name) or Facts()
        properties = _package_properties(package, facts, name in top_level)
        properties.extend(_risk_properties(summary, name))
        properties.extend(findings_by_package.get(name, ()))
        component = _component(package, facts, properties)
        if component.bom_ref.value in used_refs:  # names that differ only in stripped chars
            component.bom_ref.value = f"{component.bom_ref.value}#{len(used_refs)}"
        used_refs.add(component.bom_ref.value)
        components[name] = component

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
        properties=_metadata_properties(result, packages, summary),
    )
    if timestamp is not None:
        metadata.timestamp = timestamp

    bom = Bom(components=components.values(), metadata=metadata)
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
    """`value` as text fit to publish: only characters XML 1.0 can carry, no credentials in
    URLs, at most `limit` characters long."""
    text = _NOT_XML_TEXT.sub("", value if isinstance(value, str) else str(value))
    if "@" in text:
        text = _URL_CREDENTIALS.sub(r"\1", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def to_json(value: Any) -> str:
    """Compact JSON with sorted keys, its strings cleaned first: JSON would escape a control
    character, and whoever decodes the value would get it back."""
    value = _scrub(value)
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_scrub_other
        )
    except (TypeError, ValueError):  # keys of mixed types cannot be sorted
        try:
            return json.dumps(
                value, separators=(",", ":"), ensure_ascii=False, default=_scrub_other
            )
        except (TypeError, ValueError):
            return _scrub_other(value)


def _scrub(value: Any, depth: int = 0) -> Any:
    """`value` with every string in it, keys too, stripped of what XML cannot carry."""
    if isinstance(value, str):
        return _NOT_XML_TEXT.sub("", value)
    if depth > _MAX_DEPTH:
        return "…"  # deeper than any fact has reason to be; also stops a cycle
    if isinstance(value, Mapping):
        return {_scrub(key, depth + 1): _scrub(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(item, depth + 1) for item in value]
    if isinstance(value, (set, frozenset)):
        items = [_scrub(item, depth + 1) for item in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    return value


def _scrub_other(value: Any) -> str:
    return _NOT_XML_TEXT.sub("", str(value))


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
    # Rebuilt from host and port alone: an index URL from PIP_INDEX_URL may carry
    # user:token@, which must never reach a report.
    host = f"[{hostname}]" if ":" in hostname else quote(hostname, safe="-._~")
    netloc = f"{host}:{port}" if port is not None else host

    def encode(part: str) -> str:
        return quote(_BAD_PERCENT.sub("%25", part), safe=_URL_SAFE)

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
    if not flagged:
        # Nothing says: the graph starts where nothing depends on it. Collapsing cycles first
        # means a closure that is one big cycle still has a start.
        condensed = nx.condensation(result.graph)
        flagged = {
            name
            for scc, degree in condensed.in_degree()
            if degree == 0
            for name in condensed.nodes[scc]["members"]
        }
    return flagged & packages.keys()


def _component(package: Package, facts: Facts, properties: list[Property]) -> Component:
    name = clean(package.name, MAX_NAME)
    version = clean(package.version, MAX_VERSION)
    try:
        if not is_project_name(name):
            # packageurl leaves "/" unquoted: "requests/json#" would read as another name.
            raise ValueError(name)
        purl: PackageURL | None = PackageURL(type="pypi", name=name, version=version or None)
        bom_ref = purl.to_string()
    except ValueError:  # an empty or invalid name: no purl, but still a component
        purl, bom_ref = None, f"trustmap:package:{name}"
    return Component(
        type=ComponentType.LIBRARY,
        name=clean(package.display_name, MAX_NAME) or name or "(unnamed)",
        version=version or None,
        bom_ref=bom_ref,
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
    """Hashes from a list of "<algorithm>:<hex>" strings; anything malformed is skipped."""
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


def _risk_properties(summary: Summary, name: str) -> list[Property]:
    """Risk, blast radius and who can publish the package (`trustmap:publisher`, once per
    account; `trustmap:publishers` says "unknown" and why when that is not known)."""
    properties = []
    risk = summary.risks.get(name)
    if risk is not None:
        properties += [
            Property(name=PREFIX + "risk-score", value=f"{risk.score:g}"),
            Property(name=PREFIX + "blast-radius:dependents", value=str(risk.dependents)),
            Property(name=PREFIX + "blast-radius:top-level", value=str(risk.top_level)),
        ]
    owner = summary.owners.get(name)
    if owner is None:
        return properties
    if owner.accounts is None:
        properties.append(
            Property(name=PREFIX + "publishers", value=clean(f"unknown: {owner.reason}"))
        )
        return properties
    properties.append(Property(name=PREFIX + "publishers", value=str(len(owner.accounts))))
    properties.extend(
        Property(name=PREFIX + "publisher", value=clean(account, MAX_NAME))
        for account in owner.accounts
        if clean(account, MAX_NAME)
    )
    if owner.organization:
        properties.append(
            Property(name=PREFIX + "organization", value=clean(owner.organization, MAX_NAME))
        )
    return properties


def _metadata_properties(
    result: ScanResult, packages: Mapping[str, Package], summary: Summary
) -> list[Property]:
    # The same figures the terminal and JSON reports lead with.
    counts = {
        "packages": len(packages),
        "top-level-packages": summary.top_level,
        "edges": summary.edges,
        "publishing-accounts": summary.publishing_accounts,
        "organizations": summary.organizations,
        "packages-with-unknown-ownership": summary.ownership_unknown,
        **{
            f"findings:{severity}": count
            for severity, count in summary.findings_by_severity.items()
        },
        "undetermined": summary.undetermined,
        "problems": summary.problems,
    }
    target = result.resolution.target
    properties = [
        Property(name=PREFIX + "target-python", value=clean(target.python_version)),
        Property(name=PREFIX + "target-environment", value=clean(target.description)),
    ]
    properties.extend(
        Property(name=PREFIX + "summary:" + clean(key, MAX_NAME), value=str(count))
        for key, count in counts.items()
    )
    # Where to look first (`rank` 1 is the most urgent: the library sorts properties); the
    # accounts that can publish the most packages; the packages whose publishers are
    # unknown. Values are JSON.
    properties.extend(
        Property(name=PREFIX + "look-first", value=clean(to_json({"rank": rank, **item.as_dict()})))
        for rank, item in enumerate(summary.look_first, 1)
    )
    properties.extend(
        Property(
            name=PREFIX + "top-account",
            value=clean(to_json({"account": share.account, "packages": list(share.packages)})),
        )
        for share in summary.top_accounts
    )
    properties.extend(
        Property(name=PREFIX + "ownership-unknown", value=clean(name, MAX_NAME))
        for name in summary.ownership_unknown_packages
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


def annotate_sbom(
    document: Mapping[str, Any], result: ScanResult, tool_version: str, output_format: str = "json"
) -> str:
    """The user's own CycloneDX SBOM, kept as it was, with trustmap's properties added
    to each component it scanned, its summary to the metadata, and itself to the tools.

    The annotations are the ones `render_cyclonedx` writes, matched to the input's
    components by package name (purl name, or component name). XML carries the same
    annotated document, read back through the library and written as CycloneDX 1.6: the
    input's metadata component, components and references are kept in both formats."""
    annotated = _annotated(document, result, tool_version)
    if output_format == "json":
        return json.dumps(annotated, indent=2, ensure_ascii=True) + "\n"
    if output_format != "xml":
        raise ValueError(f"unknown CycloneDX format {output_format!r}")
    with _collector_paused(), warnings.catch_warnings():
        # The library warns, on stderr, of fields an older input uses (1.4's tools list).
        warnings.simplefilter("ignore")
        try:
            bom = Bom.from_json(annotated)
        except Exception as exc:  # the library's deserialiser raises many kinds
            raise InputError(
                f"the input SBOM cannot be written as CycloneDX XML ({type(exc).__name__}: "
                f"{str(exc)[:200]}); write it as -f cyclonedx-json instead"
            ) from None
        # The library invents a serial number and a timestamp the input may not have.
        if "serialNumber" not in annotated:
            bom.serial_number = None
        if "timestamp" not in (annotated.get("metadata") or {}):
            bom.metadata.timestamp = None
        outputter = make_outputter(bom, OutputFormat.XML, SCHEMA_VERSION)
        return _indent_xml(outputter.output_as_string())


def _annotated(
    document: Mapping[str, Any], result: ScanResult, tool_version: str
) -> dict[str, Any]:
    ours = json.loads(render_cyclonedx(result, "json", tool_version))
    by_name: dict[str, list[dict[str, Any]]] = {}
    for component in ours.get("components", []):
        properties = [p for p in component.get("properties", []) if p["name"].startswith(PREFIX)]
        by_name[canonicalize_name(component["name"])] = properties
    annotated = copy.deepcopy(dict(document))
    for component in _walk(annotated.get("components") or []):
        name = _component_name(component)
        if name in by_name:
            component.setdefault("properties", []).extend(by_name[name])
    metadata = annotated.setdefault("metadata", {})
    metadata.setdefault("properties", []).extend(ours.get("metadata", {}).get("properties", []))
    tool = {"type": "application", "name": "trustmap", "version": clean(tool_version)}
    tools = metadata.get("tools")
    if isinstance(tools, dict):
        tools.setdefault("components", []).append(tool)
    elif isinstance(tools, list):  # the 1.4 form: a list of {vendor, name, version}
        tools.append({"vendor": "trustmap", "name": "trustmap", "version": tool["version"]})
    else:
        metadata["tools"] = {"components": [tool]}
    return annotated


def _walk(components: list[Any]) -> Iterator[dict[str, Any]]:
    for component in components:
        if isinstance(component, dict):
            yield component
            yield from _walk(component.get("components") or [])


def _component_name(component: Mapping[str, Any]) -> str:
    purl = component.get("purl")
    if isinstance(purl, str) and purl.startswith("pkg:pypi/"):
        return canonicalize_name(purl[len("pkg:pypi/") :].split("@")[0].split("?")[0])
    return canonicalize_name(str(component.get("name", "")))
