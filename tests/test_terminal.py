"""The command as people run it: in a real (pseudo-)terminal, where rich draws colour and
a progress bar and measures the window. A suite that only pipes never sees what breaks
there (a progress bar that crashed every terminal scan went unnoticed that way)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.conftest import default_sigint

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
DEADLINE = 120.0


def run_in_terminal(
    *args: str, columns: int = 80, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run `python -m scanner ARGS` with stdin, stdout and stderr on one pseudo-terminal
    `columns` wide. Returns the exit code, the raw output and the output with terminal
    control sequences removed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    # As a person's terminal: NO_COLOR only when the test sets it.
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    environment.update(TERM="xterm-256color", **(env or {}))
    process = subprocess.Popen(
        [sys.executable, "-m", "scanner", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env=environment,
        close_fds=True,
    )
    os.close(follower)
    chunks: list[bytes] = []
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process has ended
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    else:
        process.kill()
        pytest.fail(f"trustmap {' '.join(args)} did not finish in {DEADLINE:.0f} s")
    code = process.wait(timeout=10)
    os.close(leader)
    raw = b"".join(chunks).decode("utf-8", "replace")
    return code, raw, ANSI.sub("", raw)


def assert_clean_run(code: int, plain: str) -> None:
    assert "Traceback" not in plain, plain
    assert "internal error" not in plain, plain
    assert code == 0, plain


def assert_fits(plain: str, columns: int) -> None:
    too_wide = [line for line in plain.splitlines() if len(line) > columns]
    assert not too_wide, too_wide
    trailing = [line for line in plain.splitlines() if line != line.rstrip()]
    assert not trailing, trailing


@pytest.fixture
def cache(tmp_path: Path) -> str:
    return str(tmp_path / "terminal-cache.db")


@pytest.mark.parametrize("columns", [80, 120])
def test_scan_cold_warm_and_offline_in_a_terminal(lab_venv, fixture_index, cache, columns):
    args = ("scan", str(lab_venv), "--index-url", fixture_index.simple_url, "--cache", cache)
    code, raw, plain = run_in_terminal(*args, columns=columns)
    assert_clean_run(code, plain)
    assert "Fetching facts" in plain  # the progress bar was drawn, on the terminal
    assert "\x1b[" in raw  # in colour: rich saw a terminal
    report = plain[plain.index("trustmap 0.1.0") :]
    assert "Where to look first" in report and "Who can publish code here" in report
    assert_fits(report, columns)
    cold_requests = len(fixture_index.requests)

    code, _raw, plain = run_in_terminal(*args, columns=columns)  # warm: from the cache
    assert_clean_run(code, plain)
    assert len(fixture_index.requests) == cold_requests
    assert "Where to look first" in plain

    code, _raw, plain = run_in_terminal(*args, "--offline", columns=columns)
    assert_clean_run(code, plain)
    assert "offline: answered from the cache alone" in plain.replace("\n", " ")
    assert len(fixture_index.requests) == cold_requests


def test_unknown_ownership_is_never_a_count_of_zero_and_its_list_wraps_under_itself(
    lab_venv, cache
):
    """Offline with an empty cache no package's publishers are known: the report says
    so instead of "0 accounts, 0 organisations", and the wrapped list of those packages
    stays indented under its item at 80 columns."""
    code, _raw, plain = run_in_terminal("scan", str(lab_venv), "--offline", "--cache", cache)
    assert_clean_run(code, plain)
    assert "Who can publish code here: unknown\n" in plain
    assert "0 accounts" not in plain
    lines = plain[plain.index("Who can publish code here") :].splitlines()
    item = next(n for n, line in enumerate(lines) if "ownership unknown for 11" in line)
    assert lines[item].startswith("  ownership unknown for 11 packages: ")
    assert lines[item + 1].startswith("  ") and "more" in lines[item + 1]  # wrapped, indented
    assert lines[item + 2] == "  -v lists every package's publishers."


@pytest.mark.parametrize("columns", [80, 120])
def test_explain_in_a_terminal(lab_venv, fixture_index, cache, columns):
    code, _raw, plain = run_in_terminal(
        "explain", "idna", str(lab_venv), "--index-url", fixture_index.simple_url,
        "--cache", cache, columns=columns,
    )  # fmt: skip
    assert_clean_run(code, plain)
    assert "idna==3.10" in plain and "Paths from top-level packages" in plain
    assert "\n" + "Findings" in plain
    body = plain[plain.index("idna==3.10") :]
    assert not [line for line in body.splitlines() if line != line.rstrip()]


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_rules_list_never_cuts_an_id(columns):
    from scanner.rules import load_rules

    code, _raw, plain = run_in_terminal("rules", "list", columns=columns)
    assert_clean_run(code, plain)
    words = set(plain.split())
    for rule in load_rules().rules:
        assert rule.id in words, (rule.id, plain)
    assert "…" not in plain
    assert_fits(plain, columns)


@pytest.mark.parametrize("columns", [80, 120])
def test_rules_show_keeps_line_breaks_and_escapes_nothing_of_its_own(columns):
    code, _raw, plain = run_in_terminal("rules", "show", "typosquat", columns=columns)
    assert_clean_run(code, plain)
    assert "\\x0a" not in plain
    assert "why it matters:\n" in plain and "what to do:\n" in plain
    assert_fits(plain, columns)


def test_no_target_scans_the_activated_virtual_environment(
    lab_venv, fixture_index, cache, tmp_path
):
    code, _raw, plain = run_in_terminal(
        "scan", "--index-url", fixture_index.simple_url, "--cache", cache,
        columns=120, cwd=tmp_path, env={"VIRTUAL_ENV": str(lab_venv)},
    )  # fmt: skip
    assert_clean_run(code, plain)
    header = plain[plain.index("trustmap 0.1.0") :].split("Packages:")[0]
    assert str(lab_venv) in header and "$VIRTUAL_ENV" in header
    assert "Packages: 11" in plain


def _read_terminal(leader: int, seconds: float, until: str | None = None) -> bytes:
    """What the terminal shows, read until the process closes it (or, with `until`, until
    that text appears on screen), for at most `seconds`."""
    output = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if until is not None and until in ANSI.sub("", output.decode("utf-8", "replace")):
            break
        ready, _, _ = select.select([leader], [], [], 0.2)
        if not ready:
            continue
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process has ended
            break
        if not data:
            break
        output += data
    return output


def test_interrupt_in_a_terminal_is_one_line(lab_venv, fixture_index, cache):
    """Ctrl-C typed at the terminal reaches the whole foreground process group. It is
    typed once the scan is midway (its progress bar is on screen and three projects are
    stalled far longer than the test waits), never after a fixed time: on a loaded
    machine the interpreter may still be importing then, and Ctrl-C there is Python's
    own traceback, not trustmap's."""
    fixture_index.delays = {f"/pypi/{n}/json": 60.0 for n in ("requests", "idna", "rich")}
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "scanner", "scan", str(lab_venv), "--index-url",
         fixture_index.simple_url, "--cache", cache],
        stdin=follower, stdout=follower, stderr=follower, start_new_session=True,
        # A shell's background job (`make test &`) ignores SIGINT, and so would the scan.
        preexec_fn=default_sigint,
    )  # fmt: skip
    os.close(follower)
    try:
        output = _read_terminal(leader, DEADLINE, until="Fetching facts")
        assert "Fetching facts" in ANSI.sub("", output.decode("utf-8", "replace")), output
        os.killpg(process.pid, signal.SIGINT)
        output += _read_terminal(leader, DEADLINE)
        code = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    plain = ANSI.sub("", output.decode("utf-8", "replace"))
    assert code == 2, plain
    assert "Traceback" not in plain
    assert "interrupted" in plain


