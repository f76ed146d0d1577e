"""History facts: how a package's ownership differs from the last scan's (the scan
history kept in the store)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from scanner.records import HISTORY_FACTS, OwnershipRecord


def history_facts(
    name: str,
    history: Mapping[str, OwnershipRecord] | None,
    values: dict,
    unknown: dict,
) -> None:
    if "publishers" not in values:
        for fact in HISTORY_FACTS:
            unknown[fact] = unknown.get("publishers", "ownership unknown")
        return
    if history is None:
        for fact in HISTORY_FACTS:
            unknown[fact] = "no scan history was given"
        return
    previous = history.get(name)
    if previous is None:  # the first sighting is not a change
        values.update(
            previous_publishers=[],
            previous_organization="",
            publishers_added=[],
            publishers_removed=[],
            organization_changed=False,
            ownership_changed=False,
            ownership_last_seen="",
        )
        return
    now_set, before = set(values["publishers"]), set(previous.publishers)
    organization_changed = previous.organization != values["organization"]
    values.update(
        previous_publishers=list(previous.publishers),
        previous_organization=previous.organization,
        publishers_added=sorted(now_set - before),
        publishers_removed=sorted(before - now_set),
        organization_changed=organization_changed,
        ownership_changed=organization_changed or now_set != before,
        ownership_last_seen=datetime.fromtimestamp(previous.last_seen, UTC).isoformat(
            timespec="seconds"
        ),
    )
