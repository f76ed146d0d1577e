"""Writing a report to `-o FILE`."""

from __future__ import annotations

import os
import stat
import threading

from scanner.report.render import _open_output


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
