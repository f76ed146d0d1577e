"""The allowlist check (scanner.policy.allowlist): pure, on ScanResults built here."""

from __future__ import annotations

from datetime import date

import networkx as nx

from scanner.model import (
    AllowedPackage,
    Allowlist,
    Approval,
    ApprovedFacts,
    Facts,
    Package,
    Resolution,
    ScanResult,
    TargetEnvironment,
    TrustedAccount,
    TrustedOrganization,
    TrustedPublisher,
)
from scanner.policy.allowlist import approval_for, check_allowlist, unused_entries

TODAY = date(2026, 12, 4)
APPROVED = Approval("reviewed", "alice", date(2026, 11, 1), where="allow.toml:9")
HASH = "sha256:" + "ab" * 32
OTHER_HASH = "sha256:" + "cd" * 32


def facts(publishers=("kjd",), organization="", provenance=None, **more) -> Facts:
    values = {
        "publishers": list(publishers),
        "organization": organization,
        "repository_slug": "github.com/kjd/idna",
        "source_repository": "https://github.com/kjd/idna",
        "file_hashes": [HASH],
        **more,
    }
    if provenance is None:
        values["has_provenance"] = False
    else:
        kind, repository, workflow = provenance.split()
        values.update(
            has_provenance=True,
            provenance_publisher=kind,
            provenance_repository=repository,
            provenance_workflow=workflow,
        )
    return Facts(values)


def result(packages: dict[str, tuple[str, Facts]]) -> ScanResult:
    resolution = Resolution(
        tuple(Package(n, v) for n, (v, _) in packages.items()), (),
        TargetEnvironment({}, "t"), "test",
    )  # fmt: skip
    return ScanResult(resolution, nx.DiGraph(), {n: f for n, (_, f) in packages.items()}, (), ())


def entry(name="idna", versions="==3.10", **kw) -> AllowedPackage:
    recorded = kw.pop("facts", ApprovedFacts(("kjd",), "", "github.com/kjd/idna", ""))
    return AllowedPackage(name, kw.pop("approval", APPROVED), versions, facts=recorded, **kw)


def test_an_entry_allows_its_version_and_nothing_else_is_allowed():
    scan = result({"idna": ("3.10", facts()), "evil": ("1.0", facts(["mallory"]))})
    verdict = check_allowlist(scan, Allowlist("a", {"idna": entry()}), TODAY)
    assert (verdict.outcome, verdict.exit_code) == ("fail", 1)
    assert verdict.allowed == {"idna": "entry ==3.10 (allow.toml:9)"}
    (item,) = verdict.failed
    assert (item.package, item.rule_id) == ("evil", "not-allowed")
    assert item.message == "not on the allowlist; publishers mallory"
    assert verdict.policy == "allowlist"


def test_an_approval_whose_publishers_changed_is_reopened_naming_the_change():
    scan = result({"idna": ("3.10", facts(["kjd", "mallory"]))})
    verdict = check_allowlist(scan, Allowlist("a", {"idna": entry()}), TODAY)
    (item,) = verdict.failed
    assert item.rule_id == "approval-changed"
    assert "publishers +mallory" in item.message and "allow.toml:9" in item.message
    # A trusted account that would allow it does not override a re-opened approval.
    accounts = {a: TrustedAccount(a, APPROVED) for a in ("kjd", "mallory")}
    trusting = Allowlist("a", {"idna": entry()}, accounts=accounts)
    assert check_allowlist(scan, trusting, TODAY).outcome == "fail"


def test_organisation_repository_and_provenance_changes_reopen_too():
    moved = facts(organization="", repository_slug="github.com/someone/idna")
    scan = result({"idna": ("3.10", moved)})
    (item,) = check_allowlist(scan, Allowlist("a", {"idna": entry()}), TODAY).failed
    assert "repository github.com/kjd/idna -> github.com/someone/idna" in item.message
    attested = result({"idna": ("3.10", facts(provenance="GitHub evil/idna release.yml"))})
    (item,) = check_allowlist(attested, Allowlist("a", {"idna": entry()}), TODAY).failed
    assert "provenance (none) -> GitHub evil/idna release.yml" in item.message


def test_version_hash_and_expiry_of_an_entry():
    bumped = result({"idna": ("3.11", facts())})
    (item,) = check_allowlist(bumped, Allowlist("a", {"idna": entry()}), TODAY).failed
    assert item.rule_id == "version-not-approved" and "3.11" in item.message
    pinned = Allowlist("a", {"idna": entry(hashes=(OTHER_HASH,))})
    (item,) = check_allowlist(result({"idna": ("3.10", facts())}), pinned, TODAY).failed
    assert item.rule_id == "file-not-approved" and HASH in item.message
    expiring = Approval("r", "a", date(2026, 1, 1), date(2026, 12, 3), "allow.toml:2")
    lapsed = Allowlist("a", {"idna": entry(approval=expiring)})
    (item,) = check_allowlist(result({"idna": ("3.10", facts())}), lapsed, TODAY).failed
    assert item.rule_id == "approval-expired" and "2026-12-03" in item.message


def test_unknown_facts_are_incomplete_never_allowed():
    unknown = Facts({"file_hashes": [HASH]}, {"publishers": "the index did not answer"})
    scan = result({"idna": ("3.10", unknown)})
    verdict = check_allowlist(scan, Allowlist("a", {"idna": entry()}), TODAY)
    assert (verdict.outcome, verdict.exit_code) == ("incomplete", 3)
    assert "approved on publishers, organization, repository, provenance, now unknown" in (
        verdict.unknown[0].message
    )
    trusted = Allowlist("a", accounts={"kjd": TrustedAccount("kjd", APPROVED)})
    verdict = check_allowlist(scan, trusted, TODAY)
    assert (
        verdict.outcome == "incomplete" and "the index did not answer" in verdict.unknown[0].message
    )
    assert check_allowlist(scan, trusted, TODAY, on_unknown="warn").outcome == "pass"


