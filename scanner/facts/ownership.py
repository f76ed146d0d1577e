"""Ownership facts: who can publish a package (the index's `ownership`), and account
concentration over the closure: the packages each account can publish, worked out once
per scan (`account_index`), and per package its busiest account."""

from __future__ import annotations

from collections.abc import Mapping

from scanner.records import IndexRecord, Ownership

OWNERSHIP_FACTS = ("publishers", "publisher_roles", "publisher_count", "organization")
ACCOUNT_FACTS = ("busiest_account", "busiest_account_package_count", "busiest_account_packages")
NO_ACCOUNTS = "the closure's accounts were not given"


def account_index(records: Mapping[str, IndexRecord]) -> dict[str, list[str]]:
    """Which packages of the closure each account can publish (from index ownership)."""
    accounts: dict[str, list[str]] = {}
    for name in sorted(records):
        ownership = records[name].ownership
        if ownership is None:
            continue
        for user in ownership.publishers:
            accounts.setdefault(user, []).append(name)
    return accounts


def not_pypi_ownership(index: str, unknown: dict) -> None:
    # Set before the derivations that read ownership, so they give this reason too.
    for fact in OWNERSHIP_FACTS:
        unknown[fact] = f"{index} is not PyPI: it does not say who can publish"


def ownership_facts(ownership: Ownership | None, values: dict, unknown: dict) -> None:
    if ownership is None:
        reason = "the index does not publish ownership (not PyPI's JSON API, or a mirror)"
        for name in OWNERSHIP_FACTS:
            unknown[name] = reason
        return
    publishers = list(ownership.publishers)
    values["publishers"] = publishers
    values["publisher_roles"] = [r.to_dict() for r in ownership.roles]
    values["publisher_count"] = len(publishers)
    values["organization"] = ownership.organization


def account_facts(accounts: Mapping[str, list[str]] | None, values: dict, unknown: dict) -> None:
    if "publishers" not in values:
        for fact in ACCOUNT_FACTS:
            unknown[fact] = unknown.get("publishers", "ownership unknown")
        return
    if accounts is None:
        for fact in ACCOUNT_FACTS:
            unknown[fact] = NO_ACCOUNTS
        return
    best, packages = "", []
    for user in values["publishers"]:
        mine = accounts.get(user, [])
        if len(mine) > len(packages):
            best, packages = user, mine  # shared with the other packages: not changed
    values["busiest_account"] = best
    values["busiest_account_package_count"] = len(packages)
    values["busiest_account_packages"] = packages


def lookalike_publisher_facts(
    accounts: Mapping[str, list[str]] | None, values: dict, unknown: dict
) -> None:
    """Whether an account publishes both this package and the popular one it looks like
    (a maintainer's own fork or successor)."""
    target = values.get("lookalike_of")
    if not target:
        values["lookalike_target_same_publisher"] = False
    elif "publishers" not in values:
        unknown["lookalike_target_same_publisher"] = unknown.get("publishers", "ownership unknown")
    elif accounts is None:
        unknown["lookalike_target_same_publisher"] = NO_ACCOUNTS
    else:
        values["lookalike_target_same_publisher"] = any(
            target in accounts.get(user, ()) for user in values["publishers"]
        )
