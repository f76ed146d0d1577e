"""Name facts: whether a package's name looks like a popular project's (typosquatting),
against the usage dataset's most downloaded names."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scanner.facts.schema import POPULAR_TARGETS
from scanner.names import NameIndex
from scanner.records import TopPackages

_name_index_cache: dict[tuple[Any, ...], NameIndex] = {}


def name_index(top: TopPackages) -> NameIndex:
    """The look-alike index of the dataset's POPULAR_TARGETS most downloaded names, built
    once per dataset (snapshot) and process."""
    key = (top.snapshot_date, top.origin, top.size, next(iter(top.ranks), ""))
    index = _name_index_cache.get(key)
    if index is None:
        index = NameIndex({n: r for n, r in top.ranks.items() if r <= POPULAR_TARGETS})
        _name_index_cache.clear()
        _name_index_cache[key] = index
    return index


def prepare_name_facts(top: TopPackages, names: Iterable[str]) -> None:
    """Say which names name_facts will be asked about, so that only their part of the
    look-alike index is built (see NameIndex.prepare)."""
    name_index(top).prepare(names)


def name_facts(name: str, top: TopPackages, values: dict) -> None:
    match = name_index(top).lookalike(name)
    values["lookalike_of"] = match.target if match else ""
    values["lookalike_kind"] = match.kind if match else ""
    values["lookalike_detail"] = match.detail if match else ""
    values["lookalike_rank"] = top.ranks.get(match.target, 0) if match else 0
