"""`trustmap gate` as CI runs it, offline on recorded facts (the fixture index): a temporary
git repository with a base commit and a change, gated with `--baseline git:HEAD~1`.

dapy (recorded from PyPI) is kept by one account and little used: solo-and-little-used, a
high finding. six and idna are widely used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TRUSTMAP = Path(sys.executable).parent / "trustmap"
SIX = '[[packages]]\nname = "six"\nversion = "1.17.0"\n'
IDNA = '[[packages]]\nname = "idna"\nversion = "3.20"\n'
DAPY = '[[packages]]\nname = "dapy"\nversion = "1.16.1"\n'
LOCK_HEAD = 'lock-version = "1.0"\ncreated-by = "test"\n'


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def repository(tmp_path: Path, base: list[str], change: list[str], **files: str) -> Path:
    """A repository whose HEAD~1 locks `base` and whose HEAD locks `change` (pylock.toml),
    with `files` (name -> text) added in the change."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "ci@example.org")
    git(repo, "config", "user.name", "ci")
    lock = repo / "pylock.toml"
    lock.write_text("\n".join([LOCK_HEAD, *base]))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    lock.write_text("\n".join([LOCK_HEAD, *change]))
    for name, text in files.items():
        (repo / name).write_text(text)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "change")
    return repo


def gate(repo: Path, index_url: str, *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [str(TRUSTMAP), "gate", "pylock.toml", "--baseline", "git:HEAD~1",
         "--index-url", index_url, *args],
        cwd=repo, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def verdict_of(repo: Path, index_url: str, *args: str) -> tuple[int, dict]:
    code, out, err = gate(repo, index_url, *args, "-f", "json")
    assert "Traceback" not in err, err
    return code, json.loads(out)["verdict"]


def items(verdict: dict, section: str) -> set[tuple[str, str]]:
    return {(item["package"], item["rule"]) for item in verdict[section]}


def test_a_change_adding_a_solo_little_used_package_fails_naming_file_and_line(
    tmp_path, fixture_index
):
    repo = repository(tmp_path, [SIX], [SIX, DAPY])
    code, out, err = gate(repo, fixture_index.simple_url)
    assert code == 1, err
    assert "FAIL" in out and "dapy" in out
    # The lockfile entry that brings dapy in: its name, line 9 of the file.
    assert "pylock.toml:9" in out
    code, verdict = verdict_of(repo, fixture_index.simple_url)
    assert code == 1 and verdict["outcome"] == "fail"
    assert ("dapy", "solo-and-little-used") in items(verdict, "failed")
    assert not any(package == "six" for package, _ in items(verdict, "failed"))


def test_a_change_adding_nothing_risky_passes(tmp_path, fixture_index):
    repo = repository(tmp_path, [SIX], [SIX, IDNA])
    code, verdict = verdict_of(repo, fixture_index.simple_url)
    assert code == 0 and verdict["outcome"] == "pass"
    assert not verdict["failed"]


def test_a_risky_package_already_in_the_base_passes_and_is_listed_as_existing(
    tmp_path, fixture_index
):
    repo = repository(tmp_path, [SIX, DAPY], [SIX, DAPY, IDNA])
    code, out, err = gate(repo, fixture_index.simple_url)
    assert code == 0, err
    code, verdict = verdict_of(repo, fixture_index.simple_url)
    assert code == 0 and verdict["outcome"] == "pass"
    assert ("dapy", "solo-and-little-used") in items(verdict, "existing")
    assert "dapy" in out  # said, as existing, not hidden


def test_every_fact_unknown_is_incomplete_unless_allowed(tmp_path, fixture_index):
    """Offline with an empty cache, nothing about dapy is known: the gate never passes
    for want of data (exit 3), unless told to (--allow-unknown: exit 0, with a warning)."""
    repo = repository(tmp_path, [SIX], [SIX, DAPY])
    code, verdict = verdict_of(repo, fixture_index.simple_url, "--offline")
    assert code == 3 and verdict["outcome"] == "incomplete"
    assert any(package == "dapy" for package, _ in items(verdict, "unknown"))
    assert fixture_index.requests == []  # offline: nothing asked

    code, out, err = gate(repo, fixture_index.simple_url, "--offline", "--allow-unknown")
    assert code == 0, err
    assert "dapy" in out and "unknown" in out.lower()


@pytest.mark.parametrize("expires, outcome", [("2000-01-01", 1), ("2999-12-31", 0)])
def test_an_expired_exception_stops_excepting_and_says_so(
    tmp_path, fixture_index, expires, outcome
):
    policy = (
        "[policy]\n[[policy.exceptions]]\n"
        'package = "dapy"\nrule = "solo-and-little-used"\n'
        f'reason = "reviewed, SEC-1"\nexpires = {expires}\n'
    )
    repo = repository(tmp_path, [SIX], [SIX, DAPY], **{"trustmap.toml": policy})
    code, out, err = gate(repo, fixture_index.simple_url)
    assert code == outcome, out + err
    if outcome:
        assert f"expired on {expires}" in out
    else:
        code, verdict = verdict_of(repo, fixture_index.simple_url)
        assert ("dapy", "solo-and-little-used") in items(verdict, "excepted")


def test_a_pyproject_without_a_trustmap_table_at_the_base_is_the_default_policy(
    tmp_path, fixture_index
):
    """Most projects have a pyproject.toml and no [tool.trustmap]: the policy at the base
    is then the default one, compared as such, never 'could not be read'."""
    pyproject = '[project]\nname = "demo"\nversion = "0.1"\n'
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "pyproject.toml").write_text(pyproject)
    (repo / "pylock.toml").write_text("\n".join([LOCK_HEAD, SIX]))
    git(repo, "add", ".")
    git(repo, "-c", "user.email=ci@example.org", "-c", "user.name=ci", "commit", "-qm", "base")
    (repo / "pylock.toml").write_text("\n".join([LOCK_HEAD, SIX, IDNA]))
    git(repo, "-c", "user.email=ci@example.org", "-c", "user.name=ci", "commit", "-qam", "idna")
    code, verdict = verdict_of(repo, fixture_index.simple_url)
    assert code == 0, verdict
    assert verdict["notes"] == [] and verdict["policy_changes"] == []


