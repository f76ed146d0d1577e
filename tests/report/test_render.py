"""Writing a report to `-o FILE`; the rules commands' output from the data given."""

from __future__ import annotations

import os
import stat
import threading
from types import SimpleNamespace

import pytest

from scanner.model import InputError
from scanner.report.render import _open_output, facts_list, rule_show, rules_list


def test_output_to_a_pipe_or_device_writes_into_it_and_never_replaces_it(tmp_path):
    """`-o /dev/null` once replaced /dev/null with a regular file (the move into place
    that keeps a half-written report from showing); a FIFO stands in for it here."""
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[str] = []

    def read() -> None:
        with open(fifo, encoding="utf-8") as reader:  # blocks until the writer opens
            received.append(reader.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with _open_output(str(fifo)) as fh:
        fh.write("report\n")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    reader.join(timeout=10)
    assert received == ["report\n"]


def test_output_to_a_file_is_moved_into_place_whole(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with _open_output(str(target)) as fh:
        fh.write("new")
        assert target.read_text() == "old"
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def _rule(rule_id: str, **changes):
    fields = dict(
        id=rule_id,
        title=f"The {rule_id} rule",
        severity="high",
        category="ownership",
        enabled=True,
        path="rules/x.toml",
        condition="facts.publisher_count == 1",
        params={"limit": 1},
        facts_used=("publisher_count",),
        motivation="Why.",
        remediation="Fix it.",
        references=("https://example.org/why",),
    )
    return SimpleNamespace(**{**fields, **changes})


def test_the_rules_commands_show_the_rules_they_are_given(capsys):
    """The rules come in as arguments (the command line loads them): nothing is read here."""
    rules_list([_rule("house-rule"), _rule("quiet-rule", enabled=False)])
    listed = capsys.readouterr().out
    assert "house-rule" in listed and "The house-rule rule" in listed
    assert "quiet-rule" in listed and "off" in listed
    rule_show("house-rule", _rule("house-rule"))
    shown = capsys.readouterr().out
    assert "house-rule: The house-rule rule" in shown and "limit = 1" in shown
    assert "https://example.org/why" in shown


def test_showing_a_rule_that_is_not_there_is_an_input_error():
    with pytest.raises(InputError, match="no rule 'nope'"):
        rule_show("nope", None)


def test_the_facts_command_lists_the_facts_it_is_given(capsys):
    facts_list([SimpleNamespace(name="made_up", type="int", source="test", description="x")])
    out = capsys.readouterr().out
    assert "made_up" in out and "publisher_count" not in out


def test_gate_verbose_says_the_scan_notes_once():
    """`gate -v` draws the whole scan, then the verdict: the notes once, not after each."""
    import io

    from rich.console import Console

    from scanner.report.formats.table import render
    from tests.report.test_markdown import gated
    from tests.report.test_sarif import make_result

    console = Console(width=80, record=True, file=io.StringIO(), color_system=None)
    render(gated(make_result()), console, verbose=True, version="0.1.0")
    out = console.export_text()
    assert out.count("Notes:") == 1 and out.index("Notes:") < out.index("trustmap gate")
    console = Console(width=80, record=True, file=io.StringIO(), color_system=None)
    render(gated(make_result()), console, verbose=False, version="0.1.0")
    assert console.export_text().count("Notes:") == 1


def test_a_download_rank_of_zero_says_it_is_unranked_not_first():
    """0 is the rules' code for "not in the top-packages dataset"; shown bare it reads as
    the most downloaded project of all."""
    from scanner.report.html import _value_html
    from scanner.report.terminal import evidence_text

    shown = evidence_text({"download_rank": 0, "publisher_count": 0, "in_top_packages": False})
    assert shown.plain == (
        "download_rank=0 (not in the top-packages dataset); publisher_count=0; "
        "in_top_packages=false"
    )
    assert evidence_text({"download_rank": 12}).plain == "download_rank=12"
    assert _value_html(0, "download_rank") == "0 (not in the top-packages dataset)"
