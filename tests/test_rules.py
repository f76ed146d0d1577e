"""Rule files: loading, validation, and each shipped rule against real recorded facts."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.facts.derive import add_requirer_facts, build_facts
from scanner.model import Facts, Finding, InputError, Package, Undetermined
from scanner.records import IndexRecord, SourceAnswer
from scanner.rules import (
    Rule,
    RuleExample,
    RuleSet,
    evaluate,
    load_rule_file,
    load_rules,
    param_problem,
)
from scanner.sources.pypi import project_of
from scanner.sources.usage import bundled_top_packages
from tests.conftest import recorded_project

NOW = datetime(2026, 11, 24, tzinfo=UTC)
TOP = bundled_top_packages()
TOP_LEVEL = {"top_level": True, "dependents": 0}


def facts_for(name: str, version: str, now: datetime = NOW, **keywords) -> Facts:
    """Facts of a recorded real project, as a scan builds them: vulnerabilities are known
    for the latest release only (the mirror serves no per-version JSON)."""
    project = project_of(recorded_project(name), "https://pypi.org/pypi/x/json", {version})
    latest = project.latest_version == version
    record = IndexRecord(
        name,
        "found",
        project=project,
        version_vulnerabilities=project.latest_vulnerabilities if latest else None,
        vulnerabilities_unknown=(
            "" if latest else "the index serves vulnerabilities of the latest only"
        ),
        provenance=keywords.pop("provenance", None),
    )
    package = Package(name=name, version=version, direct_url=keywords.pop("direct_url", None))
    graph = {"top_level": True, "dependents": 0}
    return build_facts(package, record, TOP, graph, now=now, **keywords)


def evaluated(rules, facts: dict[str, Facts], required_by: dict[str, list[str]] | None = None):
    """Rules over facts as a scan gives them: with the facts about each package's
    requirers (none, unless `required_by` names them)."""
    return evaluate(rules, add_requirer_facts(facts, required_by or {}))


def fired(facts: dict[str, Facts], rule_id: str) -> set[str]:
    """Packages the rule fired for, whether its finding stands or is folded into a
    finding that supersedes it."""
    findings, _ = evaluated(load_rules(), facts)
    return {f.package for f in findings if rule_id == f.rule_id or rule_id in f.covers}


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
    # dapy is little used too: the combined finding stands for the solo one.
    findings, _ = evaluated(load_rules(), facts)
    combined = next(f for f in findings if f.package == "dapy" and "solo-maintainer" in f.covers)
    assert combined.rule_id == "solo-and-little-used"
    assert combined.evidence["publishers"] == ["JacksonWoo"]


def test_low_usage_fires_on_a_little_used_project_and_not_on_a_popular_one():
    facts = {"dapy": facts_for("dapy", "1.16.1"), "idna": facts_for("idna", "3.10")}
    assert fired(facts, "low-usage") == {"dapy"}
    assert facts["idna"].values["download_rank"] == 9


def test_low_usage_threshold_is_a_param():
    facts = {"mdurl": facts_for("mdurl", "0.1.2")}  # rank 67 in the snapshot
    assert fired(facts, "low-usage") == set()
    findings, _ = evaluate(load_rules(overrides={"low-usage": {"params": {"top_n": 50}}}), facts)
    assert "low-usage" in {f.rule_id for f in findings if f.package == "mdurl"}


def test_a_second_evaluation_of_the_same_rules_decides_nothing_again(monkeypatch):
    """A gate evaluates the rules over both sides, which share most facts: each condition
    is decided once per process for the facts it sees (and its params)."""
    import scanner.rules as rules_module

    facts = {"dapy": facts_for("dapy", "1.16.1"), "idna": facts_for("idna", "3.10")}
    rules = load_rules()
    first = evaluated(rules, facts)
    decide = rules_module._decide
    decided = []
    monkeypatch.setattr(
        rules_module, "_decide", lambda *a, **k: decided.append(a) or decide(*a, **k)
    )
    assert evaluated(load_rules(), facts) == first
    assert decided == []
    evaluated(load_rules(overrides={"low-usage": {"params": {"top_n": 57}}}), facts)
    assert decided  # other params: decided afresh


def test_unknown_origin_fires_only_when_the_index_has_no_record():
    package = Package(name="internal-tool", version="0.3")
    missing = build_facts(package, IndexRecord("internal-tool", "not-found"), TOP, {}, now=NOW)
    facts = {"internal-tool": missing, "six": facts_for("six", "1.16.0")}
    assert fired(facts, "unknown-origin") == {"internal-tool"}


def test_unknown_facts_make_a_rule_undetermined_never_a_pass():
    unreachable = IndexRecord("six", "unknown", reason="the index could not be read: timeout")
    facts = {"six": build_facts(Package("six", "1.16.0"), unreachable, TOP, {}, now=NOW)}
    findings, undetermined = evaluate(load_rules(), facts)
    undecided = {u.rule_id for u in undetermined}
    assert undecided >= {"solo-maintainer", "unknown-origin", "stale", "yanked", "sdist-only"}
    # Decided without the index: the name looks like nothing, low-usage is known.
    assert "typosquat" not in undecided and "low-usage" not in undecided
    reasons = next(u for u in undetermined if u.rule_id == "solo-maintainer").reasons
    assert any("timeout" in r for r in reasons)
    assert not [f for f in findings if f.rule_id in undecided]


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
        ({"condition": "string(1)"}, "condition must give true or false, not str '1'"),
        ({"condition": "facts.publisher_count"}, "condition must give true or false, not int"),
        ({"condition": "facts.release_count + params.n"}, "must give true or false, not int"),
        ({"condition": "null"}, "condition must give true or false, not null"),
        ({"condition": "facts.name"}, "condition must give true or false, not str"),
        (
            {"condition": "facts.publisher_count == 1 ? facts.name : false"},
            "condition must give true or false, not str",
        ),
        ({"condition": "facts.glob"}, "unknown facts glob"),
        # Only the static check sees these: no sample takes the string branch (no sample
        # count is 7), and int() of every sample version fails, as does / 0.
        (
            {"condition": "facts.publisher_count == 7 ? facts.name : false"},
            "condition must give true or false, not string (a type its result can have, "
            "whatever the facts)",
        ),
        ({"condition": "int(facts.version)"}, "condition must give true or false, not int"),
        ({"condition": "facts.release_count / 0"}, "condition must give true or false, not int"),
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
        ({"low-usage": {"params": {"top_n": "many"}}}, "param top_n must be an integer"),
        ({"low-usage": {"params": {"top_n": -5}}}, "param top_n must be 0 or more, got -5"),
        ({"low-usage": {"params": {"top_n": True}}}, "must be an integer, got True"),
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


# --- each shipped rule on real recorded projects ------------------------------------------


def findings_of(facts: dict[str, Facts], rules=None) -> dict[tuple[str, str], dict]:
    """Standing findings by (rule, package), with their evidence."""
    found, _ = evaluated(rules or load_rules(), facts)
    return {(f.rule_id, f.package): dict(f.evidence) for f in found}


def undetermined_of(facts: dict[str, Facts]) -> dict[tuple[str, str], tuple[str, ...]]:
    _, undecided = evaluated(load_rules(), facts)
    return {(u.rule_id, u.package): u.reasons for u in undecided}


def test_severities_reflect_combined_risk():
    rules = {r.id: r.severity for r in load_rules().rules}
    for single in ("solo-maintainer", "low-usage", "stale", "no-source-repository"):
        assert rules[single] == "low"
    for combined in ("solo-and-little-used", "new-and-solo", "no-source-and-little-used"):
        assert rules[combined] == "high"
    for grave in ("typosquat", "dependency-confusion", "ownership-change", "known-vulnerability"):
        assert rules[grave] == "high"


def test_a_solo_maintainer_of_a_popular_package_is_low_and_not_high():
    facts = {
        "idna": facts_for("idna", "3.10"),  # kjd alone, rank 9
        "boto3": facts_for("boto3", "1.44.8"),  # the `aws` account alone, rank 1
        "dapy": facts_for("dapy", "1.16.1"),
    }
    found = findings_of(facts)
    assert ("solo-maintainer", "idna") in found and ("solo-maintainer", "boto3") in found
    assert {p for r, p in found if r == "solo-and-little-used"} == {"dapy"}
    assert found[("solo-and-little-used", "dapy")]["publishers"] == ["JacksonWoo"]


def test_known_stars_or_dependents_make_a_package_used():
    popular = facts_for("dapy", "1.16.1", enrichment=SourceAnswer({"repository_stars": 4000}))
    found = findings_of({"dapy": popular})
    assert ("low-usage", "dapy") not in found and ("solo-and-little-used", "dapy") not in found
    # Unknown stars (not gathered here) never make it look used, nor undetermined.
    plain = facts_for("dapy", "1.16.1")
    assert "repository_stars" in plain.unknown and plain.values["enrichment"] == {}
    assert ("low-usage", "dapy") not in undetermined_of({"dapy": plain})


def test_new_package_and_new_and_solo():
    """mdurl's first release was 2021-07-20: seen three weeks later it was new."""
    then = datetime(2021, 8, 10, tzinfo=UTC)
    facts = {"mdurl": facts_for("mdurl", "0.1.2", now=then)}
    facts["requests"] = facts_for("requests", "2.32.3", now=then)
    found = findings_of(facts)
    assert fired(facts, "new-package") == {"mdurl"}
    assert {p for r, p in found if r == "new-and-solo"} == {"mdurl"}
    assert ("new-package", "mdurl") not in found  # folded into new-and-solo: one cause
    assert found[("new-and-solo", "mdurl")]["publishers"] == ["hukkin"]
    assert not [k for k in findings_of({"mdurl": facts_for("mdurl", "0.1.2")}) if "new" in k[0]]