def test_an_existing_undetermined_check_is_not_listed_as_a_finding(tmp_path, fixture_index):
    """Offline, nothing about dapy is known in base or change: what exists is undetermined,
    and the list says so (`six  critical-vulnerability` alone reads as a vulnerability)."""
    repo = repository(tmp_path, [SIX, DAPY], [SIX, DAPY, IDNA])
    code, out, err = gate(repo, fixture_index.simple_url, "--offline", "--allow-unknown")
    assert code == 0, out + err
    listed = out[out.index("Existing") :].splitlines()[1:]
    shown = listed[: next(n for n, line in enumerate(listed) if not line.startswith("  "))]
    existing = [line for line in shown if not line.lstrip().startswith("…")]
    assert existing and all("(undetermined: facts unknown)" in line for line in existing), out
    assert any(line.split()[1] == "dapy==1.16.1" for line in existing), out


@pytest.mark.parametrize("output_format", ["table", "markdown", "sarif"])
def test_a_saved_gate_renders_later_as_the_gate_did(tmp_path, fixture_index, output_format):
    """CI keeps one artifact (`gate -f json -o gate.json`) and renders the verdict from it
    later, for the log and for a comment: `trustmap report` once dropped the verdict and
    printed a scan report instead."""
    repo = repository(tmp_path, [SIX], [SIX, DAPY])
    gate(repo, fixture_index.simple_url)  # fills the cache: both runs below send nothing
    code, _, err = gate(repo, fixture_index.simple_url, "-f", "json", "-o", "gate.json")
    assert code == 1, err
    _, direct, err = gate(repo, fixture_index.simple_url, "-f", output_format)
    done = subprocess.run(
        [str(TRUSTMAP), "report", "gate.json", "-f", output_format],
        cwd=repo, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    if output_format == "sarif":  # the run's times differ; the results do not
        direct_runs, saved_runs = json.loads(direct)["runs"], json.loads(done.stdout)["runs"]
        assert saved_runs[0]["results"] == direct_runs[0]["results"]
        assert saved_runs[0]["results"]
    else:
        assert done.stdout == direct
    assert "dapy" in done.stdout
