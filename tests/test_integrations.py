"""The CI integrations as they run: the GitHub Action's gate script in a pull request's
checkout (a base branch on `origin`, GITHUB_* as Actions sets them), and the shape of
action.yml and the pre-commit hook."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def pull_request_checkout(tmp_path: Path, base: str, change: str) -> Path:
    """A repository whose `origin` has `main` with `base` as requirements.txt, cloned
    and changed to `change` (as actions/checkout leaves a pull request's merge commit)."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    git(origin, "config", "user.email", "ci@example.org")
    git(origin, "config", "user.name", "ci")
    (origin / "requirements.txt").write_text(base)
    git(origin, "add", ".")
    git(origin, "commit", "-qm", "base")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{origin}", str(work))
    git(work, "config", "user.email", "ci@example.org")
    git(work, "config", "user.name", "ci")
    # Forget the base branch, as a shallow checkout of a pull request has not fetched it.
    git(work, "update-ref", "-d", "refs/remotes/origin/main")
    (work / "requirements.txt").write_text(change)
    git(work, "commit", "-q", "--allow-empty", "-am", "change")
    return work


def run_action_gate(work: Path, tmp_path: Path, index_url: str, **extra: str):
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    output.write_text("")
    summary.write_text("")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PIP_INDEX_URL": index_url,
        "GITHUB_BASE_REF": "main",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "TRUSTMAP_SARIF": "trustmap.sarif",
        **extra,
    }
    done = subprocess.run(
        ["bash", str(ROOT / "action" / "gate.sh")],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return done, outputs, summary.read_text()


def test_the_action_gates_a_pull_request_against_its_base_branch(tmp_path, fixture_index):
    work = pull_request_checkout(tmp_path, "six==1.17.0\n", "six==1.17.0\nidna==3.20\n")
    done, outputs, summary = run_action_gate(work, tmp_path, fixture_index.simple_url)
    assert done.returncode == 0, done.stderr  # the last step of the action fails, not this one
    assert outputs["baseline"] == "git:origin/main"
    direct = subprocess.run(
        [str(Path(sys.executable).parent / "trustmap"), "gate", "--baseline", "git:origin/main",
         "-f", "json"],
        cwd=work, capture_output=True, text=True, check=False,
        env={**os.environ, "PIP_INDEX_URL": fixture_index.simple_url},
    )  # fmt: skip
    verdict = json.loads(direct.stdout)["verdict"]
    assert outputs["exit-code"] == str(verdict["exit_code"]) == str(direct.returncode)
    # The SARIF for code scanning, the job summary once, the verdict in the log.
    sarif = json.loads((work / "trustmap.sarif").read_text())
    packages = {r["properties"]["package"] for r in sarif["runs"][0]["results"]}
    assert packages == {"idna"}  # six is in the base: not an alert
    assert summary.count("trustmap gate:") == 1
    assert f"trustmap gate: {verdict['outcome'].upper()}" in summary
    assert "trustmap gate" in done.stderr and "against git:origin/main" in done.stderr


def test_an_unfetchable_base_branch_is_exit_2_not_a_pass(tmp_path, fixture_index):
    work = pull_request_checkout(tmp_path, "six==1.17.0\n", "six==1.17.0\n")
    done, outputs, _ = run_action_gate(
        work, tmp_path, fixture_index.simple_url, GITHUB_BASE_REF="no-such-branch"
    )
    assert outputs["exit-code"] == "2"
    assert "cannot fetch the base branch no-such-branch" in done.stderr


def test_action_yml_passes_inputs_by_environment_and_fails_as_the_gate_does():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = {step.get("name", step.get("uses")): step for step in action["runs"]["steps"]}
    gate = steps["Gate"]
    assert gate["run"] == 'bash "$ACTION_PATH/action/gate.sh"'
    # No ${{ }} inside a script: a branch name or input would be spliced into bash.
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step
    used = set(re.findall(r"inputs\.([\w-]+)", (ROOT / "action.yml").read_text()))
    assert used <= set(action["inputs"]), used - set(action["inputs"])
    verdict = steps["Verdict"]["run"]
    assert "1)" in verdict and "exit 1" in verdict and "exit 3" in verdict


def test_the_pre_commit_hooks_run_on_manifests_only():
    hook, allowlist = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == "trustmap gate --baseline git:HEAD"
    # The allowlist check judges the project, not the files staged: none is passed to it.
    assert allowlist["entry"] == "trustmap allowlist check"
    assert allowlist["pass_filenames"] is False
    assert re.compile(allowlist["files"]).search("trustmap-allowlist.toml")
    assert re.compile(allowlist["files"]).search("uv.lock")
    files = re.compile(hook["files"])
    for name in ("requirements.txt", "sub/requirements-dev.txt", "requirements.in",
                 "pyproject.toml", "uv.lock", "poetry.lock", "Pipfile.lock", "pylock.toml",
                 "pylock.gpu.toml"):  # fmt: skip
        assert files.search(name), name
    for name in ("README.md", "src/requirements.py", "setup.cfg", "mypyproject.toml"):
        assert not files.search(name), name
