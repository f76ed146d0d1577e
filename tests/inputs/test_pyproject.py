"""pyproject.toml: PEP 621, PEP 735 groups, Poetry tables and constraint syntax."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from scanner.inputs.pyproject import (
    parse_pyproject,
    parse_pyproject_text,
    poetry_constraint_to_specifier,
)
from scanner.model import InputError
from scanner.names import is_project_name

LOCKFILES = Path(__file__).resolve().parents[2] / "fixtures" / "lockfiles"

PEP621 = """\
[project]
name = "demo"
version = "1"
dependencies = [
    "requests>=2.31",
    'click>=8.1; python_version >= "3.8"',
]

[project.optional-dependencies]
yaml = ["pyyaml>=6"]
All = ["demo[yaml]", "rich"]

[dependency-groups]
test = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff"]
"""


def names(requirements):
    return [requirement.name for requirement in requirements]


def test_pep621_main_dependencies_with_lines():
    requirements = parse_pyproject_text(PEP621, "pyproject.toml")
    assert names(requirements) == ["requests", "click"]
    assert [r.location.line for r in requirements] == [5, 6]
    assert requirements[1].marker == 'python_version >= "3.8"'


def test_extras_selected_and_self_reference_expanded():
    assert names(parse_pyproject_text(PEP621, extras=["yaml"])) == ["requests", "click", "pyyaml"]
    # "all" names the project itself with the yaml extra: expanded, not looked up.
    assert names(parse_pyproject_text(PEP621, extras=["all"])) == [
        "requests",
        "click",
        "rich",
        "pyyaml",
    ]
    assert set(names(parse_pyproject_text(PEP621, all_extras=True))) == {
        "requests",
        "click",
        "pyyaml",
        "rich",
    }


def test_dependency_groups_with_include():
    requirements = parse_pyproject_text(PEP621, groups=["Test"])
    assert names(requirements) == ["requests", "click", "pytest", "ruff"]
    assert requirements[-1].location.line == 15


def test_group_include_cycle_is_an_error():
    text = '[dependency-groups]\na = [{include-group = "b"}]\nb = [{include-group = "a"}]\n'
    with pytest.raises(InputError, match="include each other: a -> b -> a"):
        parse_pyproject_text(text, groups=["a"])


def test_unknown_extra_or_group_is_an_error():
    with pytest.raises(InputError, match="no extra named 'nope'"):
        parse_pyproject_text(PEP621, extras=["nope"])
    with pytest.raises(InputError, match="no dependency group named 'nope'"):
        parse_pyproject_text(PEP621, groups=["nope"])


def test_real_poetry_project():
    path = LOCKFILES / "poetry" / "pyproject.toml"
    requirements = {r.name: r for r in parse_pyproject(path, extras=["yaml"], groups=["test"])}
    assert set(requirements) == {"requests", "click", "rich", "pyyaml", "pytest"}
    assert requirements["requests"].specifier == "<3.0,>=2.31"
    assert requirements["requests"].extras == frozenset({"socks"})
    assert requirements["click"].specifier == "<8.2,>=8.1"
    assert requirements["pytest"].specifier == "<9.0,>=8.0"
    assert requirements["requests"].location.line == 10
    assert requirements["pytest"].location.line == 19


def test_poetry_optional_dependency_needs_its_extra():
    path = LOCKFILES / "poetry" / "pyproject.toml"
    assert "pyyaml" not in names(parse_pyproject(path))


def test_real_uv_project():
    path = LOCKFILES / "uv" / "pyproject.toml"
    assert names(parse_pyproject(path, all_extras=True, groups=["test"])) == [
        "requests",
        "click",
        "rich",
        "pyyaml",
        "pytest",
    ]


POETRY_FORMS = """\
[tool.poetry]
name = "forms"

[tool.poetry.dependencies]
python = "^3.10"
"Flask" = { git = "https://github.com/pallets/flask.git", tag = "3.0.0" }
local = { path = "../local", develop = true }
wheel-dep = { url = "https://example.org/wheel_dep-1.0-py3-none-any.whl" }
pinned = "1.2.3"
multi = [
    { version = "^1.0", python = "<3.11" },
    { version = "^2.0", python = ">=3.11", platform = "linux" },
]

