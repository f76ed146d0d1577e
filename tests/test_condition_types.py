"""The static type of a rule condition (scanner/condition_types.py): what it tells, what it
leaves as `dyn`, and that it agrees with the CEL engine on every expression it types."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.condition_types import DYN, non_boolean_result, result_types
from scanner.facts.schema import FACTS
from scanner.rules import _FACT_PROBES, FUNCTION_RESULTS, FUNCTIONS, _cel

FACT_TYPES = {spec.name: spec.type for spec in FACTS}
PARAMS = {"n": 5, "ratio": 0.5, "on": True, "word": "x", "names": ["a"], "table": {"a": 1}}


def types(condition: str) -> set[str]:
    return set(result_types(condition, FACT_TYPES, PARAMS, FUNCTION_RESULTS))


@pytest.mark.parametrize(
    "condition, expected",
    [
        # literals
        ("true", {"bool"}), ("1", {"int"}), ("1u", {"uint"}), ("0x1F", {"int"}),
        ("1.5", {"double"}), ("-2e3", {"double"}), ('"a"', {"string"}), ("'a'", {"string"}),
        ('r"a\\"', {"string"}), ("'''two\nlines'''", {"string"}), ("b'x'", {"bytes"}),
        ("null", {"null"}), ("[1, 2]", {"list"}), ('{"a": 1}', {"map"}),
        # facts by their schema type, params by their value's type
        ("facts.publisher_count", {"int"}), ("facts.name", {"string"}),
        ("facts.top_level", {"bool"}), ("facts.publishers", {"list(string)"}),
        ("facts.publishers[0]", {"string"}), ("facts.enrichment", {"map"}),
        (".facts.name", {"string"}), ("facts", {"map"}), ("params", {"map"}),
        ("params.n", {"int"}), ("params.ratio", {"double"}), ("params.on", {"bool"}),
        ("params.word", {"string"}), ("params.names", {"list"}), ("params.table", {"map"}),
        # operators, by precedence
        ("facts.publisher_count + params.n", {"int"}), ("-facts.dependents", {"int"}),
        ("facts.name + 'x' == 'ax'", {"bool"}), ("1 + 2 * 3 < 4 || false", {"bool"}),
        ("!facts.top_level", {"bool"}), ("facts.dependents - 1", {"int"}),
        ("facts.dependents % 2", {"int"}), ("facts.dependents / 2", {"int"}),
        ("facts.dependents <= 1", {"bool"}), ("facts.dependents > 1", {"bool"}),
        ("facts.dependents >= 1", {"bool"}), ("facts.name != 'a'", {"bool"}),
        ("facts.name in ['a']", {"bool"}),
        ("facts.top_level && facts.name", {"bool"}),  # && gives a bool, or an error
        ("(facts.dependents)", {"int"}), ("facts.name + 'x'", {"string"}),
        ("b'a' + b'b'", {"bytes"}), ("facts.publishers + ['x']", {"list(string)"}),
        ("[1] + [2]", {"list"}), ("2.5 * facts.dependents", {"double"}), ("1U", {"uint"}),
        ("0x1E", {"int"}), ("0X1e", {"int"}), ("1E3", {"double"}),
        # ternaries: either branch
        ("facts.top_level ? 'x' : false", {"string", "bool"}),
        ("facts.top_level ? facts.editable ? 1 : true : false", {"int", "bool"}),
        # functions and macros
        ("size(facts.publishers)", {"int"}), ("has(facts.enrichment.x)", {"bool"}),
        ("int(facts.version)", {"int"}), ("string(1)", {"string"}),
        ("glob(facts.name, 'a*')", {"bool"}), ("facts.publishers.exists(p, p == 'a')", {"bool"}),
        ("facts.publishers.map(p, p + 'x')", {"list"}), ("facts.name.startsWith('a')", {"bool"}),
        ("facts.publishers.size()", {"int"}),
    ],
)  # fmt: skip
def test_the_type_of_a_condition_is_read_from_the_expression(condition, expected):
    assert types(condition) == expected


@pytest.mark.parametrize(
    "condition",
    [
        "facts.enrichment.repository_stars",  # a map's value
        "facts.publishers.exists(p, p == 'a') ? p : true",  # a macro's variable outside
        "dyn(1)",
        "unknown_function(1)",
        "facts.no_such_fact",  # rejected elsewhere as an unknown fact
        "[1][0]",  # a list literal's item
        "facts.name == 'a' ? facts.enrichment.x : false",  # one branch dyn: not told
        "facts['name']",  # the variable indexed: any fact
        "(facts.top_level ? 1 : 'a') + 1",  # arithmetic over either type
        "facts + 1",
        "[1, 2)",  # brackets that do not match: the engine would not compile it
        "facts.publishers[0)",
        "size(facts.publishers]",
        "(facts.dependents]",
        '{"a": 1)',
        "[1, 2}",
        "facts.top_level ? 1 , 2",
        "facts.name.no_such_method()",
        "google.protobuf.Int64Value{value: 1}",  # a message literal
        "facts.name ==",  # does not parse: the engine says so, not this module
        "!!facts.publisher_count",  # the engine gives the int: `!!` is read as nothing
        "facts.name `",  # a character no token starts with, last
        "`1 + 1",  # and first
        "((((" * 400 + "1" + "))))" * 400,  # deeper than Python's recursion
    ],
)
def test_what_cannot_be_told_is_dyn_and_never_rejected(condition):
    assert types(condition) == {DYN}
    assert non_boolean_result(condition, FACT_TYPES, PARAMS, FUNCTION_RESULTS) is None


def test_the_non_boolean_types_are_named():
    def named(condition):
        return non_boolean_result(condition, FACT_TYPES, PARAMS, FUNCTION_RESULTS)

    assert named("facts.top_level ? 'block' : false") == "string"
    assert named("facts.top_level ? 1 : facts.editable ? 'a' : null") == "int or null or string"
    assert named("facts.top_level || facts.editable") is None
    assert named("params.n") == "int"  # the params' own types
    assert named("facts") == "map"  # the variable itself
    # What the extra functions give, as the caller says.
    assert non_boolean_result("f(1)", FACT_TYPES, PARAMS, {"f": "string"}) == "string"
    assert non_boolean_result("f(1)", FACT_TYPES, PARAMS, {"f": "bool"}) is None


# --- agreement with the engine ------------------------------------------------------------

_PIECES = st.sampled_from(
    ["facts.publisher_count", "facts.name", "facts.publishers", "facts.top_level",
     "facts.required_by_well_kept", "params.n", "params.word", "params.on", " + ", " - ",
     " * ", " < ", " == ", " != ", " in ", " && ", " || ", " ? ", " : ", "!", "-", "(", ")",
     "[", "]", ", ", "0", "1", "2.5", "'a'", "true", "null", "size(", "string(", "int(",
     ".size()", ".exists(p, p == 'a')", ".map(p, p)", "[0]", "glob(facts.name, 'a*')"]
)  # fmt: skip
_PYTHON_TYPES = {bool: "bool", int: "int", float: "double", str: "string", bytes: "bytes"}


def _engine_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return _PYTHON_TYPES[type(value)]


def _fits(engine: str, static: set[str]) -> bool:
    """A value the engine gave has one of the static types (`list(string)` is a list;
    this engine gives unsigned integers as Python ints)."""
    widened = {t.split("(")[0] for t in static}
    return engine in widened or (engine == "int" and "uint" in widened)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=9).map("".join))
def test_every_type_told_is_the_type_the_engine_gives(condition):
    """Whatever the expression, when the reader tells its types, each value the engine
    gives on facts of the schema's types is of one of them."""
    try:
        program = _cel.compile(condition)
    except (ValueError, RuntimeError, TypeError):
        return
    static = types(condition)
    if DYN in static:
        return
    samples = [
        {name: values[index % len(values)] for name, values in _TYPED_SAMPLES.items()}
        for index in range(4)
    ]
    for facts in samples:
        try:
            value = program.execute(_cel.Context({"facts": facts, "params": PARAMS}, FUNCTIONS))
        except (TypeError, ValueError, LookupError, ArithmeticError, RuntimeError):
            continue
        assert _fits(_engine_type(value), static), (condition, value, static)


# Every fact the pieces read, with values of its schema type (never null: a null fact is
# an unknown one, which the rule engine probes separately).
_TYPED_SAMPLES = {
    name: _FACT_PROBES[name][1:]
    for name in ("publisher_count", "name", "publishers", "top_level", "required_by_well_kept")
}
