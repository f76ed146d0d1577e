"""CycloneDX report: schema-valid JSON and XML, full graph, properties, hostile metadata."""

from __future__ import annotations

import dataclasses
import json
import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import networkx as nx
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator

from scanner.model import (
    Edge,
    Facts,
    Finding,
    Package,
    Problem,
    Resolution,
    ScanResult,
    TargetEnvironment,
    Undetermined,
)
from scanner.report.cyclonedx import clean, clean_url, render_cyclonedx, to_json
from scanner.summary import with_summary

CDX = "{http://cyclonedx.org/schema/bom/1.6}"
SHA_ALPHA = "a" * 64
SHA_DELTA = "0123456789abcdef" * 4

HOSTILE_SUMMARY = (
    "Totally \x1b[31msafe\x1b[0m\x00 <script>&amp; ]]> [bold]pwn[/bold] \ud800\x7f\x85\x08end"
)
# What must survive: everything but the control characters and the lone surrogate.
HOSTILE_SUMMARY_CLEAN = "Totally [31msafe[0m <script>&amp; ]]> [bold]pwn[/bold] end"

EDGES = [
    ("alpha", "beta"),
    ("alpha", "gamma"),
    ("beta", "delta"),
    ("gamma", "delta"),
]


def make_result() -> ScanResult:
    packages = (
        Package(name="alpha", version="1.0", display_name="Alpha", summary="The first."),
        Package(name="beta", version="2.1", summary="Second.", problems=("bad METADATA",)),
        Package(name="gamma", version="0.3", summary=HOSTILE_SUMMARY, license="MIT\x00<&>"),
        Package(
            name="delta", version="4.0", license="BSD-3-Clause", hashes=(f"sha256:{SHA_DELTA}",)
        ),
        Package(name="epsilon", version="1.0.0"),  # no facts at all, no dependencies
    )
    edges = tuple(Edge(parent=parent, child=child) for parent, child in EDGES)
    graph = nx.DiGraph()
    for package in packages:
        graph.add_node(
            package.name, package=package, top_level=package.name in {"alpha", "epsilon"}
        )
    for edge in edges:
        graph.add_edge(edge.parent, edge.child, edge=edge)
    facts = {
        "alpha": Facts(
            values={
                "license_expression": "MIT OR Apache-2.0",
                "file_hashes": [f"sha256:{SHA_ALPHA}", "sha256:not-hex", "crc32:abcd"],
                "source_repository": "https://github.com/example/alpha",
                "homepage": "https://alpha.example.org/",
                "documentation": "https://docs.example.org/alpha docs/ünïcode?q=[1]#a#b",
                "issue_tracker": "javascript:alert(1)",
                "index_url": "https://user:s3cret@mirror.example/simple/alpha/",
                "publishers": ["ann", "bob"],
                "organization": "alpha-org",
                "downloads": 1234,
                "releases": {"1.0": "2024-01-01", "0.9": None},
            }
        ),
        "beta": Facts(
            values={
                "license_expression": "Some Custom License",
                "publishers": ["bob", "cat"],
            },
            unknown={"github_stars": "GitHub unreachable"},
        ),
        "gamma": Facts(
            values={
                "license_expression": "Do \x1b[1mwhat\x1b[0m you like <&]]>\nfull text here",
                "homepage": "https://evil.example/\x00<&]]>",
                "source_repository": "not a url",
                "documentation": "https://[bad",
                "file_hashes": "sha256:" + "b" * 64,  # a string, not a list: ignored
                "motto": "\x1b]8;;https://x\x07click\x1b]8;;\x07 [red]x[/red]",
            }
        ),
        "delta": Facts(values={"organization": "delta-org", "publishers": ["dan"]}),
    }
    findings = (
        Finding(
            rule_id="solo-maintainer",
            package="alpha",
            severity="high",
            title="One account can publish",
            evidence={"accounts": 1, "names": ["ann"]},
        ),
        Finding(
            rule_id="lookalike-name",
            package="gamma",
            severity="critical",
            title="Name close to <gama> & ]]>",
            evidence={"similar_to": "gama\x00", "distance": 1},
        ),
    )
    undetermined = (
        Undetermined(
            rule_id="stale",
            package="beta",
            severity="medium",
            missing=("github_stars", "last_commit"),
            reasons=("GitHub unreachable",),
        ),
    )
    resolution = Resolution(
        packages=packages,
        edges=edges,
        target=TargetEnvironment(
            markers={"python_version": "3.11", "sys_platform": "linux"},
            description="CPython 3.11 on linux",
            notes=("python_version from the venv",),
        ),
        source="requirements.txt",
        roots=("alpha", "epsilon"),
        problems=(Problem(kind="missing-requirement", message="zeta is not installed"),),
    )
    return with_summary(
        ScanResult(
            resolution=resolution,
            graph=graph,
            facts=facts,
            findings=findings,
            undetermined=undetermined,
            notes=("offline: answered from the cache",),
        )
    )


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering and validating must not reach out (the schemas ship with the library)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def assert_valid_json(document: str) -> None:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(document)
    assert error is None, str(error)


