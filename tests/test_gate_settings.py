"""The gate's policy table and git baselines: each mistake one line, a changed policy
named, and the files of a commit read without a checkout."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from scanner.config import ConfigError, gate_policy, load_config
from scanner.inputs.baseline import files_at_ref
from scanner.model import InputError
from scanner.policy.settings import parse_policy, policy_changes

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
