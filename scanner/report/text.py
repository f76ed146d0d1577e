"""Making hostile text safe to show: metadata from the internet may carry ANSI escapes,
bidi overrides or rich markup, and must print literally."""

from __future__ import annotations

import unicodedata

MAX_SHOWN = 300


def safe_text(value: object, limit: int = MAX_SHOWN) -> str:
    """Control and format characters (ANSI escapes, bidi overrides, NUL) become visible
    escapes such as `\\x1b`; long values are cut. Rich markup needs no escaping here
    because reports build rich Text objects, which never parse markup."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    out = []
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") and char != " ":
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
