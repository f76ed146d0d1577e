"""A ScanResult reduced to what the gate and `diff` compare (model.Snapshot), and the
comparison of two snapshots: packages added, removed and changed, who can now publish into
the closure, findings added and resolved, ownership changes. Pure: no files, no network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scanner.model import Publishers, ScanResult, Snapshot


def snapshot_of(result: ScanResult) -> Snapshot:
    publishers: dict[str, Publishers] = {}
    for name, facts in result.facts.items():
        accounts = facts.values.get("publishers")
        if isinstance(accounts, list | tuple):
            organization = facts.values.get("organization")
            publishers[name] = Publishers(
                frozenset(str(a) for a in accounts),
                organization if isinstance(organization, str) else "",
            )
    return Snapshot(
        source=result.resolution.source,
        packages={p.name: p.version for p in result.resolution.packages},
        findings=frozenset((f.package, f.rule_id) for f in result.findings),
        undetermined=frozenset((u.package, u.rule_id) for u in result.undetermined),
        publishers=publishers,
        titles={(f.package, f.rule_id): f.title for f in result.findings},
        severities={(f.package, f.rule_id): f.severity for f in result.findings},
    )


@dataclass(frozen=True)
class OwnershipChange:
    package: str
    before: Publishers
    after: Publishers


@dataclass(frozen=True)
class Diff:
    """What changed from `old` to `new`. `new_publishers`: accounts and organisations
    ("org:NAME") that can publish some package of the new closure and could publish none
    of the old one, with the packages they can now publish; `gone_publishers` the other
    way round."""

    old: str
    new: str
    added: Mapping[str, str]  # name -> version
    removed: Mapping[str, str]
    changed: Mapping[str, tuple[str, str]]  # name -> (old version, new version)
    new_publishers: Mapping[str, tuple[str, ...]]
    gone_publishers: Mapping[str, tuple[str, ...]]
    findings_added: tuple[tuple[str, str], ...]  # (package, rule id)
    findings_resolved: tuple[tuple[str, str], ...]
    ownership_changes: tuple[OwnershipChange, ...]
    publishers_unknown: tuple[str, ...]  # packages of the new closure whose publishers are unknown
    titles: Mapping[tuple[str, str], str]
    severities: Mapping[tuple[str, str], str]

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.new_publishers
            or self.gone_publishers
            or self.findings_added
            or self.findings_resolved
            or self.ownership_changes
        )


def _who(snapshot: Snapshot) -> dict[str, set[str]]:
    """Every account and organisation ("org:NAME") -> the packages it can publish."""
    who: dict[str, set[str]] = {}
    for name, publishers in snapshot.publishers.items():
        if name not in snapshot.packages:
            continue
        for account in publishers.accounts:
            who.setdefault(account, set()).add(name)
        if publishers.organization:
            who.setdefault(f"org:{publishers.organization}", set()).add(name)
    return who


def compare(old: Snapshot, new: Snapshot) -> Diff:
    added = {n: v for n, v in sorted(new.packages.items()) if n not in old.packages}
    removed = {n: v for n, v in sorted(old.packages.items()) if n not in new.packages}
    changed = {
        n: (old.packages[n], v)
        for n, v in sorted(new.packages.items())
        if n in old.packages and old.packages[n] != v
    }
    before, after = _who(old), _who(new)
    new_publishers = {a: tuple(sorted(after[a])) for a in sorted(set(after) - set(before))}
    gone_publishers = {a: tuple(sorted(before[a])) for a in sorted(set(before) - set(after))}
    ownership = tuple(
        OwnershipChange(n, old.publishers[n], new.publishers[n])
        for n in sorted(set(old.publishers) & set(new.publishers))
        if n in new.packages and n in old.packages and old.publishers[n] != new.publishers[n]
    )
    return Diff(
        old=old.source,
        new=new.source,
        added=added,
        removed=removed,
        changed=changed,
        new_publishers=new_publishers,
        gone_publishers=gone_publishers,
        findings_added=tuple(sorted(new.findings - old.findings)),
        findings_resolved=tuple(sorted(old.findings - new.findings)),
        ownership_changes=ownership,
        publishers_unknown=tuple(sorted(n for n in new.packages if n not in new.publishers)),
        titles={**old.titles, **new.titles},
        severities={**old.severities, **new.severities},
    )