def test_fresh_release_within_the_cooldown():
    facts = {"boto3": facts_for("boto3", "1.44.8"), "requests": facts_for("requests", "2.32.3")}
    found = findings_of(facts)
    assert {p for r, p in found if r == "fresh-release"} == {"boto3"}
    assert found[("fresh-release", "boto3")]["version_upload_time"].startswith("2026-11-20")
    cooler = load_rules(overrides={"fresh-release": {"params": {"cooldown_days": 3}}})
    assert ("fresh-release", "boto3") not in findings_of(facts, cooler)


def test_stale_on_release_age_and_on_an_archived_repository_where_known():
    facts = {
        "dapy": facts_for("dapy", "1.16.1"),  # last release 2020
        "pycrypto": facts_for("pycrypto", "2.6.1"),  # last release 2014
        "requests": facts_for("requests", "2.32.3"),
    }
    assert {p for r, p in findings_of(facts) if r == "stale"} == {"dapy", "pycrypto"}
    archived = facts_for(
        "requests", "2.32.3", enrichment=SourceAnswer({"repository_archived": True})
    )
    assert ("stale", "requests") in findings_of({"requests": archived})
    assert "GitHub" in facts["requests"].unknown["repository_archived"]
    assert ("stale", "requests") not in undetermined_of({"requests": facts["requests"]})


def test_no_source_repository_and_its_little_used_combination():
    facts = {
        "dapy": facts_for("dapy", "1.16.1"),
        "pycrypto": facts_for("pycrypto", "2.6.1"),  # no repository, but rank 1390
        "requests": facts_for("requests", "2.32.3"),
    }
    found = findings_of(facts)
    assert {p for r, p in found if r == "no-source-repository"} == {"dapy", "pycrypto"}
    assert fired(facts, "no-source-and-little-used") == {"dapy"}
    assert found[("no-source-repository", "dapy")]["homepage"] == "http://dapy.kitgram.cn"


def test_one_cause_is_one_finding():
    """dapy is solo, little used and links no repository: "little used" is one cause, so
    one high finding stands (solo-and-little-used) and folds the other combination and
    the single signals it is made of; the separate cause (no repository) stays, low."""
    findings, _ = evaluated(load_rules(), {"dapy": facts_for("dapy", "1.16.1")})
    standing = {f.rule_id: f for f in findings}
    assert [f.rule_id for f in findings if f.severity == "high"] == ["solo-and-little-used"]
    assert set(standing["solo-and-little-used"].covers) == {
        "low-usage", "no-source-and-little-used", "solo-maintainer",
    }  # fmt: skip
    assert "no-source-repository" in standing and "low-usage" not in standing