def assert_valid_xml(document: str) -> None:
    error = XmlValidator(SchemaVersion.V1_6).validate_str(document)
    assert error is None, str(error)


def properties_of(element: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for prop in element.get("properties", []):
        found.setdefault(prop["name"], []).append(prop.get("value", ""))
    return found


@pytest.fixture(scope="module")
def json_bom() -> dict:
    document = render_cyclonedx(make_result(), "json", "0.1.0")
    assert_valid_json(document)
    return json.loads(document)


@pytest.fixture(scope="module")
def xml_document() -> str:
    document = render_cyclonedx(make_result(), "xml", "0.1.0")
    assert_valid_xml(document)
    return document


def components_by_name(bom: dict) -> dict[str, dict]:
    return {c["purl"].split("/")[1].split("@")[0]: c for c in bom["components"]}


def test_json_is_cyclonedx_1_6(json_bom: dict) -> None:
    assert json_bom["bomFormat"] == "CycloneDX"
    assert json_bom["specVersion"] == "1.6"


def test_every_package_is_a_component_with_purl_as_bom_ref(json_bom: dict) -> None:
    components = components_by_name(json_bom)
    assert set(components) == {"alpha", "beta", "gamma", "delta", "epsilon"}
    alpha = components["alpha"]
    assert alpha["purl"] == "pkg:pypi/alpha@1.0"
    assert alpha["bom-ref"] == alpha["purl"]
    assert alpha["name"] == "Alpha"
    assert alpha["version"] == "1.0"
    assert alpha["type"] == "library"
    assert alpha["description"] == "The first."
    assert components["epsilon"]["purl"] == "pkg:pypi/epsilon@1.0.0"


def test_metadata_tool_target_and_summary(json_bom: dict) -> None:
    metadata = json_bom["metadata"]
    assert metadata["tools"]["components"][0]["name"] == "trustmap"
    assert metadata["tools"]["components"][0]["version"] == "0.1.0"
    assert metadata["component"]["name"] == "requirements.txt"
    assert "timestamp" in metadata
    props = properties_of(metadata)
    assert props["trustmap:target-python"] == ["3.11"]
    assert props["trustmap:summary:packages"] == ["5"]
    assert props["trustmap:summary:publishing-accounts"] == ["4"]  # ann, bob, cat, dan
    assert props["trustmap:summary:organizations"] == ["2"]
    assert props["trustmap:summary:findings:critical"] == ["1"]
    assert props["trustmap:summary:findings:high"] == ["1"]
    assert props["trustmap:summary:findings:low"] == ["0"]
    assert props["trustmap:summary:undetermined"] == ["1"]
    assert props["trustmap:summary:top-level-packages"] == ["2"]
    assert props["trustmap:summary:edges"] == ["4"]
    # gamma (no publishers fact) and epsilon (no facts at all): counted, not dropped
    assert props["trustmap:summary:packages-with-unknown-ownership"] == ["2"]
    assert props["trustmap:summary:problems"] == ["1"]
    assert "offline: answered from the cache" in props["trustmap:note"]
    assert props["trustmap:problem"] == ["missing-requirement: zeta is not installed"]


def test_dependencies_match_the_graph(json_bom: dict) -> None:
    ref = {name: c["bom-ref"] for name, c in components_by_name(json_bom).items()}
    declared = {d["ref"]: set(d.get("dependsOn", [])) for d in json_bom["dependencies"]}
    root_ref = json_bom["metadata"]["component"]["bom-ref"]
    expected = {r: set() for r in ref.values()}
    for parent, child in EDGES:
        expected[ref[parent]].add(ref[child])
    expected[root_ref] = {ref["alpha"], ref["epsilon"]}
    assert declared == expected


def test_facts_unknowns_findings_and_undetermined_are_properties(json_bom: dict) -> None:
    components = components_by_name(json_bom)
    alpha = properties_of(components["alpha"])
    assert alpha["trustmap:top-level"] == ["true"]
    assert alpha["trustmap:fact:downloads"] == ["1234"]
    assert alpha["trustmap:fact:organization"] == ["alpha-org"]  # strings stay plain
    assert alpha["trustmap:fact:releases"] == ['{"0.9":null,"1.0":"2024-01-01"}']
    assert alpha["trustmap:finding:solo-maintainer"] == ["high: One account can publish"]
    evidence = json.loads(alpha["trustmap:finding:solo-maintainer:evidence"][0])
    assert evidence == {"accounts": 1, "names": ["ann"]}

    beta = properties_of(components["beta"])
    assert beta["trustmap:top-level"] == ["false"]
    assert beta["trustmap:unknown:github_stars"] == ["GitHub unreachable"]
    assert beta["trustmap:undetermined:stale"] == ["github_stars, last_commit"]
    assert beta["trustmap:problem"] == ["bad METADATA"]

    epsilon = properties_of(components["epsilon"])
    assert epsilon == {
        "trustmap:top-level": ["true"],
        "trustmap:risk-score": ["0"],
        "trustmap:blast-radius:dependents": ["0"],
        "trustmap:blast-radius:top-level": ["1"],
        # No facts at all: its publishers are said to be unknown, not left out.
        "trustmap:publishers": ["unknown: no facts were gathered"],
    }


def test_risk_and_publishers_are_properties(json_bom: dict) -> None:
    components = components_by_name(json_bom)
    alpha = properties_of(components["alpha"])
    # high (10) x (1 + log2(1 + 0 dependents + 1 top-level)) = 20
    assert alpha["trustmap:risk-score"] == ["20"]
    assert alpha["trustmap:publishers"] == ["2"]
    assert sorted(alpha["trustmap:publisher"]) == ["ann", "bob"]
    assert alpha["trustmap:organization"] == ["alpha-org"]
    delta = properties_of(components["delta"])
    # alpha, beta and gamma depend on delta; it is in alpha's closure only.
    assert delta["trustmap:blast-radius:dependents"] == ["3"]
    assert delta["trustmap:blast-radius:top-level"] == ["1"]
    assert delta["trustmap:risk-score"] == ["0"]
    gamma = properties_of(components["gamma"])
    # critical (25) x (1 + log2(1 + 1 + 1)) = 64.6
    assert gamma["trustmap:risk-score"] == ["64.6"]
    assert gamma["trustmap:publishers"] == ["unknown: not known"]
    assert "trustmap:publisher" not in gamma


def test_look_first_and_top_accounts_in_metadata(json_bom: dict) -> None:
    props = properties_of(json_bom["metadata"])
    look_first = sorted(
        (json.loads(value) for value in props["trustmap:look-first"]), key=lambda i: i["rank"]
    )
    assert [item["name"] for item in look_first] == ["gamma", "alpha"]
    assert look_first[0]["score"] == 64.6 and look_first[0]["dependents"] == 1
    assert look_first[0]["path"] == ["alpha", "gamma"]
    assert look_first[0]["findings"] == [{"rule": "lookalike-name", "severity": "critical"}]
    top = [json.loads(value) for value in props["trustmap:top-account"]]
    assert {"account": "bob", "packages": ["alpha", "beta"]} in top
    assert {entry["account"] for entry in top} == {"ann", "bob", "cat", "dan"}
    assert sorted(props["trustmap:ownership-unknown"]) == ["epsilon", "gamma"]


def test_licences(json_bom: dict) -> None:
    components = components_by_name(json_bom)
    assert components["alpha"]["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    assert components["beta"]["licenses"] == [{"license": {"name": "Some Custom License"}}]
    assert components["delta"]["licenses"] == [{"license": {"id": "BSD-3-Clause"}}]
    gamma_licence = components["gamma"]["licenses"][0]["license"]
    assert gamma_licence["name"] == "Do [1mwhat[0m you like <&]]>"
    assert gamma_licence["text"]["content"].endswith("full text here")
    assert "licenses" not in components["epsilon"]


def test_hashes(json_bom: dict) -> None:
    components = components_by_name(json_bom)
    assert components["alpha"]["hashes"] == [{"alg": "SHA-256", "content": SHA_ALPHA}]
    assert components["delta"]["hashes"] == [{"alg": "SHA-256", "content": SHA_DELTA}]
    assert "hashes" not in components["gamma"]


def test_external_references(json_bom: dict) -> None:
    components = components_by_name(json_bom)
    alpha = {r["type"]: r["url"] for r in components["alpha"]["externalReferences"]}
    assert alpha["vcs"] == "https://github.com/example/alpha"
    assert alpha["website"] == "https://alpha.example.org/"
    assert alpha["documentation"].startswith("https://docs.example.org/alpha%20docs/")
    assert "issue-tracker" not in alpha  # javascript: is no link for an SBOM
    assert alpha["distribution"] == "https://mirror.example/simple/alpha/"
    assert "s3cret" not in json.dumps(json_bom)
    gamma = {r["type"]: r["url"] for r in components["gamma"].get("externalReferences", [])}
    assert set(gamma) == {"website"}
    assert "\x00" not in gamma["website"] and "<" not in gamma["website"]


def test_hostile_text_survives_literally_in_json(json_bom: dict) -> None:
    gamma = components_by_name(json_bom)["gamma"]
    assert gamma["description"] == HOSTILE_SUMMARY_CLEAN
    props = properties_of(gamma)
    assert props["trustmap:fact:motto"] == ["]8;;https://xclick]8;; [red]x[/red]"]
    assert props["trustmap:finding:lookalike-name"] == ["critical: Name close to <gama> & ]]>"]


def test_xml_is_well_formed_and_carries_the_same_content(xml_document: str) -> None:
    root = ET.fromstring(xml_document)  # noqa: S314 - our own output, checked for well-formedness
    assert root.tag == f"{CDX}bom"
    components = {c.findtext(f"{CDX}purl"): c for c in root.iter(f"{CDX}component")}
    assert {"pkg:pypi/alpha@1.0", "pkg:pypi/gamma@0.3", "pkg:pypi/epsilon@1.0.0"} <= set(components)
    gamma = components["pkg:pypi/gamma@0.3"]
    assert gamma.findtext(f"{CDX}description") == HOSTILE_SUMMARY_CLEAN
    props = {p.get("name"): p.text for p in gamma.iter(f"{CDX}property")}
    assert props["trustmap:finding:lookalike-name"] == "critical: Name close to <gama> & ]]>"

    declared = {
        d.get("ref"): {child.get("ref") for child in d} for d in root.find(f"{CDX}dependencies")
    }
    assert declared["pkg:pypi/alpha@1.0"] == {"pkg:pypi/beta@2.1", "pkg:pypi/gamma@0.3"}
    assert declared["pkg:pypi/delta@4.0"] == set()
    assert declared["pkg:pypi/epsilon@1.0.0"] == set()
    assert len(declared) == 6  # five packages and the scanned target


def test_hostile_characters_never_reach_either_document(xml_document: str) -> None:
    json_document = render_cyclonedx(make_result(), "json", "0.1.0")
    for document in (json_document, xml_document):
        assert "\x1b" not in document and "\x00" not in document and "\x7f" not in document
        assert "\\u001b" not in document and "\\u0000" not in document
        assert "\\ud800" not in document
        assert document.isascii()  # printable whatever the terminal's encoding


def test_long_values_are_capped_and_still_valid() -> None:
    result = make_result()
    huge = Package(name="huge", version="1." + "9" * 5000, summary="x" * 100_000)
    result.graph.add_node("huge", package=huge, top_level=True)
    result = dataclasses.replace(
        result, facts={**result.facts, "huge": Facts(values={"blob": "y" * 100_000})}
    )
    bom = json.loads(render_cyclonedx(result, "json", "0.1.0"))
    component = next(c for c in bom["components"] if c["purl"].startswith("pkg:pypi/huge@"))
    assert len(component["description"]) == 4000
    assert len(component["version"]) <= 1024
    assert len(properties_of(component)["trustmap:fact:blob"][0]) == 4000
    assert_valid_json(json.dumps(bom))
    assert_valid_xml(render_cyclonedx(result, "xml", "0.1.0"))


@pytest.mark.filterwarnings("error")
def test_edge_cases_render_valid_documents() -> None:
    """An empty scan; a closure that is one cycle and says nothing about top level."""
    target = TargetEnvironment(markers={}, description="")
    empty = ScanResult(
        resolution=Resolution(packages=(), edges=(), target=target, source=""),
        graph=nx.DiGraph(),
        facts={},
        findings=(),
        undetermined=(),
    )
    cycle_packages = (Package(name="a", version="1"), Package(name="b", version="1"))
    cycle_graph = nx.DiGraph([("a", "b"), ("b", "a")])
    cycle = ScanResult(
        resolution=Resolution(packages=cycle_packages, edges=(), target=target, source="x"),
        graph=cycle_graph,
        facts={},
        findings=(),
        undetermined=(),
    )
    empty, cycle = with_summary(empty), with_summary(cycle)
    for result in (empty, cycle):
        assert_valid_json(render_cyclonedx(result, "json", ""))
        assert_valid_xml(render_cyclonedx(result, "xml", ""))
    bom = json.loads(render_cyclonedx(cycle, "json", "1"))
    root = next(
        d for d in bom["dependencies"] if d["ref"] == bom["metadata"]["component"]["bom-ref"]
    )
    assert set(root["dependsOn"]) == {"pkg:pypi/a@1", "pkg:pypi/b@1"}


def test_fixed_timestamp_is_used() -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    bom = json.loads(render_cyclonedx(make_result(), "json", "0.1.0", timestamp=when))
    assert bom["metadata"]["timestamp"].startswith("2024-05-06T07:08:09")


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown CycloneDX format"):
        render_cyclonedx(make_result(), "yaml", "0.1.0")


def test_clean_strips_what_xml_cannot_carry_and_caps_length() -> None:
    assert clean("a\x00b\x1bc\td\ne\rf\ud800g\ufffeh\x9bi") == "abc\td\ne\rfghi"
    assert clean("x" * 10, limit=5) == "xxxx…"
    assert clean(42) == "42"


def test_to_json_is_compact_sorted_and_scrubbed() -> None:
    assert to_json({"b": [1, None], "a": "x\x1b"}) == '{"a":"x","b":[1,null]}'
    assert to_json({1: "one", "two": 2}) in ('{"1":"one","two":2}', '{"two":2,"1":"one"}')
    assert to_json({"when": datetime(2024, 1, 1, tzinfo=UTC)}) == (
        '{"when":"2024-01-01 00:00:00+00:00"}'
    )
    looped: list = []
    looped.append(looped)
    assert to_json(looped).endswith('"…"' + "]" * 33)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.org/a b", "https://example.org/a%20b"),
        ("https://u:p@example.org:8443/x", "https://example.org:8443/x"),
        ("https://example.org/%zz#a#b", "https://example.org/%25zz#a%23b"),
        ("git+https://github.com/o/r.git", "git+https://github.com/o/r.git"),
        ("javascript:alert(1)", None),
        ("file:///etc/passwd", None),
        ("not a url", None),
        ("https://[bad", None),
        ("https://example.org:99999/", None),
        (None, None),
        (["https://example.org"], None),
    ],
)
def test_clean_url(value: object, expected: str | None) -> None:
    assert clean_url(value) == expected
