"""Licences named by trove classifiers (`License :: OSI Approved :: MIT License`): read
the same way from an installed distribution's METADATA (inputs) and from the index's
project document (facts).
"""

from __future__ import annotations

from collections.abc import Iterable

_PREFIX = "License ::"
# A category, not a licence: `License :: OSI Approved` alone names none.
_NOT_A_LICENCE = frozenset({"OSI Approved"})


def classifier_licence(classifiers: Iterable[str]) -> str:
    """The licences the classifiers name, joined with " OR "; "" when none does."""
    names = [c.split(" :: ")[-1] for c in classifiers if c.startswith(_PREFIX)]
    return " OR ".join(n for n in names if n not in _NOT_A_LICENCE)