def test_repository_mismatch():
    """A look-alike that links the popular project's repository (starjacking): requests'
    recorded project document under the name 'reqeusts'."""
    project = project_of(recorded_project("requests"), "https://pypi.org/x", {"2.32.3"})
    record = IndexRecord("reqeusts", "found", project=project)
    squat = build_facts(Package("reqeusts", "2.32.3"), record, TOP, {}, now=NOW)
    facts = {"reqeusts": squat, **{n: facts_for(n, v) for n, v in _KEPT.items()}}
    found = findings_of(facts)
    assert {p for r, p in found if r == "repository-mismatch"} == {"reqeusts"}
    assert (
        found[("repository-mismatch", "reqeusts")]["repository_slug"] == "github.com/psf/requests"
    )
    # No repository: decided (not undetermined), the other rule says so.
    assert ("repository-mismatch", "dapy") not in undetermined_of(
        {"dapy": facts_for("dapy", "1.16.1")}
    )


_KEPT = {
    "requests": "2.32.3",
    "urllib3": "2.2.3",
    "charset-normalizer": "3.4.0",
    "certifi": "2024.8.30",
    "markdown-it-py": "3.0.0",
    "rich": "13.9.4",
    "six": "1.16.0",
    "idna": "3.10",
    "mdurl": "0.1.2",
    "pygments": "2.18.0",
}


def test_no_provenance_is_unknown_where_the_index_does_not_serve_it():
    from scanner.sources.provenance import Provenance

    reason = "the index does not serve PEP 740 provenance"
    facts = {
        "six": facts_for("six", "1.16.0", provenance=Provenance("six.whl", "none")),
        "idna": facts_for(
            "idna",
            "3.10",
            provenance=Provenance(
                "idna.whl",
                "attested",
                ({"kind": "GitHub", "repository": "kjd/idna", "workflow": "deploy.yml"},),
            ),
        ),
        "rich": facts_for(
            "rich", "13.9.4", provenance=Provenance("r.whl", "unknown", reason=reason)
        ),
    }
    found = findings_of(facts)
    assert {p for r, p in found if r == "no-provenance"} == {"six"}
    assert facts["idna"].values["provenance_repository"] == "kjd/idna"
    assert facts["idna"].values["provenance_workflow"] == "deploy.yml"
    undecided = undetermined_of(facts)
    assert any(reason in r for r in undecided[("no-provenance", "rich")])
    assert "has_provenance" not in facts["rich"].values


def test_sdist_only():
    facts = {"pycrypto": facts_for("pycrypto", "2.6.1"), "six": facts_for("six", "1.16.0")}
    found = findings_of(facts)
    assert {p for r, p in found if r == "sdist-only"} == {"pycrypto"}
    assert found[("sdist-only", "pycrypto")]["file_types"] == ["sdist"]


def test_yanked_with_its_reason():
    facts = {
        "requests": facts_for("requests", "2.32.0"),  # yanked on PyPI
        "urllib3": facts_for("urllib3", "2.2.3"),
    }
    found = findings_of(facts)
    assert {p for r, p in found if r == "yanked"} == {"requests"}
    assert found[("yanked", "requests")]["yanked_reason"]


def test_known_vulnerability_with_ids_and_unknown_for_older_releases():
    facts = {
        "pycrypto": facts_for("pycrypto", "2.6.1"),  # the latest release, four advisories
        "requests": facts_for("requests", "2.34.2"),  # the latest release, none
        "idna": facts_for("idna", "3.10"),  # not the latest: unknown on this mirror
    }
    found = findings_of(facts)
    assert {p for r, p in found if r == "known-vulnerability"} == {"pycrypto"}
    evidence = found[("known-vulnerability", "pycrypto")]
    assert {"PYSEC-2017-94", "PYSEC-2018-97", "GHSA-6528-wvf6-f6qg"} <= set(
        evidence["vulnerability_ids"]
    )
    assert evidence["fixed_versions"] == []
    assert ("known-vulnerability", "idna") in undetermined_of(facts)


def test_typosquat_names_its_target_and_spares_popular_look_alikes():
    missing = IndexRecord("reqeusts", "not-found")
    squat = build_facts(Package("reqeusts", "1.0"), missing, TOP, TOP_LEVEL, now=NOW)
    facts = {
        "reqeusts": squat,
        # BeautifulSoup 3 is one character from beautifulsoup4, but popular itself.
        "beautifulsoup": facts_for("beautifulsoup", "3.2.2"),
        "requests": facts_for("requests", "2.32.3"),
        "python-dateutil": build_facts(
            Package("python-dateutil", "2.9"), IndexRecord("x", "not-found"), TOP, {}, now=NOW
        ),
    }
    found = findings_of(facts)
    assert {p for r, p in found if r == "typosquat"} == {"reqeusts"}
    evidence = found[("typosquat", "reqeusts")]
    assert evidence["lookalike_of"] == "requests" and evidence["lookalike_kind"]
    assert facts["beautifulsoup"].values["lookalike_of"] == "beautifulsoup4"
    # Where one line is all there is (the gate), the finding's detail names the target.
    found, _ = evaluated(load_rules(), facts)
    (squat_finding,) = [f for f in found if f.rule_id == "typosquat"]
    assert squat_finding.detail == f"like requests ({evidence['lookalike_detail']})"


def test_a_detail_is_filled_from_the_evidence_as_people_read_it():
    from scanner.rules import detail_text

    evidence = {"publishers": ["amk", "dlitz"], "ids": [], "n": 3, "kind": None}
    assert (
        detail_text("{publishers}; {ids}; {n}; {kind}", evidence) == "amk, dlitz; none; 3; unknown"
    )
    # Braces in a fact's value are text, not a template.
    assert detail_text("like {n}", {"n": "{publishers}"}) == "like {publishers}"
    assert detail_text("", evidence) == ""


