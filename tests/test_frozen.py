"""What crosses a stage boundary cannot be changed after it is built (issue 9, point 4):
a stage hands on a value, never a shared object the next one could alter under it."""

from __future__ import annotations

import dataclasses
import inspect

import networkx as nx
import pytest

import scanner.model
import scanner.records
from scanner.inputs.select import InputSet, read_inputs
from scanner.inputs.target import target_environment
from scanner.model import Resolution, ScanResult
from scanner.options import ScanOptions
from scanner.records import IndexRecord
from scanner.rules import RuleSet, load_rules


def _dataclasses_of(module):
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__ and dataclasses.is_dataclass(cls)
    ]


@pytest.mark.parametrize("module", [scanner.model, scanner.records])
def test_every_record_of_the_model_is_frozen(module):
    classes = _dataclasses_of(module)
    assert classes
    assert [c.__name__ for c in classes if not c.__dataclass_params__.frozen] == []


def test_the_values_handed_between_stages_refuse_assignment():
    resolution = Resolution(packages=(), edges=(), target=target_environment(), source="x")
    result = ScanResult(resolution, nx.DiGraph(), {}, (), ())
    rule_set = load_rules()
    values = [
        (result, "findings"),
        (resolution, "packages"),
        (InputSet(), "declared"),
        (rule_set, "rules"),
        (IndexRecord("six", "found"), "provenance"),
    ]
    for value, name in values:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, ())


def test_a_rule_set_holds_its_rules_as_a_tuple():
    rules = load_rules()
    assert isinstance(rules.rules, tuple)
    assert isinstance(RuleSet(list(rules.rules)).rules, tuple)


def test_read_inputs_hands_on_a_frozen_input_set(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.16.0\nidna\n")
    inputs = read_inputs((str(requirements),), ScanOptions().declared)
    assert isinstance(inputs.declared, tuple) and isinstance(inputs.descriptions, tuple)
    assert [r.name for r in inputs.declared] == ["six", "idna"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        inputs.index_url = "https://elsewhere.example/simple"  # type: ignore[misc]