[tool.poetry.dev-dependencies]
old-dev = "*"
"""


def test_poetry_dependency_forms():
    requirements = parse_pyproject_text(POETRY_FORMS, groups=["dev"])
    by_name = {}
    for requirement in requirements:
        by_name.setdefault(requirement.name, []).append(requirement)
    assert by_name["flask"][0].url == "git+https://github.com/pallets/flask.git@3.0.0"
    assert by_name["local"][0].editable and by_name["local"][0].url == "../local"
    assert by_name["wheel-dep"][0].url.endswith(".whl")
    assert by_name["pinned"][0].specifier == "==1.2.3"
    first, second = by_name["multi"]
    assert first.specifier == "<2.0,>=1.0"
    assert first.marker == 'python_version < "3.11"'
    assert second.marker == 'python_version >= "3.11" and sys_platform == "linux"'
    assert by_name["old-dev"][0].specifier == ""
    assert "python" not in by_name


@pytest.mark.parametrize(
    ("constraint", "specifier"),
    [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^1.2", ">=1.2,<2.0"),
        ("^1", ">=1,<2"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0.0", ">=0.0,<0.1"),
        ("^0", ">=0,<1"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("~=1.2", "~=1.2"),
        ("*", ""),
        ("1.2.*", "==1.2.*"),
        ("1.2.x", "==1.2.*"),
        ("1.2.3", "==1.2.3"),
        ("=1.2.3", "==1.2.3"),
        (">= 1.2, < 2.0", ">=1.2,<2.0"),
        (">=1.2 <2.0", ">=1.2,<2.0"),
        ("!=1.5.7", "!=1.5.7"),
        ("^1.0 || ^2.0", ""),
    ],
)
def test_poetry_constraints(constraint, specifier):
    assert SpecifierSet(poetry_constraint_to_specifier(constraint)) == SpecifierSet(specifier)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[project\n", "pyproject.toml:1: invalid TOML"),
        ('[project]\ndependencies = "requests"\n', "[project].dependencies must be an array"),
        ('[project]\ndependencies = [\n  "requests==",\n]\n', "pyproject.toml:3: invalid"),
        ("[project]\ndependencies = [1]\n", "an entry of [project].dependencies must be"),
        ('[tool.poetry.dependencies]\nfoo = "^x"\n', "pyproject.toml:2: invalid version"),
        ("[tool.poetry.dependencies]\nfoo = 3\n", "pyproject.toml:2: [tool.poetry"),
        ('[dependency-groups]\na = [{include = "b"}]\n', "has a table that is not"),
        ('[dependency-groups]\na = [{include-group = "b"}]\n', "includes unknown group 'b'"),
        ('tool = "x"\n', "[tool] must be a table"),
    ],
)
def test_errors(text, message):
    groups = ["a"] if "dependency-groups" in text else []
    with pytest.raises(InputError) as raised:
        parse_pyproject_text(text, "pyproject.toml", groups=groups)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


TOML_PIECES = st.sampled_from(
    [
        "[project]\n",
        "[tool.poetry.dependencies]\n",
        "[tool.poetry.group.g.dependencies]\n",
        "[dependency-groups]\n",
        "[project.optional-dependencies]\n",
        'dependencies = ["a>=1", "b ; python_version < \'3\'"]\n',
        'dependencies = "x"\n',
        'g = [{include-group = "g"}]\n',
        'x = ["demo[x]"]\n',
        'name = "demo"\n',
        'foo = "^1.2"\n',
        'foo = {version = "~1", extras = ["a"], python = "^3"}\n',
        'foo = [{git = "u"}, {path = "p"}]\n',
        "foo = 1\n",
        "python = 3\n",
        'bar = "|| >"\n',
        '"requests/json#" = "*"\n',
        '"r\u00e9quests" = {path = "p"}\n',
        'dependencies = ["requests/json#", "x @ file:///r%23-1.0.tar.gz"]\n',
        "= \n",
        '"\n',
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(TOML_PIECES, max_size=12).map("".join), st.booleans())
def test_toml_like_text_gives_a_result_or_input_error(text, everything):
    try:
        requirements = parse_pyproject_text(
            text, "fuzz.toml", all_extras=everything, groups=["g"] if everything else []
        )
    except InputError as error:
        assert "\n" not in str(error)
        return
    assert all(is_project_name(r.name) for r in requirements)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_gives_a_result_or_input_error(text):
    try:
        parse_pyproject_text(text, "fuzz.toml")
    except InputError as error:
        assert "\n" not in str(error)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_poetry_constraint_gives_a_result_or_input_error(constraint):
    try:
        result = poetry_constraint_to_specifier(constraint, "pyproject.toml", 7)
    except InputError as error:
        assert str(error).startswith("pyproject.toml:7: ") and "\n" not in str(error)
    else:
        SpecifierSet(result)  # a valid PEP 440 specifier ("" is any version)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[project]\nname = "x"\ndependencies = ["requests/json#"]\n',
            "pyproject.toml:3: invalid requirement 'requests/json#'",
        ),
        (
            '[tool.poetry.dependencies]\npython = "^3.11"\n"requests/json#" = "*"\n',
            "pyproject.toml:3: invalid dependency name 'requests/json#'",
        ),
        (
            '[tool.poetry.dependencies]\n"r\u00e9quests" = "*"\n',
            "pyproject.toml:2: invalid dependency name",
        ),
    ],
)
def test_a_name_that_is_no_project_name_is_one_line_with_file_and_line(text, message):
    with pytest.raises(InputError) as raised:
        parse_pyproject_text(text, "pyproject.toml")
    assert str(raised.value).startswith(message)