def test_a_look_alike_published_by_an_account_of_its_target_is_not_a_squat():
    """The real requests document under the name 'reqeusts': its publishers (Lukasa, ...)
    also publish requests in this closure, so it is the maintainers' own name."""
    project = project_of(recorded_project("requests"), "https://pypi.org/pypi/x/json", set())
    record = IndexRecord("reqeusts", "found", project=project)
    accounts = {"Lukasa": ["requests", "reqeusts"], "nateprewitt": ["requests", "reqeusts"]}
    same = build_facts(
        Package("reqeusts", "2.32.3"), record, TOP, TOP_LEVEL, now=NOW, accounts=accounts
    )
    assert same.values["lookalike_target_same_publisher"] is True
    assert ("typosquat", "reqeusts") not in findings_of({"reqeusts": same})
    other = build_facts(Package("reqeusts", "2.32.3"), record, TOP, TOP_LEVEL, now=NOW, accounts={})
    assert other.values["lookalike_target_same_publisher"] is False
    assert ("typosquat", "reqeusts") in findings_of({"reqeusts": other})


def test_absence_from_the_usage_dataset_says_nothing_of_projects_newer_than_it():
    """mdurl as of a clock where its first release (2021) came after the dataset: its rank
    is unknown, so low-usage is undetermined rather than fired."""
    from dataclasses import replace

    old_dataset = replace(TOP, snapshot_date="2021-08-01", ranks={}, counts={})
    project = project_of(recorded_project("mdurl"), "https://pypi.org/pypi/x/json", set())
    record = IndexRecord("mdurl", "found", project=project)
    facts = build_facts(Package("mdurl", "0.1.0"), record, old_dataset, {}, now=NOW)
    assert "download_rank" not in facts.values
    assert "too late to be ranked" in facts.unknown["download_rank"]
    _, undetermined = evaluate(load_rules(), {"mdurl": facts})
    assert "low-usage" in {u.rule_id for u in undetermined}


def test_dependency_confusion_on_internal_patterns_and_on_local_installs():
    kept = facts_for("idna", "3.10")
    assert ("dependency-confusion", "idna") not in findings_of({"idna": kept})
    configured = {"idna": facts_for("idna", "3.10", internal_patterns=["idna*"])}
    assert ("dependency-confusion", "idna") in findings_of(configured)
    by_param = load_rules(
        overrides={"dependency-confusion": {"params": {"internal_patterns": ["IDNA"]}}}
    )
    assert ("dependency-confusion", "idna") in findings_of({"idna": kept}, by_param)
    # A local folder named like a public project: installing by name takes the public one.
    local = facts_for("six", "1.16.0", direct_url="file:///home/lab/src/six")
    own = facts_for("six", "1.16.0", direct_url="git+https://github.com/benjaminp/six@1.16.0")
    assert ("dependency-confusion", "six") in findings_of({"six": local})
    assert ("dependency-confusion", "six") not in findings_of({"six": own})


def test_ownership_change_against_the_last_scan():
    from scanner.store import OwnershipRecord

    before = OwnershipRecord(("kjd", "someone"), "", 1.7e9, 1.7e9)
    changed = OwnershipRecord(("mallory",), "", 1.7e9, 1.7e9)
    cases = {
        "first sighting": facts_for("idna", "3.10", history={}),
        "same": facts_for("idna", "3.10", history={"idna": OwnershipRecord(("kjd",), "", 1, 1)}),
        "removed only": facts_for("idna", "3.10", history={"idna": before}),
        "taken over": facts_for("idna", "3.10", history={"idna": changed}),
    }
    fired = {
        k for k, f in cases.items() if ("ownership-change", "idna") in findings_of({"idna": f})
    }
    assert fired == {"taken over"}
    evidence = findings_of({"idna": cases["taken over"]})[("ownership-change", "idna")]
    assert evidence["previous_publishers"] == ["mallory"] and evidence["publishers"] == ["kjd"]
    strict = load_rules(overrides={"ownership-change": {"params": {"count_removals": True}}})
    assert ("ownership-change", "idna") in findings_of({"idna": cases["removed only"]}, strict)
    no_history = facts_for("idna", "3.10")
    assert ("ownership-change", "idna") in undetermined_of({"idna": no_history})


def test_well_kept_packages_get_no_high_findings():
    facts = {n: facts_for(n, v, history={}, accounts={}) for n, v in _KEPT.items()}
    high = {k for k, _ in findings_of(facts).items() if load_rules().get(k[0]).severity == "high"}
    assert high == set()


def _lookalike(top_level: bool) -> Facts:
    """The real requests document under the look-alike name 'reqeusts', published by
    accounts that do not publish requests in this closure."""
    project = project_of(recorded_project("requests"), "https://pypi.org/pypi/x/json", set())
    record = IndexRecord("reqeusts", "found", project=project)
    graph = {"top_level": top_level, "dependents": 0 if top_level else 1}
    return build_facts(Package("reqeusts", "2.32.3"), record, TOP, graph, now=NOW, accounts={})


def test_typosquat_is_about_what_a_person_types():
    """A look-alike that a person asked for, or that only thinly watched packages bring
    in, is a high typosquat; one that a widely used package requires was chosen by its
    maintainers, and is the low lookalike-name; unknown requirers leave it undetermined."""
    cases = {
        "typed": ({"reqeusts": _lookalike(True)}, {}),
        "thin": (
            {"reqeusts": _lookalike(False), "dapy": facts_for("dapy", "1.16.1")},
            {"reqeusts": ["dapy"]},
        ),
        "chosen": (
            {"reqeusts": _lookalike(False), "boto3": facts_for("boto3", "1.44.8")},
            {"reqeusts": ["boto3"]},
        ),
        "unknown": (
            {"reqeusts": _lookalike(False), "x": Facts({}, {"download_rank": "offline"})},
            {"reqeusts": ["x"]},
        ),
    }
    outcome = {}
    for case, (facts, required_by) in cases.items():
        findings, undetermined = evaluated(load_rules(), facts, required_by)
        mine = {f.rule_id: f for f in findings if f.package == "reqeusts"}
        undecided = {u.rule_id for u in undetermined if u.package == "reqeusts"}
        outcome[case] = (
            "high" if "typosquat" in mine else "low" if "lookalike-name" in mine else "",
            "typosquat" in undecided,
        )
        if "lookalike-name" in mine:
            assert mine["lookalike-name"].evidence["required_by_well_kept"] == ["boto3"]
    assert outcome == {
        "typed": ("high", False),
        "thin": ("high", False),
        "chosen": ("low", False),
        "unknown": ("", True),
    }