def test_a_trusted_organisation_allows_its_packages_until_its_members_change():
    certifi = TrustedOrganization("certifi", APPROVED, ("alex", "lukasa"))
    allowlist = Allowlist("a", organizations={"certifi": certifi})
    same = result({"certifi": ("2024.8.30", facts(["alex", "lukasa"], "certifi"))})
    assert check_allowlist(same, allowlist, TODAY).allowed == {"certifi": "organisation certifi"}
    gained = result({"certifi": ("2024.8.30", facts(["alex", "lukasa", "eve"], "certifi"))})
    (item,) = check_allowlist(gained, allowlist, TODAY).failed
    assert item.rule_id == "trust-changed" and "+eve" in item.message
    lost = result({"certifi": ("2024.8.30", facts(["alex"], "certifi"))})
    (item,) = check_allowlist(lost, allowlist, TODAY).failed
    assert "-lukasa" in item.message


def test_trusted_accounts_allow_only_packages_all_of_whose_publishers_they_are():
    allowlist = Allowlist("a", accounts={"kjd": TrustedAccount("kjd", APPROVED)})
    assert check_allowlist(result({"idna": ("3.10", facts())}), allowlist, TODAY).outcome == "pass"
    shared = result({"idna": ("3.10", facts(["kjd", "mallory"]))})
    (item,) = check_allowlist(shared, allowlist, TODAY).failed
    assert item.rule_id == "not-allowed" and "mallory" in item.message


def test_a_trusted_publisher_allows_by_provenance_and_reopens_when_it_stops_matching():
    publisher = TrustedPublisher("kjd/*", APPROVED, "release.yml", "GitHub", ("idna",))
    allowlist = Allowlist("a", publishers=(publisher,))
    attested = result({"idna": ("3.10", facts(provenance="GitHub kjd/idna release.yml"))})
    verdict = check_allowlist(attested, allowlist, TODAY)
    assert verdict.allowed == {"idna": "publisher GitHub kjd/* release.yml"}
    elsewhere = result({"idna": ("3.10", facts(provenance="GitHub kjd/idna hand.yml"))})
    (item,) = check_allowlist(elsewhere, allowlist, TODAY).failed
    assert item.rule_id == "trust-changed" and "GitHub kjd/idna hand.yml" in item.message


def test_an_approval_records_the_version_files_and_facts_in_use():
    scan = result({"idna": ("3.10", facts(provenance="GitHub kjd/idna release.yml"))})
    approved = approval_for(scan, "idna", APPROVED)
    assert (approved.versions, approved.hashes) == ("==3.10", (HASH,))
    assert approved.facts == ApprovedFacts(
        ("kjd",), "", "github.com/kjd/idna", "GitHub kjd/idna release.yml"
    )
    assert approval_for(scan, "idna", APPROVED, ">=3").hashes == ()  # a range: any file
    assert check_allowlist(scan, Allowlist("a", {"idna": approved}), TODAY).outcome == "pass"


def test_prune_finds_what_nothing_uses_and_what_expired():
    expired = Approval("r", "a", date(2026, 1, 1), date(2026, 6, 1))
    allowlist = Allowlist(
        "a",
        {"idna": entry(), "gone": entry("gone"), "old": entry("old", approval=expired)},
        {"nobody": TrustedOrganization("nobody", APPROVED, ())},
        {"kjd": TrustedAccount("kjd", APPROVED), "ghost": TrustedAccount("ghost", APPROVED)},
    )
    scan = result({"idna": ("3.10", facts()), "old": ("1.0", facts())})
    assert unused_entries(allowlist, scan, TODAY) == [
        ("packages", "gone", "not in the closure any more"),
        ("packages", "old", "expired on 2026-06-01"),
        ("organizations", "nobody", "owns no package of the closure"),
        ("accounts", "ghost", "publishes no package of the closure"),
    ]


def test_allowed_entries_worth_a_look_are_listed_apart():
    soon = Approval("r", "a", date(2026, 11, 1), date(2026, 12, 20), "allow.toml:3")
    allowlist = Allowlist(
        "a",
        {
            "idna": entry(baseline=True),
            "six": entry("six", "", approval=soon),
            "rich": entry("rich", ""),
        },
    )
    scan = result({n: ("1.0" if n != "idna" else "3.10", facts()) for n in ("idna", "six", "rich")})
    verdict = check_allowlist(scan, allowlist, TODAY)
    assert verdict.outcome == "pass"
    assert [(i.package, i.rule_id) for i in verdict.existing] == [
        ("idna", "baseline-approval"),
        ("six", "approval-expiring"),
    ]
    assert verdict.existing[1].message == "approval expires on 2026-12-20"


def test_a_trusted_source_allows_what_an_entry_does_not_but_never_a_reopened_one():
    accounts = {"kjd": TrustedAccount("kjd", APPROVED)}
    bumped = result({"idna": ("3.11", facts())})
    allowlist = Allowlist("a", {"idna": entry()}, accounts=accounts)
    assert check_allowlist(bumped, allowlist, TODAY).allowed == {"idna": "accounts kjd"}
    without = Allowlist("a", {"idna": entry()})
    (item,) = check_allowlist(bumped, without, TODAY).failed
    assert item.rule_id == "version-not-approved"
