"""An existing CycloneDX JSON SBOM (spec 1.2 to 1.6, from any tool) read as a Resolution.

Python components (purl type "pypi", or a name and version without any purl) become
packages; the `dependencies` section becomes edges. The raw document is handed back as
well, so that an output can annotate the user's own SBOM instead of writing a new one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from packageurl import PackageURL

from ..model import Edge, Location, Package, Problem, Resolution, TargetEnvironment
from ..names import is_version
from ._common import (
    LineFinder,
    canonical,
    expect_list,
    expect_str,
    expect_table,
    input_error,
    is_valid_name,
    load_json,
    read_text,
)
from .interface import Contribution, InputKind, ReadContext, Sniffed, register

# CycloneDX hash algorithm names -> the names used in "<algorithm>:<hex>" strings.
_HASH_ALGORITHMS = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
_MAX_NESTING = 50  # components inside components; real SBOMs nest two or three deep


class CycloneDxSbom(NamedTuple):
    resolution: Resolution
    document: dict[str, Any]  # the SBOM as read, for outputs that add annotations to it


def read_cyclonedx_sbom(path: str | os.PathLike[str]) -> CycloneDxSbom:
    shown = str(path)
    text = read_text(path, shown_as=shown)
    return read_cyclonedx_text(text, shown)


def read_cyclonedx_text(text: str, path: str = "<sbom>") -> CycloneDxSbom:
    document = load_json(text, path)
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        raise input_error(path, None, 'not a CycloneDX JSON SBOM: no "bomFormat": "CycloneDX"')
    spec_version = document.get("specVersion")
    lines = LineFinder(text)
    problems: list[Problem] = []
    if not isinstance(spec_version, str):
        raise input_error(path, None, "CycloneDX SBOM without a specVersion string")
    if spec_version not in ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7"):
        problems.append(
            Problem(
                kind="unknown-spec-version",
                message=f"CycloneDX specVersion {spec_version} is not one this reader knows; "
                "read as if it were 1.6",
                location=Location(path),
            )
        )

    metadata = expect_table(document.get("metadata", {}), '"metadata"', path)
    main_component = metadata.get("component")
    main_ref = None
    if isinstance(main_component, dict) and isinstance(main_component.get("bom-ref"), str):
        main_ref = main_component["bom-ref"]

    packages: dict[str, Package] = {}
    name_by_ref: dict[str, str] = {}
    skipped: list[str] = []
    components = expect_list(document.get("components", []), '"components"', path)
    for component in _walk_components(components, path, depth=0):
        line = _component_line(component, lines)
        package = _package(component, path, line)
        if package is None:
            skipped.append(str(component.get("purl") or component.get("name") or "?"))
            continue
        if not is_version(package.version):
            # Still scanned: only the facts of the pinned release will be unknown.
            problems.append(
                Problem(
                    kind="invalid-version",
                    message=f"{package.name}: version {package.version[:100]!r} is not a "
                    "valid version (PEP 440)",
                    package=package.name,
                    location=package.origin,
                )
            )
        ref = component.get("bom-ref")
        if isinstance(ref, str):
            name_by_ref[ref] = package.name
        existing = packages.get(package.name)
        if existing is None:
            packages[package.name] = package
        elif existing.version != package.version:
            problems.append(
                Problem(
                    kind="multiple-versions",
                    message=f"{package.name} appears at {existing.version} and "
                    f"{package.version}; {existing.version} is the one scanned",
                    package=package.name,
                    location=package.origin,
                )
            )
    if skipped:
        problems.append(
            Problem(
                kind="non-python-components",
                message=f"{len(skipped)} components are not Python packages and were left "
                f"out (first: {skipped[0]})",
                location=Location(path),
            )
        )

    edges: list[Edge] = []
    roots: list[str] | None = None
    for entry in expect_list(document.get("dependencies", []), '"dependencies"', path):
        entry = expect_table(entry, 'an entry of "dependencies"', path)
        ref = entry.get("ref")
        depends_on = expect_list(entry.get("dependsOn", []), '"dependsOn"', path)
        children = [name_by_ref[item] for item in depends_on if item in name_by_ref]
        if ref == main_ref and main_ref is not None:
            roots = list(dict.fromkeys([*(roots or []), *children]))
        elif isinstance(ref, str) and ref in name_by_ref:
            parent = name_by_ref[ref]
            for child in children:
                edge = Edge(parent=parent, child=child)
                if edge not in edges and child != parent:
                    edges.append(edge)

    resolution = Resolution(
        packages=tuple(packages.values()),
        edges=tuple(edges),
        target=TargetEnvironment(
            markers={},
            description="as recorded in the SBOM",
            notes=(f"CycloneDX {spec_version}",),
        ),
        source=path,
        roots=tuple(roots) if roots is not None else None,
        problems=tuple(problems),
    )
    return CycloneDxSbom(resolution=resolution, document=document)


def _walk_components(components: list[Any], path: str, depth: int) -> Iterator[Mapping[str, Any]]:
    if depth > _MAX_NESTING:
        raise input_error(path, None, f"components nested deeper than {_MAX_NESTING} levels")
    for component in components:
        component = expect_table(component, 'an entry of "components"', path)
        yield component
        nested = component.get("components")
        if nested is not None:
            yield from _walk_components(
                expect_list(nested, 'nested "components"', path), path, depth + 1
            )


def _package(component: Mapping[str, Any], path: str, line: int | None) -> Package | None:
    purl_text = component.get("purl")
    version = component.get("version")
    version = version if isinstance(version, str) else ""
    if isinstance(purl_text, str) and purl_text:
        try:
            purl = PackageURL.from_string(purl_text)
        except ValueError as error:
            raise input_error(path, line, f"invalid purl {purl_text!r}: {error}") from None
        if purl.type != "pypi":
            return None
        name = purl.name
        version = version or purl.version or ""
    else:
        name = component.get("name")
        if not isinstance(name, str) or not version:
            return None
        if component.get("type") not in (None, "library"):
            return None
    if not is_valid_name(name):
        raise input_error(path, line, f"invalid Python package name {name!r}")
    description = component.get("description")
    return Package(
        name=canonical(name),
        version=version,
        display_name=expect_str(component.get("name", name), "component name", path, line),
        summary=description if isinstance(description, str) else "",
        license=_license(component.get("licenses")),
        origin=Location(path, line),
        hashes=_hashes(component.get("hashes"), component.get("externalReferences")),
    )


def _hashes(value: Any, references: Any) -> tuple[str, ...]:
    """The component's own hashes, then those of its distribution files (where tools such
    as cyclonedx-py put the hash of every wheel and sdist)."""
    items = list(value) if isinstance(value, list) else []
    for reference in references if isinstance(references, list) else []:
        if isinstance(reference, dict) and reference.get("type") in (
            "distribution",
            "distribution-intake",
        ):
            if isinstance(reference.get("hashes"), list):
                items.extend(reference["hashes"])
    result = []
    for item in items:
        if not isinstance(item, dict):
            continue
        algorithm = _HASH_ALGORITHMS.get(str(item.get("alg")))
        content = item.get("content")
        if algorithm and isinstance(content, str):
            result.append(f"{algorithm}:{content.lower()}")
    return tuple(dict.fromkeys(result))


def _license(value: Any) -> str:
    names = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("expression"), str):
            names.append(item["expression"])
        elif isinstance(item.get("license"), dict):
            license_ = item["license"]
            name = license_.get("id") or license_.get("name")
            if isinstance(name, str):
                names.append(name)
    return " AND ".join(names)


def _component_line(component: Mapping[str, Any], lines: LineFinder) -> int | None:
    for key in ("bom-ref", "purl", "name"):
        value = component.get(key)
        if isinstance(value, str):
            # Written as UTF-8 or with \u escapes, whichever the tool chose.
            for literal in dict.fromkeys(
                (json.dumps(value, ensure_ascii=False), json.dumps(value))
            ):
                line = lines.find(f'"{key}": {literal}') or lines.find(literal)
                if line:
                    return line
    return None


@register
class CycloneDxKind(InputKind):
    name = "cyclonedx"
    priority = 10

    def detect(self, sniffed: Sniffed) -> bool:
        document = sniffed.json
        return isinstance(document, dict) and document.get("bomFormat") == "CycloneDX"

    def read(self, path: Path, context: ReadContext) -> Contribution:
        sbom = read_cyclonedx_sbom(path)
        return Contribution(pinned=(sbom.resolution,), sbom=sbom.document)
