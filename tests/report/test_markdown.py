"""Escaping of metadata for Markdown reports (the Markdown format itself is not written yet)."""

from __future__ import annotations

import re

from scanner.report.text import markdown_text

HOSTILE = "x|y <img src=x> [l](https://e.com) ![i](u) a@b.com `c`\n# h &amp;"


def test_metadata_cannot_break_a_table_or_inject_markup():
    text = markdown_text(HOSTILE)
    assert "\n" not in text
    # Every ASCII punctuation mark but the `@` code spans is preceded by a backslash.
    unescaped = re.sub(r"\\[!-/:-@\[-`{-~]|`@`", "", text)
    assert not re.search(r"[!-/:-@\[-`{-~]", unescaped), unescaped
    assert "a`@`b" in text  # GitHub links e-mail addresses even when escaped


def test_long_metadata_is_cut():
    assert len(markdown_text("a" * 1000, limit=50)) <= 51
