"""`trustmap allowlist`, end to end against a real-layout environment and the fixture
index of recorded PyPI responses: the round trip init -> the environment changes ->
check fails -> review -> approve -> check passes, hand-written comments kept through
approve and prune, re-opened approvals, and the outputs the gate has."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema

from scanner.inputs.allowlist_file import read_allowlist
from tests.conftest import FIXTURES, add_dist, recorded_project, site_packages
from tests.test_cli import run

# Hand-written comments, each directly above the table it is about: pycrypto is approved
# into the place just before pygments, and six, just before urllib3, is pruned.
ABOVE_PYGMENTS = "# security team: pygments is reviewed yearly (SEC-31)\n[packages.pygments]"
ABOVE_URLLIB3 = "# urllib3: pinned below 3 until the proxy code is ported\n[packages.urllib3]"
FILE_NOTE = "# Owned by the security team; ask in #sec-review.\n"


def allowlist_args(path: Path, index, *more: str) -> list[str]:
    return ["--allowlist", str(path), "--index-url", index.simple_url, *more]


def init(venv: Path, path: Path, index) -> None:
    code, out, err = run("allowlist", "init", str(venv), *allowlist_args(path, index),
                         "--by", "alice@example.org")  # fmt: skip
    assert code == 0, err
    assert f"wrote {path}: 11 packages" in out


def check(venv: Path, path: Path, index, *more: str) -> tuple[int, dict, str]:
    code, out, err = run("allowlist", "check", str(venv), *allowlist_args(path, index),
                         "-f", "json", *more)  # fmt: skip
    assert code in (0, 1, 3), err
    return code, json.loads(out)["verdict"], err


def test_the_round_trip_init_change_check_review_approve_check(lab_venv, fixture_index, tmp_path):
    path = tmp_path / "trustmap-allowlist.toml"
    init(lab_venv, path, fixture_index)
    allowlist = read_allowlist(path)
    assert len(allowlist.packages) == 11
    dapy = allowlist.packages["dapy"]
    assert (dapy.versions, dapy.baseline) == ("==1.16.1", True)
    assert dapy.facts.publishers == ("JacksonWoo",)
    assert allowlist.packages["certifi"].facts.organization == "certifi"
    code, verdict, _ = check(lab_venv, path, fixture_index)
    assert (code, verdict["outcome"]) == (0, "pass")
    assert len(verdict["allowed"]) == 11
    assert {i["rule"] for i in verdict["existing"]} == {"baseline-approval"}
    code, out, err = run("allowlist", "review", str(lab_venv), *allowlist_args(path, fixture_index),
                         "-f", "json", "--standing")  # fmt: skip
    assert code == 0, err
    standing = json.loads(out)["candidates"]
    assert len(standing) == 11 and standing[0]["risk"] >= standing[-1]["risk"]

    text = path.read_text().replace("[packages.pygments]", ABOVE_PYGMENTS)
    path.write_text(FILE_NOTE + text.replace("[packages.urllib3]", ABOVE_URLLIB3))
    # The environment changes: pycrypto is installed (pulled in by nothing).
    add_dist(site_packages(lab_venv), "pycrypto", "2.6.1")
    code, verdict, _ = check(lab_venv, path, fixture_index)
    assert (code, verdict["outcome"]) == (1, "fail")
    (item,) = verdict["failed"]
    assert (item["package"], item["rule"]) == ("pycrypto", "not-allowed")
    assert item["message"] == "not on the allowlist; publishers amk, dlitz"

    code, out, err = run("allowlist", "review", str(lab_venv), *allowlist_args(path, fixture_index),
                         "-f", "json")  # fmt: skip
    assert code == 0, err
    (candidate,) = json.loads(out)["candidates"]
    assert candidate["package"] == "pycrypto"
    assert candidate["publishers"]["accounts"] == ["amk", "dlitz"]
    assert candidate["findings"]  # the evidence a reviewer decides on
    assert candidate["approve"].startswith("trustmap allowlist approve pycrypto --version ==2.6.1")

    code, out, err = run("allowlist", "approve", "pycrypto", str(lab_venv),
                         *allowlist_args(path, fixture_index), "--reason", "legacy, SEC-40",
                         "--by", "bob@example.org", "--expires", "2027-06-30")  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"approved pycrypto ==2.6.1 at {path}:")
    approved = read_allowlist(path).packages["pycrypto"]
    assert (approved.approval.approved_by, str(approved.approval.expires)) == (
        "bob@example.org",
        "2027-06-30",
    )
    assert approved.facts.publishers == ("amk", "dlitz") and not approved.baseline
    text = path.read_text()
    assert text.startswith(FILE_NOTE) and ABOVE_URLLIB3 in text
    assert text.index("[packages.pycrypto]") < text.index(ABOVE_PYGMENTS)
    code, verdict, _ = check(lab_venv, path, fixture_index)
    assert (code, verdict["outcome"]) == (0, "pass")

    # six is uninstalled: prune removes its entry, and the comment stays.
    shutil.rmtree(site_packages(lab_venv) / "six-1.16.0.dist-info")
    code, out, err = run("allowlist", "prune", str(lab_venv), *allowlist_args(path, fixture_index))
    assert code == 0, err
    assert out == "removed packages six: not in the closure any more\n"
    after = path.read_text()
    assert "[packages.six]" not in after
    assert after.startswith(FILE_NOTE) and ABOVE_PYGMENTS in after and ABOVE_URLLIB3 in after
    assert check(lab_venv, path, fixture_index)[0] == 0


def test_an_approval_whose_publishers_changed_fails_naming_the_change(
    lab_venv, fixture_index, tmp_path
):
    path = tmp_path / "trustmap-allowlist.toml"
    init(lab_venv, path, fixture_index)
    idna = recorded_project("idna")
    idna["ownership"]["roles"].append({"role": "Maintainer", "user": "mallory"})
    fixture_index.add("idna", idna)
    code, verdict, _ = check(lab_venv, path, fixture_index, "--refresh")
    assert (code, verdict["outcome"]) == (1, "fail")
    (item,) = verdict["failed"]
    assert (item["package"], item["rule"]) == ("idna", "approval-changed")
    assert "publishers +mallory" in item["message"]
    assert item["at"] == "via requests > idna"  # the path that brings it in
    # SARIF as the gate writes it, valid against the schema, and Markdown.
    code, out, _ = run("allowlist", "check", str(lab_venv), *allowlist_args(path, fixture_index),
                       "-f", "sarif")  # fmt: skip
    sarif = json.loads(out)
    schema = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    (result,) = sarif["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("approval-changed", "error")
    assert sarif["runs"][0]["invocations"][0]["exitCode"] == 1
    code, out, _ = run("allowlist", "check", str(lab_venv), *allowlist_args(path, fixture_index),
                       "-f", "markdown")  # fmt: skip
    assert code == 1
    assert "trustmap allowlist check: FAIL" in out and "+mallory" in out
    # Approved again, it passes.
    reason = "mallory is kjd's co-maintainer"
    code, _, err = run("allowlist", "approve", "idna", str(lab_venv),
                       *allowlist_args(path, fixture_index), "--reason", reason)  # fmt: skip
    assert code == 0, err
    assert check(lab_venv, path, fixture_index)[0] == 0


def test_offline_with_no_facts_is_incomplete_not_allowed(lab_venv, fixture_index, tmp_path):
    path = tmp_path / "trustmap-allowlist.toml"
    init(lab_venv, path, fixture_index)
    empty = str(tmp_path / "empty-cache.db")
    code, verdict, _ = check(lab_venv, path, fixture_index, "--offline", "--cache", empty)
    assert (code, verdict["outcome"]) == (3, "incomplete")
    assert len(verdict["unknown"]) == 11 and not verdict["allowed"]
    code, verdict, _ = check(lab_venv, path, fixture_index, "--offline", "--cache", empty,
                             "--allow-unknown")  # fmt: skip
    assert code == 0


def test_bad_input_is_one_line_and_exit_2(lab_venv, fixture_index, tmp_path):
    path = tmp_path / "trustmap-allowlist.toml"
    code, _, err = run("allowlist", "check", str(lab_venv), *allowlist_args(path, fixture_index))
    assert code == 2 and err == f"trustmap: error: {path}: no such allowlist " \
        "(`trustmap allowlist init` starts one)\n"  # fmt: skip
    path.write_text('version = 1\n[packages.idna]\nversions = "3.10"\n')
    code, _, err = run("allowlist", "check", str(lab_venv), *allowlist_args(path, fixture_index))
    assert code == 2
    assert f"trustmap: error: {path}:3: packages.idna.versions: '3.10' is not a version" in err
    init_path = tmp_path / "new.toml"
    init(lab_venv, init_path, fixture_index)
    before = init_path.read_text()
    code, _, err = run("allowlist", "approve", "no-such-project-xyz", str(lab_venv),
                       *allowlist_args(init_path, fixture_index), "--reason", "x")  # fmt: skip
    assert code == 2 and "no-such-project-xyz" in err and "Traceback" not in err
    code, _, err = run("allowlist", "revoke", "not-there", "--allowlist", str(init_path))
    assert (code, err) == (2, f"trustmap: error: not-there: no such entry in {init_path}\n")
    code, _, err = run(
        "allowlist", "init", str(lab_venv), *allowlist_args(init_path, fixture_index)
    )
    assert code == 2 and "already exists" in err
    assert init_path.read_text() == before  # never half-written, never replaced by mistake


def test_check_and_review_in_a_terminal(lab_venv, fixture_index, tmp_path):
    from tests.test_terminal import assert_fits, run_in_terminal

    path = tmp_path / "trustmap-allowlist.toml"
    init(lab_venv, path, fixture_index)
    add_dist(site_packages(lab_venv), "pycrypto", "2.6.1")
    # Metadata from the index is hostile: it must print literally, and not break the layout.
    pycrypto = recorded_project("pycrypto")
    hostile = "http://www.pycrypto.org/\x1b[31mred[/] [bold]x"
    pycrypto["info"]["home_page"] = pycrypto["info"]["project_urls"]["Homepage"] = hostile
    fixture_index.add("pycrypto", pycrypto)
    args = (str(lab_venv), *allowlist_args(path, fixture_index))
    code, raw, plain = run_in_terminal("allowlist", "check", *args, columns=80)
    assert code == 1, plain
    assert "\x1b[" in raw  # drawn for a terminal
    assert "FAIL: 1 not allowed, 0 unknown, 11 allowed (11 by entry)" in plain
    assert "pycrypto==2.6.1  not-allowed" in plain
    assert "Traceback" not in plain
    assert "Fetching facts" in plain  # the progress bar, then the report
    assert_fits(plain[plain.index("trustmap allowlist check") :], 80)
    code, raw, plain = run_in_terminal("allowlist", "review", *args, columns=80)
    assert code == 0, plain
    # A work list that exits 0 does not say FAIL.
    assert "TO REVIEW: 1 not allowed, 0 unknown, 11 allowed" in plain and "FAIL" not in plain
    body = plain[plain.index("1. pycrypto==2.6.1") :]
    assert "publishers: amk, dlitz" in body and "known-vulnerability" in body
    # On one line whatever the width (it is copied from the terminal), into the
    # allowlist that was reviewed, not ./trustmap-allowlist.toml.
    approve = f"approve: trustmap allowlist approve pycrypto --version ==2.6.1 --allowlist {path}"
    assert approve in body
    # Most severe first.
    severities = re.findall(r"^ +(CRITICAL|HIGH|MEDIUM|LOW|INFO) ", body, re.M)
    order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"]
    assert len(severities) > 1 and severities == sorted(severities, key=order.index), body
    assert "\x1b[31mred" not in raw and "\\x1b[31mred[/] [bold]x" in body
    assert_fits(body.replace(approve, ""), 80)


def test_a_trusted_organisation_allows_until_it_gains_a_member(lab_venv, fixture_index, tmp_path):
    path = tmp_path / "trustmap-allowlist.toml"
    init(lab_venv, path, fixture_index)
    args = allowlist_args(path, fixture_index)
    code, out, err = run("allowlist", "approve", "org:certifi", str(lab_venv), *args,
                         "--reason", "the certifi maintainers", "--by", "alice")  # fmt: skip
    assert code == 0, err
    assert "members recorded: Lukasa" in out
    code, out, err = run("allowlist", "revoke", "certifi", "--allowlist", str(path))
    assert (code, out) == (0, f"revoked certifi in {path}\n"), err
    code, verdict, _ = check(lab_venv, path, fixture_index)
    assert code == 0 and verdict["allowed"]["certifi"] == "organisation certifi"
    certifi = recorded_project("certifi")
    certifi["ownership"]["roles"].append({"role": "Owner", "user": "eve"})
    fixture_index.add("certifi", certifi)
    code, verdict, _ = check(lab_venv, path, fixture_index, "--refresh")
    assert code == 1
    (item,) = verdict["failed"]
    assert (item["package"], item["rule"]) == ("certifi", "trust-changed")
    assert "organisation certifi members changed since approval: +eve" in item["message"]


def test_an_allowlist_under_the_working_directory_is_named_as_typed(tmp_path, monkeypatch):
    from scanner.report.text import shown_path

    monkeypatch.chdir(tmp_path)
    assert shown_path(str(tmp_path / "ci" / "allow.toml")) == "ci/allow.toml"
    assert shown_path("/elsewhere/allow.toml") == "/elsewhere/allow.toml"
    assert shown_path("allow.toml") == "allow.toml"
