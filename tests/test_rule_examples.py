"""Every shipped rule proves itself with the examples in its own file: the facts given
(every other fact unknown) must give the outcome written beside them. One generic test,
so a rule and its proof live and change together."""

from __future__ import annotations

import pytest

from scanner.model import Facts
from scanner.rules import RuleSet, evaluate, load_rules

RULES = load_rules().rules


def outcome(rule, facts: dict) -> str:
    findings, undetermined = evaluate(RuleSet([rule]), {"pkg": Facts(facts, {})})
    if findings:
        return "fires"
    return "undetermined" if undetermined else "quiet"


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_every_rule_has_examples_that_fire_and_stay_quiet(rule):
    expected = {example.expect for example in rule.examples}
    assert {"fires", "quiet"} <= expected, f"{rule.path}: needs a firing and a quiet example"


@pytest.mark.parametrize(
    ("rule", "example"),
    [(rule, example) for rule in RULES for example in rule.examples],
    ids=[f"{rule.id}: {example.name}" for rule in RULES for example in rule.examples],
)
def test_rule_example(rule, example):
    assert outcome(rule, dict(example.facts)) == example.expect


def test_an_example_with_an_unknown_fact_or_outcome_is_rejected(tmp_path):
    from scanner.model import InputError
    from scanner.rules import load_rule_file

    base = (
        'id = "x"\ntitle = "t"\nseverity = "low"\ncategory = "c"\nmotivation = "m"\n'
        'condition = "facts.publisher_count == 1"\nremediation = "r"\n'
    )
    for example, message in (
        ('name = "a"\nexpect = "maybe"\nfacts = {}', "expect must be one of"),
        ('name = "a"\nexpect = "fires"\nfacts = { nope = 1 }', "known facts"),
    ):
        path = tmp_path / "x.toml"
        path.write_text(base + "\n[[examples]]\n" + example + "\n")
        with pytest.raises(InputError, match=message):
            load_rule_file(path)
