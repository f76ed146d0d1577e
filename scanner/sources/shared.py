"""Answers shared by the scans of one command. A gate or a diff scans two sides that have
most (name, version) pairs in common; without this, the second side reads, decodes and
converts every one of its cache entries again (about a third of a warm gate's time).

An answer is kept only when it was fresh: fetched from the index, or read from a cache
entry within its time-to-live. A stale or failed answer is asked for again by the next
scan, which then says so in its own notes, as it would have alone. Kept values are
immutable (frozen records, tuples); the holder lives as long as the command and is never
shared between commands.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any


class SharedAnswers:
    """Fresh answers by (kind, key): the kind names what was asked (a project's releases,
    a release's dependencies, a project record for a version), the key whom it was asked
    of (the URL as the cache keys it, so that two accounts of one index never share)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, Hashable], Any] = {}

    def get(self, kind: str, key: Hashable) -> Any:
        """The kept answer, or None."""
        return self._answers.get((kind, key))

    def keep(self, kind: str, key: Hashable, answer: Any) -> None:
        self._answers[kind, key] = answer

    def __len__(self) -> int:
        return len(self._answers)
