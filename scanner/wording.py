"""How reports and notes word counts and lists of names: "3 packages", "a, b, c and 2
more". One place, so that every note and report says it the same way. A leaf: it imports
no other scanner module (report/ may import it)."""

from __future__ import annotations

from collections.abc import Sequence


def counted(number: int, noun: str) -> str:
    """`3 packages`, `1 package` (nouns that take an s)."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def some_of(names: Sequence[str], shown: int = 5, *, ellipsis: bool = False) -> str:
    """The first `shown` names and how many more: `a, b, c and 2 more`, or with `ellipsis`
    (a terminal's dense lists) `a, b, c, … 2 more`."""
    listed = ", ".join(names[:shown])
    rest = len(names) - shown
    if rest <= 0:
        return listed
    return f"{listed}, … {rest} more" if ellipsis else f"{listed} and {rest} more"
