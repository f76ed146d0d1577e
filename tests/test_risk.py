"""Graph-aware risk: findings weighted by blast radius, and where to look first."""

from __future__ import annotations

import json
import math

from scanner.graph import BlastRadius, blast_radius, build_graph
from scanner.model import Edge, Finding, Package, Resolution, TargetEnvironment, Undetermined
from scanner.risk import SEVERITY_WEIGHTS, look_first, reach_factor, score_packages


def finding(package: str, severity: str, rule: str = "rule") -> Finding:
    return Finding(rule, package, severity, "title", {})


def test_score_is_findings_weight_times_reach():
    radius = {"lib": BlastRadius(dependents=6, top_level=1)}
    risks = score_packages(
        ["lib"], [finding("lib", "medium", "a"), finding("lib", "low", "b")], [], radius
    )
    lib = risks["lib"]
    assert lib.findings_score == SEVERITY_WEIGHTS["medium"] + SEVERITY_WEIGHTS["low"]
    assert lib.reach_factor == 1 + math.log2(8) == 4
    assert lib.score == 16
    assert lib.findings == (("a", "medium"), ("b", "low"))  # most severe first
    assert (lib.dependents, lib.top_level) == (6, 1)


def test_a_package_without_findings_scores_zero_whatever_its_reach():
    risks = score_packages(["base"], [], [], {"base": BlastRadius(500, 20)})
    assert risks["base"].score == 0
    assert look_first(risks) == []


def test_undetermined_checks_are_counted_but_do_not_score():
    unknown = Undetermined("stale", "lib", "high", ("latest_release",), ("offline",))
    risks = score_packages(["lib"], [], [unknown, unknown], {"lib": BlastRadius(3, 1)})
    assert risks["lib"].score == 0 and risks["lib"].undetermined == 2


def test_severity_leads_and_reach_orders_like_findings():
    names = ["leaf", "hub", "typo", "mid"]
    radius = {
        "leaf": BlastRadius(0, 1),
        "hub": BlastRadius(40, 5),
        "typo": BlastRadius(0, 1),
        "mid": BlastRadius(3, 1),
    }
    findings = [
        finding("leaf", "medium"),
        finding("hub", "medium"),
        finding("mid", "medium"),
        finding("typo", "critical"),
    ]
    ranked = [r.name for r in look_first(score_packages(names, findings, [], radius))]
    # A critical finding on a leaf outranks a medium one on a hub; among the mediums, the
    # package more of the environment depends on comes first.
    assert ranked == ["typo", "hub", "mid", "leaf"]


def test_look_first_keeps_the_few_and_breaks_ties_by_reach_then_name():
    """Equal scores: more dependents first, then more top-level packages reached, then
    the name. The names are chosen so that name order alone would be wrong."""
    radius = {
        "zeta": BlastRadius(dependents=2, top_level=1),  # factor 3, low: 3.0
        "yak": BlastRadius(dependents=1, top_level=2),  # factor 3, low: 3.0
        "xenon": BlastRadius(dependents=0, top_level=3),  # factor 3, low: 3.0
        "wasp": BlastRadius(dependents=0, top_level=0),  # factor 1, medium: 3.0
        "beta": BlastRadius(dependents=0, top_level=0),  # factor 1, medium: 3.0
        "alpha": BlastRadius(dependents=0, top_level=0),  # factor 1, medium: 3.0
    }
    findings = [finding(name, "low") for name in ("zeta", "yak", "xenon")]
    findings += [finding(name, "medium") for name in ("wasp", "beta", "alpha")]
    risks = score_packages(list(radius), findings, [], radius)
    assert {r.score for r in risks.values()} == {3.0}
    ranked = [r.name for r in look_first(risks, limit=len(radius))]
    assert ranked == ["zeta", "yak", "xenon", "alpha", "beta", "wasp"]
    assert [r.name for r in look_first(risks)] == ranked[:5]
    assert [r.name for r in look_first(risks, limit=2)] == ["zeta", "yak"]


def test_reach_factor_grows_slowly():
    assert reach_factor(BlastRadius(0, 0)) == 1
    assert reach_factor(BlastRadius(0, 1)) == 2
    assert reach_factor(BlastRadius(1022, 1)) == 11


def test_scores_on_a_built_graph():
    names = ["app", "lib", "base"]
    graph = build_graph(
        Resolution(
            packages=tuple(Package(n, "1") for n in names),
            edges=(Edge("app", "lib"), Edge("lib", "base")),
            target=TargetEnvironment({}, "test"),
            source="test",
        )
    )
    risks = score_packages(names, [finding("base", "high")], [], blast_radius(graph))
    # base: 2 dependents and 1 top-level package reached -> 10 x (1 + log2 4) = 30
    assert risks["base"].score == 30


# --- pinned by mutation testing (tests/MUTATION.md) ---------------------------------------


def test_findings_are_listed_most_severe_first_then_by_rule_id():
    findings = [
        finding("lib", "low", "a"),
        finding("lib", "high", "c"),
        finding("lib", "high", "b"),
    ]
    risks = score_packages(["lib"], findings, [], {"lib": BlastRadius(0, 1)})
    assert risks["lib"].findings == (("b", "high"), ("c", "high"), ("a", "low"))


def test_a_package_missing_from_the_blast_radius_counts_as_reaching_nothing():
    risks = score_packages(["lone"], [finding("lone", "low")], [], {})
    lone = risks["lone"]
    assert (lone.dependents, lone.top_level, lone.reach_factor, lone.score) == (0, 0, 1.0, 1.0)
    # A score of 1 is above zero: it is worth a look.
    assert [r.name for r in look_first(risks)] == ["lone"]


def test_scores_are_rounded_as_documented_and_stay_floats():
    # reach factor 1 + log2(3) = 2.58496...; a low finding scores 2.58496...
    risks = score_packages(["lib"], [finding("lib", "low")], [], {"lib": BlastRadius(1, 1)})
    lib = risks["lib"]
    assert lib.reach_factor == 2.58 and lib.score == 2.6
    assert lib.as_dict() == {
        "score": 2.6,
        "findings_score": 1.0,
        "reach_factor": 2.58,
        "dependents": 1,
        "top_level_reached": 1,
    }
    # JSON shows them as decimals, never as integers that change type from scan to scan.
    assert json.dumps(lib.as_dict()) == (
        '{"score": 2.6, "findings_score": 1.0, "reach_factor": 2.58, '
        '"dependents": 1, "top_level_reached": 1}'
    )
    whole = score_packages(["x"], [finding("x", "medium")], [], {"x": BlastRadius(1, 0)})["x"]
    assert json.dumps([whole.score, whole.reach_factor]) == "[6.0, 2.0]"
