"""The allowlist file: read with every mistake one line (file:line), written sorted and
stable, edited in place without losing a hand-written comment, never half-written."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from scanner.inputs.allowlist_file import (
    AllowlistEditor,
    package_dict,
    read_allowlist,
    render_allowlist,
    write_atomically,
)
from scanner.model import (
    AllowedPackage,
    Allowlist,
    Approval,
    ApprovedFacts,
    InputError,
    TrustedOrganization,
)

APPROVAL = Approval("reviewed, SEC-12", "alice@example.org", date(2026, 12, 4))
IDNA = AllowedPackage(
    "idna", APPROVAL, "==3.10", ("sha256:" + "ab" * 32,),
    ApprovedFacts(("kjd",), "", "github.com/kjd/idna", ""), baseline=True,
)  # fmt: skip


def _written(tmp_path: Path, allowlist: Allowlist) -> Path:
    path = tmp_path / "trustmap-allowlist.toml"
    path.write_text(render_allowlist(allowlist))
    return path


def test_what_is_written_reads_back_the_same_and_sorted(tmp_path):
    six = AllowedPackage("six", APPROVAL, "")
    certifi = TrustedOrganization("certifi", APPROVAL, ("lukasa", "alex"))
    allowlist = Allowlist("x", {"six": six, "idna": IDNA}, {"certifi": certifi})
    path = _written(tmp_path, allowlist)
    text = path.read_text()
    assert text.index("[organizations.certifi]") < text.index("[packages.idna]")
    assert text.index("[packages.idna]") < text.index("[packages.six]")
    assert 'members = ["alex", "lukasa"]' in text  # sorted
    read = read_allowlist(path)
    assert read.packages["idna"].facts == IDNA.facts
    assert (
        read.packages["idna"].approval.where
        == f"{path}:{text.splitlines().index('[packages.idna]') + 1}"
    )
    assert read.packages["six"].facts == ApprovedFacts()  # unknown at approval: left out
    # Deterministic: the same allowlist renders byte for byte the same.
    assert render_allowlist(read) == text


def test_every_mistake_is_one_line_with_file_and_line(tmp_path):
    path = tmp_path / "allow.toml"
    path.write_text(
        "version = 1\n"
        "[packages.idna]\n"
        'versions = "=>3"\n'
        'reason = "ok"\n'
        'approved-by = "a"\n'
        "approved-on = 2026-12-04\n"
        "[packages.Six]\n"
        'reason = "x"\n'
        "[packages.six]\n"
        'reason = ""\n'
        'approved-by = "a"\n'
        "approved-on = 2026-12-04\n"
        "expires = 2026-01-01\n"
        "colour = 1\n"
    )
    with pytest.raises(InputError) as caught:
        read_allowlist(path)
    lines = str(caught.value).splitlines()
    assert lines == [
        f"{path}:3: packages.idna.versions: '=>3' is not a version specifier",
        f"{path}:7: packages.Six: write the canonical name 'six': it conflicts with the "
        f"entry at {path}:9",
        f"{path}:14: packages.six.colour: unknown key (known keys: versions, hashes, reason, "
        "approved-by, approved-on, expires, baseline, publishers, organization, repository, "
        "provenance)",
        f"{path}:10: packages.six.reason: is required: say it in words",
        f"{path}:13: packages.six.expires: is before approved-on: a conflicting entry",
    ]


def test_invalid_toml_names_the_line(tmp_path):
    path = tmp_path / "allow.toml"
    path.write_text('version = 1\n[packages.idna\nreason = "x"\n')
    with pytest.raises(InputError, match=rf"^{path}:2: not valid TOML: "):
        read_allowlist(path)


def test_edits_keep_hand_written_comments_and_sorted_order(tmp_path):
    path = _written(
        tmp_path, Allowlist("x", {"idna": IDNA, "six": AllowedPackage("six", APPROVAL)})
    )
    text = path.read_text().replace(
        "[packages.six]", "# six: only the plotting code needs it (SEC-9)\n[packages.six]"
    )
    text = text.replace('versions = "==3.10"', 'versions = "==3.10"  # pinned on purpose')
    path.write_text(text)
    editor = AllowlistEditor(path)
    editor.put("packages", "rich", package_dict(AllowedPackage("rich", APPROVAL, ">=13")))
    editor.put("packages", "six", package_dict(AllowedPackage("six", APPROVAL, "==1.17.0")))
    editor.remove("packages", "idna")
    editor.save()
    after = path.read_text()
    assert "# six: only the plotting code needs it (SEC-9)\n[packages.six]\n" in after
    assert after.index("[packages.rich]") < after.index("# six: only")
    assert "pinned on purpose" not in after  # removed with its entry
    assert after.startswith("# trustmap allowlist")
    assert list(read_allowlist(path).packages) == ["rich", "six"]
    assert read_allowlist(path).packages["six"].versions == "==1.17.0"


def test_an_edit_that_would_not_read_back_as_intended_changes_nothing(tmp_path):
    path = tmp_path / "allow.toml"
    entry = '{ reason = "r", approved-by = "a", approved-on = 2026-12-04 }'
    original = f"version = 1\npackages = {{ six = {entry} }}\n"
    path.write_text(original)
    editor = AllowlistEditor(path)
    with pytest.raises(InputError, match="cannot edit this file safely"):
        editor.remove("packages", "six")
    with pytest.raises(InputError, match="cannot edit this file safely"):
        editor.put("packages", "idna", package_dict(IDNA))  # cannot extend an inline table
    assert path.read_text() == original


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "allow.toml"
    path.write_text("version = 1\n")

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(InputError, match="No space left on device"):
        write_atomically(path, "version = 1\n# more\n")
    assert path.read_text() == "version = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["allow.toml"]


def test_revoking_a_publisher_names_one_workflow_when_there_are_several(tmp_path):
    from scanner.allowlist import run_revoke
    from scanner.model import TrustedAccount, TrustedPublisher

    publishers = tuple(
        TrustedPublisher("pallets/flask", APPROVAL, workflow, "GitHub", ("flask",))
        for workflow in ("publish.yml", "nightly.yml")
    )
    accounts = {"jane.doe": TrustedAccount("jane.doe", APPROVAL)}
    path = _written(tmp_path, Allowlist("x", {"idna": IDNA}, {}, accounts, publishers))
    with pytest.raises(InputError, match="2 entries; name one with --workflow"):
        run_revoke("publisher:pallets/flask", path, None)
    run_revoke("publisher:pallets/flask", path, "nightly.yml")
    run_revoke("account:jane.doe", path, None)
    left = read_allowlist(path)
    assert [p.workflow for p in left.publishers] == ["publish.yml"] and not left.accounts
    assert list(left.packages) == ["idna"]
    with pytest.raises(InputError, match="no such entry"):
        run_revoke("org:nobody", path, None)