def test_the_progress_bar_counts_and_names_what_it_waits_for(lab_venv, fixture_index, cache):
    fixture_index.delays = {"/pypi/six/json": 1.5}  # six answers last
    code, raw, plain = run_in_terminal(
        "scan", str(lab_venv), "--index-url", fixture_index.simple_url, "--cache", cache,
        columns=80,
    )  # fmt: skip
    assert_clean_run(code, plain)
    frames = [ANSI.sub("", frame) for frame in re.split(r"\r|\x1b\[2K", raw)]
    bars = [frame.strip() for frame in frames if frame.startswith("Fetching facts")]
    assert any(re.search(r" 10/11 .*waiting for six$", bar) for bar in bars), bars
    assert all(len(bar) <= 80 for bar in bars)


@pytest.mark.parametrize("columns", [80, 120])
def test_scan_quiet_prints_the_summary_line_alone(lab_venv, fixture_index, cache, columns):
    code, _raw, plain = run_in_terminal(
        "scan", "-q", str(lab_venv), "--index-url", fixture_index.simple_url, "--cache", cache,
        columns=columns,
    )  # fmt: skip
    assert_clean_run(code, plain)
    assert "Fetching facts" not in plain and "Reading the inputs" not in plain
    assert " ".join(plain.split()) == (
        "11 packages, 16 publishing accounts, 1 organisation; findings: 1 high, 9 low; "
        "29 rule checks undetermined (facts unknown)"
    )
    assert_fits(plain, columns)