def test_a_look_alike_owned_by_an_organisation_is_low():
    facts = _lookalike(False)
    owned = Facts({**facts.values, "organization": "pydantic"}, facts.unknown)
    found = findings_of({"reqeusts": owned})
    assert ("lookalike-name", "reqeusts") in found and ("typosquat", "reqeusts") not in found


def test_a_project_newer_than_the_dataset_is_not_known_to_be_unpopular():
    """`!facts.in_top_packages` must not read the unknown as a known false."""
    from dataclasses import replace

    old_dataset = replace(TOP, snapshot_date="2021-08-01", ranks={}, counts={})
    project = project_of(recorded_project("mdurl"), "https://pypi.org/pypi/x/json", set())
    record = IndexRecord("mdurl", "found", project=project)
    facts = build_facts(Package("mdurl", "0.1.0"), record, old_dataset, TOP_LEVEL, now=NOW)
    assert "in_top_packages" not in facts.values and "in_top_packages" in facts.unknown


def test_first_party_code_is_said_so_and_not_flagged_as_of_unknown_origin():
    mine = build_facts(
        Package("my-project", "0.1", direct_url="file:///home/me/my-project", editable=True),
        IndexRecord("my-project", "not-found"),
        TOP,
        TOP_LEVEL,
        now=NOW,
    )
    vcs = build_facts(
        Package("tool", "1.0", direct_url="git+https://github.com/o/tool@main", editable=True),
        IndexRecord("tool", "not-found"),
        TOP,
        TOP_LEVEL,
        now=NOW,
    )
    found = findings_of({"my-project": mine, "tool": vcs})
    assert {r for r, p in found if p == "my-project"} == {"first-party"}
    assert {"unknown-origin", "not-from-index"} <= {r for r, p in found if p == "tool"}
    rules = load_rules()
    _, undetermined = evaluated(rules, {"my-project": mine})
    folded = set(rules.get("first-party").supersedes)
    assert "low-usage" in folded
    # The third-party checks do not apply to one's own code, decided or not.
    assert not folded & {u.rule_id for u in undetermined}


@pytest.mark.parametrize(
    "condition, error",
    [
        ("facts.release_count / 0 > 1", "division by zero"),
        ("facts.release_count % 0 == 0", "modulo by zero"),
        ("[1][facts.release_count] == 1", "index out of bounds"),
        ("facts.release_count + 9223372036854775807 > 0", "overflow"),
    ],
)
def test_a_condition_that_fails_at_run_time_is_undetermined_not_a_crash(tmp_path, condition, error):
    write_rule(tmp_path, condition=condition)
    rules = load_rules([tmp_path])
    known = {"x": Facts({"release_count": 1})}
    unknown = {"y": Facts({}, {"release_count": "not served"})}
    findings, undetermined = evaluate(rules, {**known, **unknown})
    assert "custom" not in {f.rule_id for f in findings}
    custom = {u.package: u for u in undetermined if u.rule_id == "custom"}
    assert set(custom) == {"x", "y"}
    assert any(error in reason for reason in custom["x"].reasons)


_CONDITION_PIECES = st.sampled_from(
    ["facts.release_count", "facts.name", "facts.publishers", "facts.version_yanked",
     "params.n", " / ", " % ", " + ", " < ", " == ", " && ", " || ", "!", "(", ")", "0", "1",
     "string(1)", "null", "true", "size(", "[1]", "[", "]", "?", ":", "9223372036854775807"]
)  # fmt: skip
_FACT_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "release_count": st.integers(min_value=-(2**63), max_value=2**63 - 1),
        "name": st.text(max_size=5),
        "publishers": st.lists(st.text(max_size=3), max_size=2),
        "version_yanked": st.booleans(),
    },
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_CONDITION_PIECES, min_size=1, max_size=8).map("".join), _FACT_VALUES)
def test_any_condition_loads_or_is_rejected_and_never_crashes_a_scan(tmp_path_factory, text, facts):
    folder = tmp_path_factory.mktemp("rules")
    write_rule(folder, condition=text)
    try:
        rules = load_rules([folder])
    except InputError as error:
        assert "\n" not in str(error)
        return
    evaluate(rules, {"x": Facts(facts, {"publisher_count": "not served"})})


# --- what a user reads when a rule file or an override is wrong ---------------------------

_RULE_KEYS = {
    "id": '"custom"',
    "title": '"t"',
    "severity": '"low"',
    "category": '"c"',
    "motivation": '"m"',
    "condition": '"facts.release_count < params.n"',
    "remediation": '"r"',
}


def write_toml_rule(
    folder: Path, extra: str = "", name: str = "custom", params: str | None = "n = 3", **keys
) -> Path:
    """A rule file from TOML values as written (so that any type can be given); a key set
    to None is left out, `params` is the [params] table's body (None: no table), `extra`
    is appended ([[examples]] tables)."""
    values = {**_RULE_KEYS, **keys}
    lines = [f"{key} = {value}" for key, value in values.items() if value is not None]
    if params is not None:
        extra = f"[params]\n{params}\n{extra}"
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def load_error(path: Path) -> str:
    with pytest.raises(InputError) as error:
        load_rule_file(path)
    return str(error.value)


def test_a_rule_file_gives_every_field_of_the_rule(tmp_path):
    path = write_toml_rule(
        tmp_path,
        severity='"medium"',
        title='"Few releases"',
        category='"history"',
        motivation='"""\n  Why it matters.\n"""',
        condition='"""\n  facts.release_count < params.n\n"""',
        remediation='"  Wait for more releases.  "',
        references='["https://a.example", "https://b.example"]',
        evidence='["publishers"]',
        supersedes='["low-usage"]',
        extra=(
            '[[examples]]\nname = "one release"\nexpect = "fires"\n'
            "facts = { release_count = 1 }\n"
            '[[examples]]\nname = "nothing known"\nexpect = "undetermined"\n'
        ),
    )
    assert load_rule_file(path) == Rule(
        id="custom",
        title="Few releases",
        severity="medium",
        category="history",
        motivation="Why it matters.",
        condition="facts.release_count < params.n",
        remediation="Wait for more releases.",
        references=("https://a.example", "https://b.example"),
        params={"n": 3},
        evidence=("publishers",),
        path=str(path),
        enabled=True,
        supersedes=("low-usage",),
        examples=(
            RuleExample("one release", {"release_count": 1}, "fires"),
            RuleExample("nothing known", {}, "undetermined"),
        ),
    )


