"""Escaping of metadata for SARIF messages (the SARIF format itself is not written yet)."""

from __future__ import annotations

from scanner.report.text import sarif_message_text


def test_message_text_cannot_embed_a_link_or_control_characters():
    text = sarif_message_text("[click](https://e.com) \\ \x1b[31m")
    assert text == "\\[click\\](https://e.com) \\\\ \\\\x1b\\[31m"
