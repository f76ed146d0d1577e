"""Requirements files: pip's syntax, includes, errors, and that only InputError escapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.inputs.requirements import (
    logical_lines,
    parse_requirements_file,
    parse_requirements_text,
)
from scanner.model import InputError, Location
from scanner.names import is_project_name

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "requirements"
CLICK_HASHES = (
    "sha256:ae74fb96c20a0277a1d615f1e4d73c8414f5a98db8b799a7931d1582f3390c28",
    "sha256:ca9853ad459e787e2192211578cc907e7594e294c7ccc834310722b41b9ca6de",
)


@pytest.fixture(scope="module")
def lab_file():
    return parse_requirements_file(
        FIXTURES / "requirements.txt", environ={"MIRROR_HOST": "mirror.lab.example"}
    )


def by_name(requirements):
    return {requirement.name: requirement for requirement in requirements}


def test_fixture_options_are_recorded_not_fetched(lab_file):
    assert lab_file.index_url == "https://pypi.org/simple"
    assert lab_file.extra_index_urls == ("https://mirror.lab.example/simple",)
    assert lab_file.find_links == ("./wheels",)


def test_fixture_requirements_in_order_with_includes(lab_file):
    names = [requirement.name for requirement in lab_file.requirements]
    assert names == [
        "rich",
        "requests",
        "numpy",
        "click",
        "lab-utils",
        "itsdangerous",
        "attrs",
        "six",
        "tinylib",
        "torch-audio",
    ]


def test_fixture_include_cycle_is_read_once(lab_file):
    kinds = [problem.kind for problem in lab_file.problems]
    assert kinds == ["repeated-include"]
    assert not lab_file.problems[0].fatal
    assert len(lab_file.files) == 3


def test_fixture_locations_point_at_first_physical_line(lab_file):
    requirements = by_name(lab_file.requirements)
    path = str(FIXTURES / "requirements.txt")
    assert requirements["requests"].location == Location(path, 9)
    assert requirements["numpy"].location == Location(path, 10)
    assert requirements["click"].location == Location(path, 12)
    assert requirements["rich"].location == Location(str(FIXTURES / "shared" / "common.txt"), 3)


def test_fixture_details(lab_file):
    requirements = by_name(lab_file.requirements)
    requests = requirements["requests"]
    assert requests.specifier == ">=2.31"
    assert requests.extras == frozenset({"socks"})
    assert requests.marker == 'python_version >= "3.8"'
    assert requirements["numpy"].specifier == "<3,>=1.26"
    assert requirements["click"].hashes == CLICK_HASHES
    local = requirements["lab-utils"]
    assert (local.url, local.editable) == ("./localpkg", True)
    vcs = requirements["itsdangerous"]
    assert vcs.editable and vcs.url.startswith("git+https://github.com/pallets/")
    assert requirements["attrs"].url.endswith("attrs-23.2.0-py3-none-any.whl")
    assert requirements["six"].specifier == "==1.16.0"
    assert requirements["tinylib"].url == "./vendor/tinylib-0.3.0.tar.gz"
    assert requirements["torch-audio"].marker == 'sys_platform == "linux"'


def test_fixture_constraints_are_separate(lab_file):
    assert [(c.name, c.specifier) for c in lab_file.constraints] == [
        ("urllib3", "<3"),
        ("idna", "==3.7"),
    ]


def test_unset_variable_is_left_as_written():
    parsed = parse_requirements_text("--index-url https://${HOST}/simple\n", environ={})
    assert parsed.index_url == "https://${HOST}/simple"
    # Lower-case names are not variables to pip; the text stays and is then invalid.
    with pytest.raises(InputError):
        parse_requirements_text("foo==${lower}\n", environ={"lower": "1"})


def test_variables_expand_in_requirements():
    parsed = parse_requirements_text("foo==${FOO_VERSION}\n", environ={"FOO_VERSION": "1.2"})
    assert parsed.requirements[0].specifier == "==1.2"


def test_comment_rules():
    text = "# full line\nfoo  # trailing\nbar#not-a-comment\n"
    with pytest.raises(InputError):
        parse_requirements_text(text)  # "bar#not-a-comment" is not a valid name
    assert [line for _, line in logical_lines("a \\\n  b # c\n")] == ["a   b"]


def test_comment_ends_a_continuation():
    lines = logical_lines("foo \\\n# comment\nbar\n")
    assert lines == [(1, "foo"), (3, "bar")]


def test_file_ending_in_backslash():
    parsed = parse_requirements_text("foo>=1 \\")
    assert parsed.requirements[0].specifier == ">=1"


def test_hash_with_space_separated_value():
    digest = "a" * 64
    parsed = parse_requirements_text(f"foo==1 --hash sha256:{digest.upper()}")
    assert parsed.requirements[0].hashes == (f"sha256:{digest}",)


def test_vcs_name_from_repository_when_no_egg():
    parsed = parse_requirements_text("git+https://github.com/psf/requests.git@v2.31.0")
    assert parsed.requirements[0].name == "requests"


def test_marker_on_url_line():
    parsed = parse_requirements_text(
        "https://example.org/foo-1.0-py3-none-any.whl ; python_version < '3.12'"
    )
    requirement = parsed.requirements[0]
    assert (requirement.name, requirement.marker) == ("foo", 'python_version < "3.12"')


def test_remote_include_is_a_fatal_problem_not_a_fetch():
    parsed = parse_requirements_text("-r https://example.org/requirements.txt\nfoo\n")
    assert [p.kind for p in parsed.problems] == ["unfetched-include"]
    assert parsed.problems[0].fatal
    assert [r.name for r in parsed.requirements] == ["foo"]


def test_short_options_glued_and_with_equals(tmp_path):
    (tmp_path / "a.txt").write_text("alpha\n")
    (tmp_path / "b.txt").write_text("beta\n")
    (tmp_path / "main.txt").write_text("-ra.txt\n--constraint=b.txt\n--pre\n")
    parsed = parse_requirements_file(tmp_path / "main.txt")
    assert [r.name for r in parsed.requirements] == ["alpha"]
    assert [r.name for r in parsed.constraints] == ["beta"]
    assert parsed.other_options == ("--pre",)


def test_include_depth_is_capped(tmp_path):
    for index in range(30):
        (tmp_path / f"{index}.txt").write_text(f"-r {index + 1}.txt\n")
    with pytest.raises(InputError, match="nested deeper"):
        parse_requirements_file(tmp_path / "0.txt")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "ok\n\n\n\n\n\nfoo==\n",
            "req.txt:7: invalid requirement 'foo==': expected version after '=='",
        ),
        ("foo[bar\n", "req.txt:1: invalid requirement 'foo[bar'"),
        ("--frobnicate\n", "req.txt:1: unknown option '--frobnicate'"),
        ("foo --hash=md5:abc\n", "req.txt:1: invalid --hash 'md5:abc'"),
        ("foo --hash=sha256:abc\n", "req.txt:1: invalid --hash 'sha256:abc': sha256 needs 64"),
        ("foo --index-url x\n", "req.txt:1: option --index-url cannot follow a requirement"),
        ("-r\n", "req.txt:1: option --requirement needs a value"),
        ("-r missing.txt\n", "req.txt:1: cannot read included requirements file 'missing.txt'"),
        ("-e requests\n", "req.txt:1: editable requirement 'requests' must be a local path"),
        ("https://example.org/download\n", "req.txt:1: cannot tell the project name"),
        (
            "https://example.org/r%C3%A9quests-1.0-py3-none-any.whl\n",
            "req.txt:1: 'réquests' in 'https://example.org/r%C3%A9quests-1.0-py3-none-any.whl' "
            "is not a valid project name",
        ),
        (
            "file:///tmp/requests%23x-1.0.tar.gz\n",
            "req.txt:1: 'requests#x' in 'file:///tmp/requests%23x-1.0.tar.gz' is not a valid",
        ),
        (
            "https://example.org/x.zip#egg=requests/json\n",
            "req.txt:1: 'requests/json' in 'https://example.org/x.zip#egg=requests/json' is not",
        ),
        ("--index-url https://host:99999/simple\n", "req.txt:1: --index-url 'https://host:9"),
        ("-i https://[::1/simple\n", "req.txt:1: --index-url 'https://[::1/simple' is not a"),
        ("foo ; python_version >\n", "req.txt:1: invalid requirement"),
        ("--hash=sha256:" + "a" * 64 + "\n", "req.txt:1: --hash must follow a requirement"),
        ('foo --hash "unterminated\n', "req.txt:1: cannot split options"),
    ],
)
def test_errors_are_one_line_with_file_and_line(tmp_path, text, message):
    path = tmp_path / "req.txt"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        parse_requirements_file(path)
    shown = str(raised.value).replace(str(tmp_path) + "/", "")
    assert shown.startswith(message)
    assert "\n" not in shown


def test_unreadable_inputs(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        parse_requirements_file(tmp_path / "absent.txt")
    with pytest.raises(InputError, match="is a directory"):
        parse_requirements_file(tmp_path)
    (tmp_path / "latin1.txt").write_bytes(b"foo\ncaf\xe9\n")
    with pytest.raises(InputError, match=r"latin1.txt:2: not UTF-8"):
        parse_requirements_file(tmp_path / "latin1.txt")


def test_oversized_file_is_refused(tmp_path, monkeypatch):
    import scanner.inputs._common as common

    monkeypatch.setattr(common, "MAX_INPUT_BYTES", 10)
    (tmp_path / "big.txt").write_text("requests\n" * 5)
    with pytest.raises(InputError, match="larger than"):
        parse_requirements_file(tmp_path / "big.txt")


REQUIREMENT_ALPHABET = st.sampled_from(
    [*list("abcxyz019.-_[]<>=!~;@#\\/ $\n\t'\"{}"), "==", "--hash=", "-r ", "-e ", "${A}"]
)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_gives_a_result_or_input_error(text):
    try:
        parse_requirements_text(text, "fuzz.txt", environ={}, follow_includes=False)
    except InputError as error:
        assert "\n" not in str(error)


@settings(max_examples=200, deadline=None)
@given(st.lists(REQUIREMENT_ALPHABET, max_size=40).map("".join))
def test_requirement_like_text_gives_a_result_or_input_error(text):
    try:
        parse_requirements_text(text, "fuzz.txt", environ={"A": "1"}, follow_includes=False)
    except InputError as error:
        assert "\n" not in str(error)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_from_a_file_give_a_result_or_input_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "requirements.txt"
    path.write_bytes(data)
    try:
        parse_requirements_file(path, environ={})
    except InputError as error:
        assert "\n" not in str(error)


_REFERENCE_PREFIXES = st.sampled_from(
    ["https://h/", "file:///t/", "./", "git+https://h/o/", "https://h/x.zip#egg="]
)
_REFERENCE_SUFFIXES = st.sampled_from(["-1.0.tar.gz", "-1.0-py3-none-any.whl", ".git", ""])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(_REFERENCE_PREFIXES, st.text(max_size=12), _REFERENCE_SUFFIXES).map("".join)
        | st.text(max_size=30),
        max_size=4,
    )
)
def test_every_name_read_is_a_project_name(lines):
    # URLs and paths name their project in file names and egg fragments, which packaging
    # does not check as PEP 508 names; none of them may reach the index unchecked.
    try:
        parsed = parse_requirements_text("\n".join(lines), "fuzz.txt", environ={})
    except InputError as error:
        assert "\n" not in str(error)
        return
    for requirement in (*parsed.requirements, *parsed.constraints):
        assert is_project_name(requirement.name), requirement


@pytest.mark.parametrize("line", ["0_", "torch_==2.0", "a_ ; python_version > '3'"])
def test_a_name_packaging_accepts_but_pep_508_does_not_is_refused(line):
    """packaging's tokenizer reads `0_` as a name; PEP 508 names end in a letter or digit.
    Such a name would be canonicalised to `0-` and looked up on the index."""
    with pytest.raises(InputError, match=r"^fuzz\.txt:1: invalid requirement .* is not a valid"):
        parse_requirements_text(line, "fuzz.txt", environ={})