@pytest.mark.parametrize(
    "keys, extra, message",
    [
        ({"title": None, "motivation": None}, "", "rule file lacks title, motivation"),
        ({"title": "1"}, "", "rule file lacks title"),
        ({"remediation": '""'}, "", "rule file lacks remediation"),
        ({"colour": '"red"', "author": '"me"'}, "", "unknown keys author, colour"),
        ({"id": '"Bad Id"'}, "", "id 'Bad Id' must be lower-case words joined by '-'"),
        (
            {"params": None, "condition": '"facts.release_count < 3"'},
            "params = 3\n",
            "params must be a table",
        ),
        (
            {"severity": '"urgent"'},
            "",
            "severity 'urgent' is not one of info, low, medium, high, critical",
        ),
        ({"references": '"https://a.example"'}, "", "references must be a list of strings"),
        ({"evidence": "[1]"}, "", "evidence must be a list of strings"),
        ({"supersedes": '"low-usage"'}, "", "supersedes must be a list of strings"),
        ({"examples": "3"}, "", "examples must be [[examples]] tables"),
        ({"examples": "[1]"}, "", "examples must be [[examples]] tables"),
        (
            {},
            '[[examples]]\nname = "a"\nexpect = "fires"\nnote = "x"\n',
            "example 1: needs name, facts and expect, and nothing else",
        ),
        (
            {},
            '[[examples]]\nname = "a"\nexpect = "fires"\n[[examples]]\nexpect = "quiet"\n',
            "example 2: needs name, facts and expect, and nothing else",
        ),
        (
            {},
            '[[examples]]\nname = 3\nexpect = "fires"\n',
            "example 1: needs name, facts and expect, and nothing else",
        ),
        (
            {},
            '[[examples]]\nname = "a"\n',
            "example 1: expect must be one of fires, quiet, undetermined",
        ),
        (
            {},
            '[[examples]]\nname = "a"\nexpect = "fires"\nfacts = { nope = 1, also = 2 }\n',
            "example 1: facts must be a table of known facts, not ['also', 'nope']",
        ),
        (
            {},
            '[[examples]]\nname = "a"\nexpect = "fires"\nfacts = 3\n',
            "example 1: facts must be a table of known facts, not 3",
        ),
        (
            {"condition": '"facts.zeta_fact == 1 || facts.alpha_fact == 2"'},
            "",
            "condition uses unknown facts alpha_fact, zeta_fact (see `trustmap rules facts`)",
        ),
        (
            {"condition": '"facts.release_count < params.z + params.m"'},
            "",
            "condition uses params not in [params]: ['m', 'z']",
        ),
        ({"detail": "3"}, "", "detail must be a string"),
        (
            {"detail": '"like {nope}"'},
            "",
            "detail may name only facts of the condition or evidence as {fact}, not {nope}",
        ),
        (
            {"detail": '"{publishers!r} {publishers:>9}"'},
            "",
            "detail may name only facts of the condition or evidence as {fact}, not {publishers!r}",
        ),
        (
            {"detail": '"{publishers.__class__}"'},
            "",
            "detail may name only facts of the condition or evidence as {fact}, not "
            "{publishers.__class__}",
        ),
        (
            {"detail": '"{publishers"'},
            "",
            "detail: expected '}' before end of string (write {{ for a literal brace)",
        ),
        (
            {"condition": "\"'" + "a" * 100 + "'\""},
            "",
            "condition must give true or false, not str '" + "a" * 59,
        ),
    ],
)
def test_a_wrong_rule_file_is_rejected_with_what_to_fix(tmp_path, keys, extra, message):
    path = write_toml_rule(tmp_path, extra, **keys)
    assert load_error(path) == f"{path}: {message}"


def test_a_condition_that_does_not_compile_is_reported_on_one_line(tmp_path):
    path = write_toml_rule(tmp_path, condition='"facts.release_count <"')
    message = load_error(path)
    prefix = f"{path}: condition does not compile: Failed to parse expression"
    assert message.startswith(prefix) and "\n" not in message
    # The engine's first line, which says where and what: not the source excerpt under it.
    assert message.endswith("IDENTIFIER}")


def test_an_unreadable_or_invalid_rule_file_is_named(tmp_path):
    undecodable = tmp_path / "latin.toml"
    undecodable.write_bytes(b'title = "caf\xe9"\n')
    assert load_error(undecodable).startswith(f"{undecodable}: cannot read rule file: 'utf-8'")
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    assert (
        load_error(folder)
        == f"{folder}: cannot read rule file: [Errno 21] Is a directory: {str(folder)!r}"
    )
    broken = tmp_path / "bad.toml"
    broken.write_text("id = [unclosed")
    with pytest.raises(tomllib.TOMLDecodeError) as parse_error:
        tomllib.loads("id = [unclosed")
    assert load_error(broken) == f"{broken}: invalid TOML: {parse_error.value}"


def test_a_missing_rules_folder_is_named(tmp_path):
    with pytest.raises(InputError) as error:
        load_rules([tmp_path / "nowhere"])
    assert str(error.value) == f"{tmp_path / 'nowhere'}: rules folder not found"


def test_a_rule_superseding_unknown_rules_names_them(tmp_path):
    path = write_toml_rule(tmp_path, supersedes='["zz-rule", "low-usage", "aa-rule"]')
    with pytest.raises(InputError) as error:
        load_rules([tmp_path])
    assert str(error.value) == f"{path}: supersedes unknown rules aa-rule, zz-rule"


