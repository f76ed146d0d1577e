"""The gate's policy table and git baselines: each mistake one line, a changed policy
named, and the files of a commit read without a checkout."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scanner.config import ConfigError, load_config
from scanner.configured import gate_policy
from scanner.inputs.baseline import files_at_ref, saved_snapshot
from scanner.model import SEVERITIES, InputError
from scanner.names import is_project_name
from scanner.policy.settings import describe_policy, parse_policy, policy_changes

RULES = {"solo-maintainer", "low-usage"}


def test_a_valid_policy_is_read_with_its_exception_lines(tmp_path):
    config = tmp_path / "trustmap.toml"
    config.write_text(
        '[policy]\nfail-on = "medium"\non-unknown = "warn"\ndeny = ["Evil_Pkg", "bad-*"]\n'
        '[policy.severity]\nlow-usage = "high"\n'
        '[[policy.exceptions]]\npackage = "tiny-lib"\nrule = "solo-maintainer"\n'
        'reason = "reviewed"\nexpires = 2027-03-31\n'
    )
    policy = gate_policy(load_config(config), RULES)
    assert (policy.fail_on, policy.on_unknown) == ("medium", "warn")
    assert policy.deny == ("evil-pkg", "bad-*")
    assert policy.severity == {"low-usage": "high"}
    (exception,) = policy.exceptions
    assert exception.expires == date(2027, 3, 31)
    assert exception.where == f"{config}:7"


def test_every_mistake_is_one_line_naming_file_and_key(tmp_path):
    config = tmp_path / "pyproject.toml"
    config.write_text(
        '[tool.trustmap.policy]\nfail-on = "severe"\non-unknown = 1\nstrict = true\n'
        '[tool.trustmap.policy.severity]\nno-such-rule = "high"\n'
        '[[tool.trustmap.policy.exceptions]]\npackage = "x"\nrule = "solo-maintainer"\n'
        'reason = ""\n'
    )
    with pytest.raises(ConfigError) as caught:
        gate_policy(load_config(config), RULES)
    lines = str(caught.value).splitlines()
    keys = [line.split(": ")[1] for line in lines]
    assert keys == [
        "tool.trustmap.policy.strict",
        "tool.trustmap.policy.fail-on",
        "tool.trustmap.policy.on-unknown",
        "tool.trustmap.policy.severity.no-such-rule",
        "tool.trustmap.policy.exceptions[0].expires",
    ]
    assert all(line.startswith(f"{config}: ") for line in lines)


def test_a_relaxed_policy_is_named_setting_by_setting():
    before, _ = parse_policy({"fail-on": "high"}, "t", "policy.", RULES)
    after, _ = parse_policy(
        {
            "fail-on": "critical",
            "exceptions": [
                {"package": "a", "rule": "*", "reason": "mine", "expires": "2027-01-01"}
            ],
        },
        "t",
        "policy.",
        RULES,
    )
    assert policy_changes(before, after) == (
        "added exception a / *: mine (until 2027-01-01)",
        "changed fail-on: high -> critical",
    )
    assert policy_changes(after, after) == ()


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_a_commit_s_manifests_are_read_without_touching_the_tree(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.org")
    _git(repo, "config", "user.name", "t")
    (repo / "requirements.txt").write_text("-r base.txt\nidna==3.7\n")
    (repo / "base.txt").write_text("packaging==24.1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    (repo / "requirements.txt").write_text("idna==3.8\n")
    (repo / "new.txt").write_text("six\n")
    out = tmp_path / "out"
    found = files_at_ref("HEAD", ("requirements.txt", "new.txt", "six==1.0"), repo, out)
    assert found.targets == (str(out / "requirements.txt"), "six==1.0")
    assert found.missing == ("new.txt",)
    assert (out / "requirements.txt").read_text() == "-r base.txt\nidna==3.7\n"
    assert (out / "base.txt").read_text() == "packaging==24.1\n"
    assert (repo / "requirements.txt").read_text() == "idna==3.8\n"  # the tree is untouched
    with pytest.raises(InputError, match="no such commit"):
        files_at_ref("no-such-ref", ("requirements.txt",), repo, out)
    with pytest.raises(InputError, match="not a git revision"):
        files_at_ref("--output=x", ("requirements.txt",), repo, out)


# Property tests: whatever a policy table or a saved baseline holds, the result is a
# policy or one line per mistake, a snapshot or "not a baseline" or one InputError line;
# never an exception of another kind.
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-3, max_value=3)
    | st.floats(allow_nan=True)
    | st.text(max_size=8)
    | st.dates()
    | st.datetimes()
    | st.sampled_from(
        ["high", "never", "fail", "warn", "*", "solo-maintainer", "2027-03-31", "evil-*", "[!a]"]
    )
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _mostly(*plausible) -> st.SearchStrategy:
    """Plausible values most of the time, so that the parser gets past its first checks
    to the later ones; anything at all otherwise."""
    return st.one_of(st.sampled_from(plausible), st.sampled_from(plausible), _VALUES)


_EXCEPTIONS = st.fixed_dictionaries(
    {
        "package": _mostly("tiny-lib", "Evil_Pkg", "bad-*", "a b"),
        "rule": _mostly("*", "low-usage", "nope"),
        "reason": _mostly("reviewed", " "),
        "expires": _mostly("2027-03-31", date(2027, 3, 31), "31/03/2027"),
    },
    optional={"extra": _VALUES},
)
_POLICY_TABLES = _VALUES | st.fixed_dictionaries(
    {},
    optional={
        "fail-on": _mostly("high", "never", "severe"),
        "on-unknown": _mostly("fail", "warn", "ignore"),
        "deny": st.lists(_mostly("evil-*", "Evil_Pkg", "a b", ""), max_size=3) | _VALUES,
        "severity": st.dictionaries(
            st.sampled_from(["low-usage", "nope", ""]) | st.text(max_size=4),
            _mostly("high", "dire"),
            max_size=2,
        )
        | _VALUES,
        "exceptions": st.lists(_EXCEPTIONS | _VALUES, max_size=3) | _VALUES,
        "strict": _VALUES,
    },
)


@settings(max_examples=400, deadline=None)
@given(_POLICY_TABLES, st.text(max_size=80))
@example({"\n": None}, "")  # a quoted key holding a line break, named on one line
@example({"severity": {"a\nb": "high"}}, "")
def test_any_policy_table_gives_a_policy_or_one_line_per_mistake(table, text):
    policy, problems = parse_policy(table, "trustmap.toml", "policy.", RULES, text)
    for line in problems:
        assert line.startswith("trustmap.toml: policy") and "\n" not in line
    if problems:
        return
    assert policy.fail_on in (None, *SEVERITIES) and policy.on_unknown in ("fail", "warn")
    assert all(level in SEVERITIES and rule in RULES for rule, level in policy.severity.items())
    for exception in policy.exceptions:
        assert exception.rule in (*RULES, "*") and exception.reason.strip()
        assert isinstance(exception.expires, date)
    describe_policy(policy)  # what the gate prints about it never fails either


_REPORT_ENTRIES = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["six", "Six_Pkg", "requests/json#", ""]) | _VALUES,
        "version": _VALUES,
        "findings": st.lists(
            st.fixed_dictionaries({}, optional={"rule": _VALUES, "title": _VALUES}), max_size=2
        )
        | _VALUES,
        "undetermined": _VALUES,
        "publishers": st.fixed_dictionaries(
            {}, optional={"known": _VALUES, "accounts": _VALUES, "organization": _VALUES}
        )
        | _VALUES,
    },
)
_PROPERTIES = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from(
                [
                    "trustmap:publisher",
                    "trustmap:publishers",
                    "trustmap:finding:x",
                    "trustmap:undetermined:y",
                ]
            )
            | _VALUES,
            "value": _VALUES,
        },
    )
    | _VALUES,
    max_size=3,
)
_COMPONENTS = st.recursive(
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from(["six", "requests/json#"]) | _VALUES,
            "version": _VALUES,
            "properties": _PROPERTIES | _SCALARS,
        },
    ),
    lambda inner: st.fixed_dictionaries({"components": st.lists(inner, max_size=2) | _VALUES}),
    max_leaves=4,
)
_BASELINES = (
    _VALUES
    | st.fixed_dictionaries(
        {"tool": st.just({"name": "trustmap"}) | _VALUES},
        optional={"packages": st.lists(_REPORT_ENTRIES | _VALUES, max_size=3) | _VALUES},
    )
    | st.fixed_dictionaries(
        {"bomFormat": st.just("CycloneDX") | _VALUES},
        optional={"components": st.lists(_COMPONENTS | _VALUES, max_size=3) | _VALUES},
    )
)


@settings(max_examples=400, deadline=None)
@given(_BASELINES)
def test_any_saved_json_gives_a_snapshot_none_or_one_line(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("baseline") / "report.json"
    path.write_text(json.dumps(document, default=str))
    try:
        snapshot = saved_snapshot(path)
    except InputError as error:
        assert str(error).startswith(f"{path}: ") and "\n" not in str(error)
        return
    if snapshot is not None:
        assert all(is_project_name(name) for name in snapshot.packages)
        assert all(isinstance(version, str) for version in snapshot.packages.values())
