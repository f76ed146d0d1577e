"""Requirements given as command-line arguments."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.inputs.specs import parse_spec_arguments
from scanner.model import InputError, Location
from scanner.names import is_project_name


def test_forms():
    requirements = parse_spec_arguments(
        ["Requests==2.31.0", "click", "rich[Jupyter]>=13", 'numpy; python_version < "3.13"']
    )
    assert [(r.name, r.specifier) for r in requirements] == [
        ("requests", "==2.31.0"),
        ("click", ""),
        ("rich", ">=13"),
        ("numpy", ""),
    ]
    assert requirements[2].extras == frozenset({"jupyter"})
    assert requirements[3].marker == 'python_version < "3.13"'
    assert requirements[1].location == Location("<command line>", 2)


def test_direct_url():
    (requirement,) = parse_spec_arguments(["pip @ https://example.org/pip-24.0.tar.gz"])
    assert requirement.url == "https://example.org/pip-24.0.tar.gz"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ok", "foo=="], "<command line>:2: invalid requirement 'foo==': expected version after"),
        ([" "], "<command line>:1: empty requirement"),
        (["foo bar"], "<command line>:1: invalid requirement 'foo bar'"),
        (["requests/json#==1"], "<command line>:1: invalid requirement 'requests/json#==1'"),
        (["r\u00e9quests"], "<command line>:1: invalid requirement"),
    ],
)
def test_errors(args, message):
    with pytest.raises(InputError) as raised:
        parse_spec_arguments(args)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=5))
def test_any_arguments_give_requirements_or_input_error(args):
    try:
        requirements = parse_spec_arguments(args)
    except InputError as error:
        assert "\n" not in str(error)
        return
    assert len(requirements) == len(args)
    assert all(is_project_name(r.name) for r in requirements)