def test_later_folders_replace_rules_of_the_same_id_and_the_set_is_in_id_order(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    write_toml_rule(first, name="low-usage", id='"low-usage"', title='"mine"')
    write_toml_rule(second, name="low-usage", id='"low-usage"', title='"theirs"')
    write_toml_rule(second, name="aaa", id='"aaa"')
    rules = load_rules([first, second])
    assert rules.get("low-usage").title == "theirs"
    assert rules.get("low-usage").path == str(second / "low-usage.toml")
    ids = [rule.id for rule in rules.rules]
    assert ids == sorted(ids) and ids[0] == "aaa"
    assert len(ids) == len(load_rules().rules) + 1
    assert rules.get("no-such-rule") is None


def config_error(overrides, folders=()) -> str:
    with pytest.raises(InputError) as error:
        load_rules(folders, overrides=overrides)
    return str(error.value)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"nope": {}}, "config: no rule with id 'nope' to configure"),
        (
            {"low-usage": {"weight": 1, "colour": "red"}},
            "config for rule low-usage: unknown settings colour, weight",
        ),
        ({"low-usage": {"params": 3}}, "config for rule low-usage: params must be a table"),
        (
            {"low-usage": {"params": {"top_m": 3}}},
            "config for rule low-usage: no param 'top_m' (it has top_n, popular_stars, "
            "popular_dependents, popular_downloads)",
        ),
        (
            {"low-usage": {"params": {"popular_stars": -1}}},
            "config for rule low-usage: param popular_stars must be 0 or more, got -1",
        ),
        (
            {"low-usage": {"enabled": "no"}},
            "config for rule low-usage: enabled must be true or false",
        ),
        (
            {"low-usage": {"severity": "huge"}},
            "config for rule low-usage: severity 'huge' is not one of info, low, medium, high, "
            "critical",
        ),
    ],
)
def test_a_wrong_override_is_rejected_with_what_to_fix(override, message):
    assert config_error(override) == message


def test_an_override_of_a_rule_without_params_says_it_has_none(tmp_path):
    write_toml_rule(tmp_path, condition='"facts.release_count < 3"', params="")
    assert (
        config_error({"custom": {"params": {"n": 1}}}, [tmp_path])
        == "config for rule custom: no param 'n' (it has none)"
    )


def test_an_override_changes_what_it_names_and_keeps_the_rest():
    shipped = load_rules().get("low-usage")
    changed = load_rules(
        overrides={"low-usage": {"severity": "medium", "params": {"top_n": 50}}}
    ).get("low-usage")
    assert changed == replace(shipped, severity="medium", params={**shipped.params, "top_n": 50})
    assert shipped.params["top_n"] == 5000  # the loaded rule itself is not changed
    switched_off = load_rules(overrides={"low-usage": {"enabled": False}}).get("low-usage")
    assert switched_off == replace(shipped, enabled=False)
    assert load_rules(overrides={"low-usage": {}}).get("low-usage") == shipped


@pytest.mark.parametrize(
    "default, value, problem",
    [
        (3, "many", "must be an integer, got 'many'"),
        (3, 2.0, "must be an integer, got 2.0"),
        (True, 1, "must be true or false, got 1"),
        (1.5, 2, "must be a number, got 2"),
        ("a", 1, "must be a string, got 1"),
        ([], "x", "must be a list, got 'x'"),
        ({}, [], "must be a table, got []"),
        (date(2026, 1, 1), "2026-01-01", "must be date, got '2026-01-01'"),
        (0, -1, "must be 0 or more, got -1"),
        (0, 0, None),
        (-1, -5, None),  # a negative default is not a count: negatives are allowed
        (1.0, float("inf"), "must be a finite number, got inf"),
        (1.0, float("nan"), "must be a finite number, got nan"),
        (1.0, -2.5, None),
        (["a"], ["b", ""], "must be a list of non-empty strings, got ['b', '']"),
        ([], [" "], "must be a list of non-empty strings, got [' ']"),
        ([], ["b", 1], "must be a list of non-empty strings, got ['b', 1]"),
        ([], ["b"], None),
        ([1], [2, ""], None),  # not a list of strings: no string check
        (False, True, None),
    ],
)
def test_param_problem_says_what_is_wrong_with_an_override(default, value, problem):
    assert param_problem(default, value) == problem


# --- what a scan reports for one rule -------------------------------------------------------


def custom_rules(folder: Path, condition: str, **keys) -> RuleSet:
    write_toml_rule(folder, condition=f"'{condition}'", **keys)
    rules = load_rules([folder])
    return RuleSet([rules.get("custom")])


def test_a_finding_names_its_rule_and_shows_the_facts_it_uses(tmp_path):
    rules = custom_rules(
        tmp_path,
        "facts.release_count < params.n",
        evidence='["publishers", "enrichment", "organization"]',
    )
    facts = {"x": Facts({"release_count": 1, "publishers": ["a"], "enrichment": {}})}
    findings, undetermined = evaluate(rules, facts)
    # An empty map is no evidence; an unknown fact is shown as unknown (None).
    evidence = {"release_count": 1, "publishers": ["a"], "organization": None}
    assert findings == (Finding("custom", "x", "low", "t", evidence),) and undetermined == ()


def test_an_undetermined_rule_says_which_facts_are_unknown_and_why(tmp_path):
    rules = custom_rules(tmp_path, "facts.release_count < params.n")
    facts = {"y": Facts({}, {"release_count": "not served"}), "z": Facts({})}
    findings, undetermined = evaluate(rules, facts)
    assert findings == ()
    assert undetermined == (
        Undetermined("custom", "y", "low", ("release_count",), ("release_count: not served",)),
        Undetermined("custom", "z", "low", ("release_count",), ("release_count: unknown",)),
    )


def test_a_condition_error_is_reported_as_its_first_line_cut_short(tmp_path):
    rules = custom_rules(tmp_path, "facts.name.matches(facts.homepage)")
    facts = {
        "long": Facts({"name": "a", "homepage": "(" * 300}),
        "lines": Facts({"name": "a", "homepage": "(\n(\n"}),
        "zero": Facts({"name": "a", "homepage": "a"}),
    }
    findings, undetermined = evaluate(rules, facts)
    reasons = {u.package: u.reasons for u in undetermined}
    start = "Function 'matches' error: '"
    assert reasons == {
        "lines": (f"condition error: {start}(",),
        "long": (f"condition error: {start}{'(' * (200 - len(start))}",),
    }
    assert [f.package for f in findings] == ["zero"]


