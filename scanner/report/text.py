"""Making text safe and tidy to show: metadata from the internet may carry ANSI escapes,
bidi overrides or rich markup, and must print literally; terminal output carries no
trailing blanks."""

from __future__ import annotations

import re
import sys
import unicodedata
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

MAX_SHOWN = 300


def safe_text(value: object, limit: int = MAX_SHOWN, keep_newlines: bool = False) -> str:
    """Control and format characters (ANSI escapes, bidi overrides, NUL) become visible
    escapes such as `\\x1b`; long values are cut. Rich markup needs no escaping here
    because reports build rich Text objects, which never parse markup.

    `keep_newlines` is for the project's own text (rule files): its line breaks are
    layout, not an attack, and stay line breaks."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    out = []
    for char in text:
        if char == "\n" and keep_newlines:
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") and char != " ":
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


# Fact values that are codes, not quantities (the facts schema says what they mean):
# shown with their meaning, lest a download rank of 0 read as the most downloaded.
_CODED_VALUES = {("download_rank", 0): "not in the top-packages dataset"}


def coded_meaning(fact: str, value: object) -> str:
    """` (what the value means)` for a coded fact value, else empty."""
    if not isinstance(value, int) or isinstance(value, bool):
        return ""
    meaning = _CODED_VALUES.get((fact, value))
    return f" ({meaning})" if meaning else ""


def shown_path(path: str) -> str:
    """A file path as people type it: relative to the working directory when it is under
    it (the allowlist in a CI log or a review), else as it was given."""
    if not path:
        return path
    from pathlib import Path

    shown = Path(path)
    if shown.is_absolute() and shown.is_relative_to(Path.cwd()):
        return str(shown.relative_to(Path.cwd()))
    return path


# Blanks at the end of a line, mixed with style codes (rich pads wrapped and indented
# blocks to the full width, inside and after styled spans).
_TRAILING_BLANKS = re.compile(r"(?:[ \t]|\x1b\[[0-9;]*m)+$", re.MULTILINE)
_STYLE_CODE = re.compile(r"\x1b\[[0-9;]*m")


def _strip_trailing_blanks(text: str) -> str:
    return _TRAILING_BLANKS.sub(lambda m: "".join(_STYLE_CODE.findall(m.group())), text)


class _NoTrailingBlanks:
    """A text stream that drops the blanks rich leaves at the end of lines, so that piped
    reports diff cleanly and terminals do not show ragged highlighted padding."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        complete, newline, rest = self._pending.rpartition("\n")
        if newline:
            self._stream.write(_strip_trailing_blanks(complete) + "\n")
            self._pending = rest
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(_strip_trailing_blanks(self._pending))
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8")


def console(file: IO[str] | None = None, stderr: bool = False, width: int | None = None) -> Console:
    """The one way reports make a rich Console: to a file (plain, `width` columns wide),
    or to stdout/stderr (colour and width from the terminal, 80 columns when piped)."""
    from rich.console import Console

    if file is not None:
        return Console(file=_NoTrailingBlanks(file), no_color=True, width=width or 160)
    if stderr:  # live displays (the progress bar) redraw in place: nothing to strip
        return Console(stderr=True, highlight=False, width=width)
    # rich decides colour and width from the stream it writes to; the wrapper answers for it.
    return Console(file=_NoTrailingBlanks(sys.stdout), highlight=False, width=width)


# Every ASCII punctuation character may be backslash-escaped in CommonMark, and an escaped
# one is always literal: no emphasis, link, image, table cell break, HTML tag or entity.
_MARKDOWN_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?[\\]^_`{|}~")


def markdown_text(value: object, limit: int = MAX_SHOWN) -> str:
    """Metadata as literal Markdown (GitHub-flavoured) on one line, fit for a table cell:
    control characters and newlines become visible escapes (safe_text), punctuation is
    backslash-escaped. `@` becomes a code span instead: GitHub links e-mail addresses
    after escapes are undone, and only a code span between the parts stops that."""
    out = []
    for char in safe_text(value, limit):
        if char == "@":
            out.append("`@`")
        elif char in _MARKDOWN_PUNCTUATION:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def sarif_message_text(value: object, limit: int = MAX_SHOWN) -> str:
    """Metadata in a SARIF message's plain text: safe_text, with the backslash and square
    brackets escaped, since SARIF viewers read `[text](target)` there as an embedded link."""
    text = safe_text(value, limit)
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
