"""Wheel file names (PEP 427): `name-version[-build]-python-abi-platform.whl`, read
for the parts trustmap needs. Shared by the sources (which file's provenance to ask for)
and the facts (which file hash is the installed one), and by the resolver's index
listing, so that every stage reads a wheel's name the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

WHEEL_SUFFIX = ".whl"


def _parts(filename: str) -> list[str] | None:
    if not filename.endswith(WHEEL_SUFFIX):
        return None
    parts = filename[: -len(WHEEL_SUFFIX)].split("-")
    return parts if len(parts) >= 5 else None


def name_and_version(filename: str) -> tuple[str, str] | None:
    """The (unnormalised) name and version written in a wheel's file name; None when it
    is not a wheel or has too few or too many parts."""
    parts = _parts(filename)
    if parts is None or len(parts) > 6:
        return None
    return parts[0], parts[1]


@functools.lru_cache(maxsize=16384)
def file_tags(filename: str) -> frozenset[str]:
    """Every `python-abi-platform` tag a wheel's file name expands to (compressed tag
    sets such as `py2.py3-none-any` expand to each); empty for anything else. Once per
    process: the facts and the provenance lookup ask about the same files."""
    parts = _parts(filename)
    if parts is None:
        return frozenset()
    python, abi, platforms = parts[-3], parts[-2], parts[-1]
    return frozenset(
        f"{p}-{a}-{pl}"
        for p in python.split(".")
        for a in abi.split(".")
        for pl in platforms.split(".")
    )


def matches_tags(filename: str, tags: Iterable[str]) -> bool:
    """The wheel is one of those an installation with `tags` (from its WHEEL file) has.
    No tags (a declared requirement, not an installation) match nothing."""
    return bool(tags) and not file_tags(filename).isdisjoint(tags)
