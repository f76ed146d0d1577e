"""Rule files: loading, validation, and each shipped rule against real recorded facts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.facts import build_facts
from scanner.model import Facts, InputError, Package
from scanner.rules import evaluate, load_rule_file, load_rules
from scanner.sources.pypi import IndexRecord, extract_project
from scanner.sources.usage import bundled_top_packages
from tests.conftest import recorded_project

NOW = datetime(2026, 11, 24, tzinfo=UTC)
TOP = bundled_top_packages()


def facts_for(name: str, version: str) -> Facts:
    project = extract_project(recorded_project(name), "https://pypi.org/pypi/x/json", {version})
    record = IndexRecord(name, "found", project=project)
    package = Package(name=name, version=version)
    return build_facts(package, record, TOP, {"top_level": True, "dependents": 0}, now=NOW)


def fired(facts: dict[str, Facts], rule_id: str) -> set[str]:
    findings, _ = evaluate(load_rules(), facts)
    return {f.package for f in findings if f.rule_id == rule_id}


def test_shipped_rules_load_with_everything_a_rule_file_needs():
    rules = load_rules()
    assert {r.id for r in rules.rules} >= {"solo-maintainer", "low-usage", "unknown-origin"}
    for rule in rules.rules:
        assert rule.motivation and rule.remediation and rule.references and rule.condition


def test_solo_maintainer_fires_on_a_real_solo_project_and_not_on_kept_ones():
    facts = {
        "dapy": facts_for("dapy", "1.16.1"),  # one owner, no organisation
        "requests": facts_for("requests", "2.32.3"),  # three owners
        "certifi": facts_for("certifi", "2024.8.30"),  # one owner, but an organisation
    }
    assert fired(facts, "solo-maintainer") == {"dapy"}
    findings, _ = evaluate(load_rules(), facts)
    evidence = next(f.evidence for f in findings if f.rule_id == "solo-maintainer")
    assert evidence["publishers"] == ["JacksonWoo"]


def test_low_usage_fires_on_a_little_used_project_and_not_on_a_popular_one():
    facts = {"dapy": facts_for("dapy", "1.16.1"), "idna": facts_for("idna", "3.10")}
    assert fired(facts, "low-usage") == {"dapy"}
    assert facts["idna"].values["download_rank"] == 9


def test_low_usage_threshold_is_a_param():
    facts = {"mdurl": facts_for("mdurl", "0.1.2")}  # rank 67 in the snapshot
    assert fired(facts, "low-usage") == set()
    findings, _ = evaluate(load_rules(overrides={"low-usage": {"params": {"top_n": 50}}}), facts)
    assert "low-usage" in {f.rule_id for f in findings if f.package == "mdurl"}


def test_unknown_origin_fires_only_when_the_index_has_no_record():
    package = Package(name="internal-tool", version="0.3")
    missing = build_facts(package, IndexRecord("internal-tool", "not-found"), TOP, {}, now=NOW)
    facts = {"internal-tool": missing, "six": facts_for("six", "1.16.0")}
    assert fired(facts, "unknown-origin") == {"internal-tool"}


def test_unknown_facts_make_a_rule_undetermined_never_a_pass():
    unreachable = IndexRecord("six", "unknown", reason="the index could not be read: timeout")
    facts = {"six": build_facts(Package("six", "1.16.0"), unreachable, TOP, {}, now=NOW)}
    findings, undetermined = evaluate(load_rules(), facts)
    assert {u.rule_id for u in undetermined} == {"solo-maintainer", "unknown-origin"}
    reasons = next(u for u in undetermined if u.rule_id == "solo-maintainer").reasons
    assert any("timeout" in r for r in reasons)
    assert not [f for f in findings if f.rule_id in ("solo-maintainer", "unknown-origin")]


def test_a_rule_decided_by_known_facts_is_not_undetermined():
    """An organisation owns it: whatever the unknown publisher count, not solo."""
    facts = {"x": Facts({"organization": "psf"}, {"publisher_count": "not served"})}
    findings, undetermined = evaluate(load_rules(), facts)
    assert "solo-maintainer" not in {u.rule_id for u in undetermined}
    assert "solo-maintainer" not in {f.rule_id for f in findings}


def write_rule(folder: Path, **fields: str) -> Path:
    base = {
        "id": "custom",
        "title": "t",
        "severity": "low",
        "category": "c",
        "motivation": "m",
        "condition": "facts.release_count < params.n",
        "remediation": "r",
    }
    base.update(fields)
    lines = [f"{k} = {v!r}" for k, v in base.items() if v is not None]
    if "params" not in fields:
        lines.append("[params]\nn = 3")
    path = folder / f"{base['id'] or 'x'}.toml"
    path.write_text("\n".join(lines).replace("'", '"') + "\n")
    return path


def test_a_user_rule_folder_adds_rules(tmp_path):
    write_rule(tmp_path)
    rules = load_rules([tmp_path])
    assert rules.get("custom") is not None
    facts = {"x": Facts({"release_count": 1})}
    findings, _ = evaluate(rules, facts)
    assert [f.rule_id for f in findings if f.rule_id == "custom"] == ["custom"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"condition": "facts.release_count <"}, "does not compile"),
        ({"condition": "facts.no_such_fact == 1"}, "unknown facts no_such_fact"),
        ({"severity": "urgent"}, "severity 'urgent'"),
        ({"motivation": ""}, "lacks motivation"),
        ({"id": "Bad Id"}, "must be lower-case"),
        ({"condition": "facts.release_count < params.missing"}, "params not in [params]"),
    ],
)
def test_invalid_rule_files_are_rejected_at_load(tmp_path, fields, message):
    path = write_rule(tmp_path, **fields)
    with pytest.raises(InputError) as error:
        load_rule_file(path)
    assert message in str(error.value) and str(path) in str(error.value)


def test_invalid_toml_is_rejected(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("id = [unclosed")
    with pytest.raises(InputError, match="invalid TOML"):
        load_rule_file(path)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"nope": {}}, "no rule with id 'nope'"),
        ({"low-usage": {"params": {"top_m": 3}}}, "no param 'top_m'"),
        ({"low-usage": {"params": {"top_n": "many"}}}, "must be int"),
        ({"low-usage": {"severity": "huge"}}, "severity 'huge'"),
    ],
)
def test_bad_overrides_are_rejected(override, message):
    with pytest.raises(InputError, match=message):
        load_rules(overrides=override)


def test_a_rule_can_be_switched_off():
    rules = load_rules(overrides={"low-usage": {"enabled": False}})
    facts = {"dapy": facts_for("dapy", "1.16.1")}
    findings, _ = evaluate(rules, facts)
    assert "low-usage" not in {f.rule_id for f in findings}
