"""`trustmap diff`'s comparison and the snapshot it compares: what a scan is reduced to
(scanner.policy.snapshot_of) and what changed between two (compare), every field whole."""

from __future__ import annotations

import networkx as nx

from scanner.model import (
    Facts,
    Finding,
    Package,
    Publishers,
    Resolution,
    ScanResult,
    Snapshot,
    TargetEnvironment,
    Undetermined,
)
from scanner.policy import snapshot_of
from scanner.policy.snapshot import Diff, OwnershipChange, compare


def people(*accounts: str, organization: str = "") -> Publishers:
    return Publishers(frozenset(accounts), organization)


def test_a_snapshot_keeps_versions_checks_and_who_can_publish():
    resolution = Resolution(
        (Package("idna", "3.10"), Package("six", "1.16.0"), Package("tiny", "")),
        (),
        TargetEnvironment({}, "t"),
        "requirements.txt",
    )
    facts = {
        "idna": Facts({"publishers": ["kjd"], "organization": "acme"}),
        "six": Facts({"publishers": ("gutworth",), "organization": None}),
        "tiny": Facts({"publishers": None}, {"publishers": "HTTP 503"}),  # unknown: left out
    }
    findings = (Finding("solo-maintainer", "six", "low", "one account", {}),)
    checks = (Undetermined("low-usage", "tiny", "low", ("download_rank",), ("x",)),)
    result = ScanResult(resolution, nx.DiGraph(), facts, findings, checks)

    assert snapshot_of(result) == Snapshot(
        source="requirements.txt",
        packages={"idna": "3.10", "six": "1.16.0", "tiny": ""},
        findings=frozenset({("six", "solo-maintainer")}),
        undetermined=frozenset({("tiny", "low-usage")}),
        publishers={"idna": people("kjd", organization="acme"), "six": people("gutworth")},
        titles={("six", "solo-maintainer"): "one account"},
        severities={("six", "solo-maintainer"): "low"},
    )


OLD = Snapshot(
    source="main.json",
    packages={"gone": "1.0", "idna": "3.9", "moved": "1.0", "same": "1.0", "six": "1.16.0",
              "found": "1.0"},
    findings=frozenset({("gone", "low-usage"), ("six", "solo-maintainer")}),
    publishers={
        "gone": people("olduser", organization="oldorg"),
        "idna": people("kjd"),
        "moved": people("alice", organization="acme"),
        "same": people("sam"),
        "six": people("gutworth"),
        # "found": its publishers were unknown in the old scan
    },
    titles={("gone", "low-usage"): "rarely used", ("six", "solo-maintainer"): "one account"},
    severities={("gone", "low-usage"): "low", ("six", "solo-maintainer"): "low"},
)  # fmt: skip
NEW = Snapshot(
    source="branch.json",
    packages={"found": "1.0", "idna": "3.10", "moved": "1.0", "new": "0.1", "same": "1.0",
              "six": "1.16.0", "unknown": "2.0"},
    findings=frozenset({("new", "typosquat"), ("six", "solo-maintainer")}),
    publishers={
        "found": people("finder"),
        "idna": people("kjd"),
        "moved": people("alice", "mallory", organization="evil"),
        "new": people("mallory", organization="evil"),
        "same": people("sam"),
        "six": people("gutworth"),
    },
    titles={("new", "typosquat"): "looks like news", ("six", "solo-maintainer"): "one account"},
    severities={("new", "typosquat"): "high", ("six", "solo-maintainer"): "medium"},
)  # fmt: skip


def test_the_whole_diff_of_two_snapshots():
    assert compare(OLD, NEW) == Diff(
        old="main.json",
        new="branch.json",
        added={"new": "0.1", "unknown": "2.0"},
        removed={"gone": "1.0"},
        changed={"idna": ("3.9", "3.10")},
        new_publishers={
            "finder": ("found",),
            "mallory": ("moved", "new"),
            "org:evil": ("moved", "new"),
        },
        gone_publishers={"olduser": ("gone",), "org:acme": ("moved",), "org:oldorg": ("gone",)},
        findings_added=(("new", "typosquat"),),
        findings_resolved=(("gone", "low-usage"),),
        # Only a package in both closures whose publishers were known both times.
        ownership_changes=(
            OwnershipChange("moved", people("alice", organization="acme"), NEW.publishers["moved"]),
        ),
        publishers_unknown=("unknown",),
        # The newer title and severity win where both have one.
        titles={
            ("gone", "low-usage"): "rarely used",
            ("new", "typosquat"): "looks like news",
            ("six", "solo-maintainer"): "one account",
        },
        severities={
            ("gone", "low-usage"): "low",
            ("new", "typosquat"): "high",
            ("six", "solo-maintainer"): "medium",
        },
    )


def test_nothing_changed_is_an_empty_diff_and_each_change_is_not():
    assert compare(NEW, NEW).empty
    for field in ("added", "removed", "changed", "new_publishers", "gone_publishers",
                  "findings_added", "findings_resolved", "ownership_changes"):  # fmt: skip
        assert not getattr(compare(NEW, NEW), field)
    assert not compare(OLD, NEW).empty
    assert not compare(NEW, OLD).empty


def test_publishers_recorded_for_a_package_outside_the_closure_are_not_counted():
    """A snapshot's publishers are read for its packages; an entry for another package
    (a hand-edited or partly read baseline) publishes nothing into the closure."""
    old = Snapshot("a", {"six": "1.16.0"}, publishers={"aaa": people("x"), "six": people("g")})
    new = Snapshot("b", {"six": "1.16.0"}, publishers={"aaa": people("y"), "six": people("h")})
    diff = compare(old, new)
    assert (diff.new_publishers, diff.gone_publishers) == ({"h": ("six",)}, {"g": ("six",)})
    assert diff.ownership_changes == (OwnershipChange("six", people("g"), people("h")),)
    # A package left out of the new closure is removed, not an ownership change.
    gone = Snapshot("c", {}, publishers={"six": people("mallory")})
    assert compare(old, gone).ownership_changes == ()