# --- the probes' limits, the memo and supersession (mutants of MUTATION.md, second pass) --


def rule_set(*rules: tuple[str, str, tuple[str, ...]]) -> RuleSet:
    """Rules from (id, condition, supersedes), with the fields a finding shows."""
    return RuleSet(
        [
            Rule(rule_id, rule_id, "low", "c", "m", condition, "r", supersedes=supersedes)
            for rule_id, condition, supersedes in rules
        ]
    )


LISTS = ("publishers", "required_by", "publishers_added", "publishers_removed")
COUNTS = ("dependents", "publisher_count", "release_count", "download_rank")


def test_exactly_256_probe_combinations_are_still_tried():
    """Four unknown list facts, four probe values each: 256 combinations, all false."""
    condition = "facts.name == 'zzz' && " + " && ".join(f"size(facts.{f}) > 9" for f in LISTS)
    unknown = {f: "not served" for f in LISTS}
    findings, undetermined = evaluate(
        rule_set(("r", condition, ())), {"x": Facts({"name": "x"}, unknown)}
    )
    assert (findings, undetermined) == ((), ())


def test_more_than_256_probe_combinations_are_undetermined_with_the_facts_reasons():
    """Four unknown counts, five probe values each (625): not tried, undetermined, even
    though every combination would agree; the reasons are the facts', no error."""
    condition = "facts.name == 'zzz' && " + " && ".join(f"facts.{f} > 9" for f in COUNTS)
    unknown = {f: "not served" for f in COUNTS}
    _, (check,) = evaluate(rule_set(("r", condition, ())), {"x": Facts({"name": "x"}, unknown)})
    assert check.missing == COUNTS
    assert check.reasons == tuple(f"{f}: not served" for f in COUNTS)


def test_a_condition_that_fails_on_every_probe_is_undetermined_without_an_error_reason():
    rules = rule_set(("r", "facts.release_count / 0 > 1", ()))
    _, (check,) = evaluate(rules, {"x": Facts({}, {"release_count": "not served"})})
    assert check.reasons == ("release_count: not served",)


def test_a_rule_reading_facts_by_index_is_decided_from_every_fact():
    """`facts["release_count"]` is no facts.NAME: such a rule is shown every fact, and
    packages with other values get other answers (no shared memo)."""
    rules = rule_set(("r", 'facts["release_count"] > 1', ()))
    findings, undetermined = evaluate(
        rules, {"a": Facts({"release_count": 5}), "b": Facts({"release_count": 1})}
    )
    assert [f.package for f in findings] == ["a"] and undetermined == ()


def test_packages_evaluated_together_get_the_answer_each_gets_alone():
    """The memo tells apart values that differ only inside a map or a list, and a map's
    `true` from its `1` (CEL does)."""
    rules = rule_set(
        ("stars", "has(facts.enrichment.stars) && facts.enrichment.stars > 100", ()),
        ("flag", "has(facts.enrichment.flag) && facts.enrichment.flag == true", ()),
        ("alice", "'alice' in facts.publishers", ()),
    )
    facts = {
        "a": Facts({"enrichment": {"stars": 5000, "flag": True}, "publishers": ["alice"]}),
        "b": Facts({"enrichment": {"stars": 5, "flag": 1}, "publishers": ["bob"]}),
        "c": Facts({"enrichment": {"flag": True}, "publishers": []}),
        "d": Facts({"enrichment": {"flag": 1}, "publishers": []}),
    }
    together = {(f.package, f.rule_id) for f in evaluate(rules, facts)[0]}
    alone = {(f.package, f.rule_id) for n in facts for f in evaluate(rules, {n: facts[n]})[0]}
    assert together == alone == {("a", "stars"), ("a", "flag"), ("a", "alice"), ("c", "flag")}


def fired_everywhere(*supersessions: tuple[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Every rule fires on one package: what stands, and what each standing one covers."""
    findings, _ = evaluate(
        rule_set(*((rule_id, "true", over) for rule_id, over in supersessions)),
        {"p": Facts({})},
    )
    return {f.rule_id: f.covers for f in findings}


def test_a_chain_of_supersession_stands_every_other_link():
    """a > b > c > d: b is covered by a, so c stands (nothing standing covers it) and
    covers d."""
    chain = fired_everywhere(("a", ("b",)), ("b", ("c",)), ("c", ("d",)), ("d", ()))
    assert chain == {"a": ("b",), "c": ("d",)}


def test_a_supersession_cycle_stands_whole_beside_a_rule_that_covers_another():
    cycle = fired_everywhere(("a", ("d",)), ("b", ("c",)), ("c", ("b",)), ("d", ()))
    assert cycle == {"a": ("d",), "b": (), "c": ()}


def test_a_package_without_superseding_findings_does_not_stop_the_folding_of_the_next():
    rules = rule_set(("combined", "facts.name == 'b'", ("part",)), ("part", "true", ()))
    findings, _ = evaluate(rules, {"a": Facts({"name": "a"}), "b": Facts({"name": "b"})})
    assert {(f.package, f.rule_id, f.covers) for f in findings} == {
        ("a", "part", ()),
        ("b", "combined", ("part",)),
    }


@pytest.mark.parametrize(
    "condition, message",
    [
        # The sample run names the value it saw (the static check would only name a type).
        ("glob(facts.name, 'x') ? 'y' : 'n'", "not str 'n'"),
        ("10 / facts.release_count", "not int 10"),  # fails on 0, gives 10 on 1
        ("facts.release_count == 0 ? 1 : true", "not int 1"),  # only the first probe shows it
        ('facts["release_count"]', "not int 0"),  # shown every fact, not none
        ("facts.release_count + params.n", "not int 3"),  # with its params bound
        ("null", "not null"),  # no fact unknown here: null is no answer
        # Null beside an unprobed (null) fact is left to run time; the int after it is not.
        ("facts.release_count == 0 && facts.enrichment == null ? null : facts.release_count",
         "not int 1"),
    ],
)  # fmt: skip
def test_the_sample_run_names_the_non_boolean_value_it_saw(tmp_path, condition, message):
    path = write_toml_rule(tmp_path, condition=f"'''{condition}'''")
    assert load_error(path) == f"{path}: condition must give true or false, {message}"
