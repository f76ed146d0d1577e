"""Usage facts: a package's place in the top-PyPI-packages dataset (rank, downloads),
and when its absence from the dataset says nothing (projects newer than the dataset)."""

from __future__ import annotations

from datetime import UTC, datetime

from scanner.records import TopPackages

USAGE_FACTS = ("in_top_packages", "download_rank", "downloads_30d")
# A project needs a full 30-day window before the dataset's date to be ranked in it.
USAGE_WINDOW_DAYS = 30


def usage_facts(name: str, top: TopPackages, values: dict, unknown: dict) -> None:
    rank = top.ranks.get(name)
    values["in_top_packages"] = rank is not None
    values["download_rank"] = rank or 0
    values["top_packages_size"] = top.size
    if rank is not None:
        values["downloads_30d"] = top.counts[name]
    else:
        unknown["downloads_30d"] = f"not among the {top.size} projects of the top-packages dataset"


def not_pypi_usage(index: str, values: dict, unknown: dict) -> None:
    """PyPI's download counts are of PyPI's project of this name, not of this one."""
    for name in USAGE_FACTS:
        values.pop(name, None)
        unknown[name] = (
            f"locked from {index}: the download counts are PyPI's, of "
            "PyPI's project of this name, not of this one"
        )


def usage_recency(top: TopPackages, values: dict, unknown: dict) -> None:
    """Absence from the top-packages dataset says "little used" only of projects that
    existed, a whole window long, before the dataset was compiled. For newer ones the
    rank is unknown, not zero."""
    first = values.get("first_release")
    if values.get("in_top_packages") or not first or not top.snapshot_date:
        return
    # An unknown absence is unknown for every fact that reads it: a negated condition
    # (`!facts.in_top_packages`) must not see a known false.
    try:
        compiled = datetime.fromisoformat(top.snapshot_date).replace(tzinfo=UTC)
        released = datetime.fromisoformat(first.replace("Z", "+00:00"))
    except ValueError:
        return
    if released.tzinfo is None:
        released = released.replace(tzinfo=UTC)
    if (compiled - released).days < USAGE_WINDOW_DAYS:
        reason = (
            f"first released {first[:10]}, too late to be ranked in the top-packages dataset "
            f"of {top.snapshot_date}: its absence there says nothing"
        )
        for fact in ("download_rank", "in_top_packages"):
            values.pop(fact, None)
            unknown[fact] = reason