def test_quiet_is_for_the_table_alone(lab_venv):
    code, _raw, plain = run_in_terminal("scan", "-q", "-f", "json", str(lab_venv), columns=80)
    assert code == 2
    assert plain.strip() == (
        "trustmap: error: -q prints the table report's summary line alone: not with -v or -f"
    )


def test_gate_and_diff_in_a_terminal_in_colour_unless_no_color(fixture_index, tmp_path, cache):
    """A gate that fails, at 80 columns: in colour, every line within the width, the
    headline's wrapped counts under the counts and each item's lines under it; NO_COLOR
    keeps the same text without colour. diff likewise. (Through a pipe there is no colour
    at all: tests/test_gate.py reads the gate's output from a pipe.)"""
    from tests.test_gate import DAPY, SIX, repository

    repo = repository(tmp_path, [SIX], [SIX, DAPY])
    index = ("--index-url", fixture_index.simple_url, "--cache", cache)
    gate = ("gate", "pylock.toml", "--baseline", "git:HEAD~1", *index)
    code, raw, plain = run_in_terminal(*gate, cwd=repo)
    assert code == 1, plain
    assert "\x1b[" in raw and "Traceback" not in plain
    report = plain[plain.index("trustmap gate") :]
    assert_fits(report, 80)
    lines = report.splitlines()
    # 82 characters of counts: what they are judged against goes whole on the next line,
    # under the counts (not `fail-on` at the end of one line and `high` on the next).
    assert lines[1] == "FAIL: 1 failing, 0 unknown, 0 excepted, 0 existing"
    assert lines[2] == "      against git:HEAD~1; fail-on high"
    assert "pylock.toml:9" in report

    code, raw, plain = run_in_terminal(*gate, cwd=repo, env={"NO_COLOR": "1"})
    assert code == 1
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", raw)  # no colour (bold may stay)
    assert "FAIL: 1 failing" in plain

    code, raw, plain = run_in_terminal("diff", "git:HEAD~1", "pylock.toml", *index, cwd=repo)
    assert code == 0, plain
    report = plain[plain.index("trustmap diff") :]
    assert_fits(report, 80)
    assert "added (1):" in report and "dapy==1.16.1" in report
    assert "can now publish into the closure (1):" in report and "JacksonWoo: dapy" in report


def test_unreachable_enrichment_hosts_are_one_warning_line_each_in_a_terminal(
    lab_venv, fixture_index, cache
):
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))  # bound, never listening: every connection is refused
    host = f"127.0.0.1:{refused.getsockname()[1]}"
    try:
        code, raw, plain = run_in_terminal(
            "scan",
            str(lab_venv),
            "--index-url",
            fixture_index.simple_url,
            "--cache",
            cache,
            env={"TRUSTMAP_GITHUB_API_URL": f"http://{host}"},
        )
    finally:
        refused.close()
    assert_clean_run(code, plain)
    flat = plain.replace("\n", " ")
    assert flat.count(f"unreachable: {host} could not be reached") == 1
    assert "not asked again in this scan" in flat and "facts unknown" in flat
    assert "\x1b[33m" in raw  # in yellow, not folded into the dim notes


def test_the_gate_says_an_unreachable_host_on_its_own_line_not_in_the_notes(
    fixture_index, tmp_path, cache
):
    """As scan does: a host that could not be asked is a yellow warning line of its own,
    not one more clause of the dim Notes run-on."""
    from tests.test_gate import DAPY, SIX, repository

    repo = repository(tmp_path, [SIX], [SIX, DAPY])
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))  # bound, never listening: every connection is refused
    host = f"127.0.0.1:{refused.getsockname()[1]}"
    try:
        code, raw, plain = run_in_terminal(
            *("gate", "pylock.toml", "--baseline", "git:HEAD~1"),
            *("--index-url", fixture_index.simple_url, "--cache", cache),
            cwd=repo,
            # Three refused connections in a row make a host unreachable: two packages
            # ask each of these once.
            env={f"TRUSTMAP_{name}_API_URL": f"http://{host}" for name in ("DEPSDEV", "PYPISTATS")},
        )
    finally:
        refused.close()
    assert code == 1, plain
    report = plain[plain.index("trustmap gate") :]
    assert_fits(report, 80)
    assert re.search(rf"^unreachable: {re.escape(host)} could not be reached", report, re.M)
    notes = report[report.index("Notes:") :]
    assert "unreachable" not in notes and "index:" in notes
    assert "\x1b[33munreachable" in raw  # in yellow
