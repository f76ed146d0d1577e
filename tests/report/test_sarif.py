"""`--format sarif`: valid SARIF 2.1.0 (checked against the official schema), one result
per new finding at the manifest line that brings the package in, rule metadata from the
rule files, fingerprints that survive a moved line or an upgrade, and metadata escaped."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import networkx as nx
import pytest

from scanner.model import (
    Edge,
    Finding,
    Location,
    Package,
    Publishers,
    Resolution,
    RuleInfo,
    ScanResult,
    Snapshot,
    TargetEnvironment,
    Undetermined,
)
from scanner.policy import Policy, PolicyException, decide
from scanner.report.sarif import render_sarif
from scanner.report.text import sarif_message_text
from scanner.summary import with_summary

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json").read_text()
)

RULES = {
    "solo-and-little-used": RuleInfo(
        "solo-and-little-used",
        "One account alone can publish this little-used package",
        "high",
        category="maintainers",
        motivation="Few eyes,\nand one key.",
        remediation="Pin it by hash.",
        references=("https://docs.pypi.org/organization-accounts/",),
    ),
    "solo-maintainer": RuleInfo("solo-maintainer", "One account alone", "low"),
    "known-vulnerability": RuleInfo("known-vulnerability", "A known vulnerability", "high"),
}


def make_result(
    lines: dict[str, int] | None = None,
    versions: dict[str, str] | None = None,
) -> ScanResult:
    """requirements.txt declares `tiny` (line 3) and `big` (line 1); `big` needs `deep`."""
    lines = {"big": 1, "tiny": 3, **(lines or {})}
    versions = {"big": "2.0", "tiny": "0.1", "deep": "1.0", **(versions or {})}
    packages = (
        Package("big", versions["big"], declared_at=(Location("requirements.txt", lines["big"]),)),
        Package(
            "tiny",
            versions["tiny"],
            declared_at=(Location("requirements.txt", lines["tiny"]),),
        ),
        Package("deep", versions["deep"]),
    )
    edges = (Edge("big", "deep"),)
    graph = nx.DiGraph()
    for package in packages:
        graph.add_node(package.name, package=package, top_level=package.name != "deep")
    graph.add_edge("big", "deep", edge=edges[0])
    findings = (
        Finding("solo-and-little-used", "tiny", "high", RULES["solo-and-little-used"].title, {}),
        Finding("solo-and-little-used", "deep", "high", RULES["solo-and-little-used"].title, {}),
        Finding("solo-maintainer", "tiny", "low", "One account alone", {}),
        Finding("solo-maintainer", "big", "low", "One account alone", {}),
    )
    undetermined = (
        Undetermined("known-vulnerability", "tiny", "high", ("vulnerability_count",), ("down",)),
    )
    resolution = Resolution(
        packages, edges, TargetEnvironment({}, "test"), "requirements.txt", roots=("big", "tiny")
    )
    return with_summary(
        ScanResult(
            resolution, graph, {}, findings, undetermined, notes=("index: test",), rules=RULES
        )
    )


BASELINE = Snapshot(
    "git:main",
    {"big": "2.0", "deep": "1.0"},
    findings=frozenset({("big", "solo-maintainer"), ("deep", "solo-and-little-used")}),
    publishers={"big": Publishers(frozenset({"ann"}))},
)


def gate(result: ScanResult, policy: Policy | None = None, baseline=BASELINE) -> dict:
    verdict = decide(result, policy or Policy(fail_on="high"), baseline, today=date(2026, 12, 3))
    result = ScanResult(**{**result.__dict__, "verdict": verdict})
    return json.loads(render_sarif(result, "1.2.3"))


def results_by(document: dict) -> dict[tuple[str, str, str], dict]:
    return {
        (r["properties"]["package"], r["ruleId"], r["properties"]["kind"]): r
        for r in document["runs"][0]["results"]
    }


def validate(document: dict) -> None:
    validator = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_the_gate_document_is_valid_sarif_2_1_0():
    document = gate(make_result())
    validate(document)
    assert document["version"] == "2.1.0"
    assert document["runs"][0]["tool"]["driver"]["name"] == "trustmap"
    assert document["runs"][0]["invocations"][0]["exitCode"] == 1


def test_the_schema_check_can_fail():
    document = gate(make_result())
    document["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(AssertionError):
        validate(document)


def test_only_what_the_change_adds_is_a_result_each_at_its_manifest_line():
    results = results_by(gate(make_result()))
    # deep's finding and big's are in the baseline: existing, not alerts.
    assert set(results) == {
        ("tiny", "solo-and-little-used", "finding"),
        ("tiny", "known-vulnerability", "undetermined"),
        ("tiny", "solo-maintainer", "finding"),
    }
    failing = results[("tiny", "solo-and-little-used", "finding")]
    assert failing["level"] == "error"
    assert failing["baselineState"] == "new"
    assert failing["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "requirements.txt", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 3},
            }
        }
    ]
    assert "new package" in failing["message"]["text"]
    # Unknown is never shown as safe: a warning that names what could not be checked.
    unknown = results[("tiny", "known-vulnerability", "undetermined")]
    assert unknown["level"] == "warning"
    assert "could not be checked" in unknown["message"]["text"]
    assert (
        "vulnerability\\_count" in unknown["message"]["text"]
        or "vulnerability_count" in (unknown["message"]["text"])
    )
    # A new finding below fail-on is shown at its own level; it does not fail the gate.
    assert results[("tiny", "solo-maintainer", "finding")]["level"] == "note"


def test_a_transitive_package_sits_on_the_line_of_the_package_that_brings_it_in():
    results = results_by(gate(make_result(), baseline=None))
    deep = results[("deep", "solo-and-little-used", "finding")]
    region = deep["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1}  # big's line: big requires deep
    assert "brought in by big > deep" in deep["message"]["text"]
    assert "baselineState" not in deep  # no baseline: nothing to be new against


def test_fingerprints_survive_a_moved_line_and_an_upgrade_but_tell_rules_apart():
    before = results_by(gate(make_result()))
    after = results_by(gate(make_result(lines={"tiny": 7}, versions={"tiny": "0.2"})))
    key = ("tiny", "solo-and-little-used", "finding")
    assert after[key]["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    assert before[key]["partialFingerprints"] == after[key]["partialFingerprints"]
    prints = {r["partialFingerprints"]["trustmap/v1"] for r in before.values()}
    assert len(prints) == len(before)


def test_an_exception_becomes_a_suppression_with_its_reason():
    policy = Policy(
        fail_on="high",
        exceptions=(
            PolicyException(
                "tiny",
                "solo-and-little-used",
                "vendored fork we review",
                date(2027, 1, 1),
                "trustmap.toml:4",
            ),
        ),
    )
    document = gate(make_result(), policy)
    validate(document)
    excepted = results_by(document)[("tiny", "solo-and-little-used", "finding")]
    assert excepted["suppressions"][0]["kind"] == "external"
    assert excepted["suppressions"][0]["status"] == "accepted"
    assert "vendored fork we review" in excepted["suppressions"][0]["justification"]
    assert "trustmap.toml:4" in excepted["suppressions"][0]["justification"]


def test_rule_metadata_comes_from_the_rule_files_and_results_point_at_it():
    document = gate(make_result(), Policy(fail_on="high", deny=("tin*",)))
    validate(document)
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    by_id = {rule["id"]: rule for rule in rules}
    solo = by_id["solo-and-little-used"]
    assert solo["shortDescription"]["text"] == RULES["solo-and-little-used"].title
    assert solo["fullDescription"]["text"] == "Few eyes, and one key."
    assert solo["help"]["text"] == "Pin it by hash."
    assert solo["helpUri"] == "https://docs.pypi.org/organization-accounts/"
    assert solo["properties"]["security-severity"] == "8.0"
    assert solo["defaultConfiguration"]["level"] == "error"
    assert by_id["deny"]["properties"]["security-severity"] == "9.5"
    for result in document["runs"][0]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert ("tiny", "deny", "denied") in results_by(document)


def test_metadata_cannot_embed_links_or_escapes_in_messages():
    # A version that is not PEP 440 is scanned as written: it reaches the message.
    document = gate(make_result(versions={"tiny": "0.1[Update](https://evil.example)\x1b[31m"}))
    text = results_by(document)[("tiny", "solo-and-little-used", "finding")]["message"]["text"]
    assert "[Update](" not in text and "\x1b" not in text
    assert sarif_message_text("[Update](https://evil.example)") in text


def test_a_scan_lists_every_finding_and_what_could_not_be_checked():
    document = json.loads(render_sarif(make_result(), "1.2.3"))
    validate(document)
    results = results_by(document)
    assert len([k for k in results if k[2] == "finding"]) == 4
    assert ("tiny", "known-vulnerability", "undetermined") in results
    assert "exitCode" not in document["runs"][0]["invocations"][0]


def test_message_text_cannot_embed_a_link_or_control_characters():
    text = sarif_message_text("[click](https://e.com) \\ \x1b[31m")
    assert text == "\\[click\\](https://e.com) \\\\ \\\\x1b\\[31m"
