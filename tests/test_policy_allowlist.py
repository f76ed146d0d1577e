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
    GateItem,
    IndexFile,
    Package,
    Resolution,
    ScanResult,
    TargetEnvironment,
    TrustedAccount,
    TrustedOrganization,
    TrustedPublisher,
)
from scanner.policy.allowlist import (
    approval_for,
    approved_files,
    check_allowlist,
    exact_version,
    unused_entries,
)

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


EXPIRED = Approval("old", "bob", date(2025, 1, 1), date(2026, 6, 30), "allow.toml:40")


def test_every_trusted_source_at_once_each_item_whole():
    """Organisations, accounts and publishers in one allowlist, expired ones among them,
    judged package by package: what allows each, what fails and what is unknown, said
    exactly. Unknown is never allowed."""
    offline = {"publishers": "offline", "organization": "offline", "has_provenance": "offline"}
    scan = result(
        {
            "acme-lib": ("1.0", facts(["alice", "bob"], "acme")),
            "acme-new": ("1.0", facts(["alice", "bob", "eve"], "acme")),
            "acme-unknown": ("1.0", Facts({"organization": "acme", "has_provenance": False},
                                          {"publishers": "HTTP 503"})),
            "black": ("24.1", facts(["ambv"], provenance="GitLab psf/black ci.yml")),
            "idna": ("3.10", facts(provenance="GitHub kjd/idna release.yml")),
            "kjd-tool": ("1.0", facts(["kjd"])),
            "mystery": ("1.0", Facts({}, offline)),
            "ours": ("0.1", Facts({"first_party": True})),
            "stale-org": ("1.0", facts(["zed"], "gone")),
            "usedtobe": ("1.0", facts(["old"])),
        }
    )  # fmt: skip
    allowlist = Allowlist(
        "allow.toml",
        organizations={
            "acme": TrustedOrganization("acme", APPROVED, ("alice", "bob")),
            "gone": TrustedOrganization("gone", EXPIRED, ("zed",)),
        },
        accounts={"kjd": TrustedAccount("kjd", APPROVED), "old": TrustedAccount("old", EXPIRED)},
        publishers=(
            TrustedPublisher("psf/*", APPROVED),  # any kind, any workflow
            TrustedPublisher("kjd/*", APPROVED, "release.yml", "GitHub", ("idna",)),
            TrustedPublisher("old/*", EXPIRED, "*", "GitHub"),
        ),
    )

    verdict = check_allowlist(scan, allowlist, TODAY)

    assert (verdict.outcome, verdict.exit_code) == ("fail", 1)
    assert verdict.allowed == {
        "acme-lib": "organisation acme",
        "black": "publisher psf/* *",
        "idna": "publisher GitHub kjd/* release.yml",
        "kjd-tool": "accounts kjd",
    }
    assert verdict.failed == (
        GateItem("allowlist", "acme-new", "trust-changed", "high",
                 "organisation acme members changed since approval: +eve (allow.toml:9)"),
        GateItem("allowlist", "stale-org", "not-allowed", "high",
                 "not on the allowlist; publishers zed; organisation gone"),
        GateItem("allowlist", "usedtobe", "not-allowed", "high",
                 "not on the allowlist; publishers old"),
    )  # fmt: skip
    assert verdict.unknown == (
        GateItem("allowlist", "acme-unknown", "allowlist-undetermined", "high",
                 "undetermined: no entry allows it, and publishers unknown (HTTP 503)"),
        GateItem("allowlist", "mystery", "allowlist-undetermined", "high",
                 "undetermined: no entry allows it, and provenance unknown (offline); "
                 "publishers unknown (offline); organisation unknown (offline)"),
    )  # fmt: skip
    assert verdict.notes == (
        "the project's own code is not judged: ours",
        "trusted organisation gone expired on 2026-06-30: it allows nothing",
        "trusted account old expired on 2026-06-30: it allows nothing",
        "trusted publisher GitHub old/* * expired on 2026-06-30: it allows nothing",
    )
    assert verdict.reasons == tuple(
        f"{i.package}: {i.rule_id}: {i.message}" for i in verdict.failed + verdict.unknown
    )


def test_a_trusted_publisher_matches_kind_repository_and_workflow_and_nothing_unattested():
    any_kind = Allowlist("a", publishers=(TrustedPublisher("PSF/*", APPROVED, "ci-*.yml"),))
    github = Allowlist("a", publishers=(TrustedPublisher("psf/*", APPROVED, "*", "github"),))

    def allowed(allowlist, provenance=None, **more):
        scan = result({"black": ("24.1", facts(["ambv"], provenance=provenance, **more))})
        return check_allowlist(scan, allowlist, TODAY).allowed

    # The repository is matched without case, the workflow with it.
    assert allowed(any_kind, "GitLab psf/black ci-release.yml") == {
        "black": "publisher PSF/* ci-*.yml"
    }
    assert allowed(any_kind, "GitLab psf/black CI-release.yml") == {}
    assert allowed(any_kind, "GitLab evil/black ci-release.yml") == {}
    assert allowed(github, "GitHub psf/black ci.yml") == {"black": "publisher github psf/* *"}
    assert allowed(github, "GitLab psf/black ci.yml") == {}
    # No attestation: nothing to match, whatever the other facts say.
    wildcard = Allowlist("a", publishers=(TrustedPublisher("*", APPROVED),))
    assert allowed(wildcard) == {}
    assert allowed(wildcard, provenance_repository="psf/black", provenance_workflow="x") == {}


def test_an_entry_that_cannot_be_confirmed_is_unknown_never_allowed():
    """An unpinned version against a pinned entry, files unknown where the entry lists
    hashes: incomplete, with the reason; never allowed."""
    unpinned = result({"idna": ("", facts())})
    verdict = check_allowlist(unpinned, Allowlist("a", {"idna": entry()}), TODAY)
    assert verdict.allowed == {}
    assert [i.message for i in verdict.unknown] == [
        "undetermined: version (unpinned) cannot be held to ==3.10"
    ]
    no_files = result({"idna": ("3.10", facts(file_hashes=None))})
    pinned = Allowlist("a", {"idna": entry(hashes=(HASH,))})
    verdict = check_allowlist(no_files, pinned, TODAY)
    assert verdict.allowed == {}
    assert [i.message for i in verdict.unknown] == [
        "undetermined: the files in use are unknown, and the entry lists hashes"
    ]


def test_the_files_in_use_are_the_package_s_own_before_the_index_s():
    """An installed wheel's or a lockfile's hashes are what is in use; the index's files
    of the version only stand in when the package has none."""
    own = ScanResult(
        Resolution((Package("idna", "3.10", hashes=(OTHER_HASH,)),), (),
                   TargetEnvironment({}, "t"), "test"),
        nx.DiGraph(), {"idna": facts()}, (), (),
    )  # fmt: skip
    (item,) = check_allowlist(own, Allowlist("a", {"idna": entry(hashes=(HASH,))}), TODAY).failed
    assert item.message == f"1 file(s) in use not approved: {OTHER_HASH} (at allow.toml:9)"
    many = [f"sha256:{n:064x}" for n in range(5)]
    scan = result({"idna": ("3.10", facts(file_hashes=many))})
    (item,) = check_allowlist(scan, Allowlist("a", {"idna": entry(hashes=(HASH,))}), TODAY).failed
    assert item.message == (
        f"5 file(s) in use not approved: {', '.join(many[:3])} … (at allow.toml:9)"
    )
    three = result({"idna": ("3.10", facts(file_hashes=many[:3]))})
    (item,) = check_allowlist(three, Allowlist("a", {"idna": entry(hashes=(HASH,))}), TODAY).failed
    assert item.message.endswith(f"{', '.join(many[:3])} (at allow.toml:9)")


def test_a_recorded_fact_reopens_an_approval_even_after_one_not_recorded():
    """A fact unknown at approval holds nothing; the ones after it still do."""
    recorded = ApprovedFacts(None, None, "github.com/kjd/idna", None)
    elsewhere = facts(repository_slug=None, source_repository="https://example.org/idna")
    moved = result({"idna": ("3.10", elsewhere)})
    (item,) = check_allowlist(moved, Allowlist("a", {"idna": entry(facts=recorded)}), TODAY).failed
    assert item.message == (
        "changed since approval on 2026-11-01: repository github.com/kjd/idna -> "
        "https://example.org/idna (approved at allow.toml:9)"
    )
    two = ApprovedFacts(("kjd",), "", "github.com/kjd/idna", "")
    both = result({"idna": ("3.10", facts(["kjd", "eve"], "kjd-org"))})
    (item,) = check_allowlist(both, Allowlist("a", {"idna": entry(facts=two)}), TODAY).failed
    assert item.message == (
        "changed since approval on 2026-11-01: publishers +eve; organization (none) -> "
        "kjd-org (approved at allow.toml:9)"
    )


def test_what_an_allowed_entry_still_asks_is_listed_whole_up_to_thirty_days_ahead():
    later = date(2027, 3, 1)  # not the real today: the check must use the day it is given
    due = Approval("r", "a", date(2026, 11, 1), date(2027, 3, 31), "allow.toml:3")
    not_yet = Approval("r", "a", date(2026, 11, 1), date(2027, 4, 1), "allow.toml:5")
    allowlist = Allowlist(
        "a",
        {
            "idna": entry(baseline=True, facts=ApprovedFacts()),
            "six": entry("six", "", approval=due),
            "rich": entry("rich", "", approval=not_yet),
        },
    )
    scan = result({n: ("1.0" if n != "idna" else "3.10", facts()) for n in ("idna", "six", "rich")})
    verdict = check_allowlist(scan, allowlist, later)
    assert verdict.outcome == "pass"
    assert verdict.existing == (
        GateItem("allowlist", "idna", "baseline-approval", "info",
                 "allowed since `allowlist init` (2026-11-01), not reviewed since"),
        GateItem("allowlist", "six", "approval-expiring", "info", "approval expires on 2027-03-31"),
    )  # fmt: skip
    assert verdict.allowed["rich"] == "entry (any version) (allow.toml:5)"
    assert verdict.notes == (
        "approved without knowing who could publish them (nothing to re-open them on): idna",
    )
    # Only entries of packages in the closure are worth that note.
    gone = Allowlist("a", {"idna": entry(facts=ApprovedFacts())})
    assert check_allowlist(result({}), gone, later).notes == ()


def test_a_package_that_fails_is_not_also_undetermined():
    """An entry that fails (another version) beside a trusted account that cannot tell
    (publishers unknown): one failed item, no undetermined one."""
    unknown = Facts({"file_hashes": [HASH], "has_provenance": False}, {"publishers": "offline"})
    allowlist = Allowlist("a", {"idna": entry()}, accounts={"kjd": TrustedAccount("kjd", APPROVED)})
    verdict = check_allowlist(result({"idna": ("3.11", unknown)}), allowlist, TODAY)
    assert [i.rule_id for i in verdict.failed] == ["version-not-approved"]
    assert verdict.unknown == ()


def test_prune_finds_expired_trusted_sources_and_publishers_that_attest_nothing():
    later = date(2027, 1, 1)
    lapsed = Approval("r", "a", date(2026, 1, 1), date(2026, 12, 31))
    scan = result(
        {
            "idna": ("3.10", facts(["kjd"], "kjd-org", provenance="GitHub kjd/idna release.yml")),
            "six": ("1.16.0", facts(["gutworth"])),
        }
    )
    allowlist = Allowlist(
        "a",
        organizations={
            "kjd-org": TrustedOrganization("kjd-org", APPROVED),
            "old-org": TrustedOrganization("old-org", lapsed),
        },
        accounts={"gutworth": TrustedAccount("gutworth", APPROVED),
                  "lapsed": TrustedAccount("lapsed", lapsed)},
        publishers=(
            TrustedPublisher("kjd/*", APPROVED),  # attests idna
            TrustedPublisher("gone/*", lapsed),
            TrustedPublisher("nobody/*", APPROVED),
            TrustedPublisher("six/*", APPROVED, packages=("six",)),  # covered six at approval
        ),
    )  # fmt: skip
    assert unused_entries(allowlist, scan, later) == [
        ("organizations", "old-org", "expired on 2026-12-31"),
        ("accounts", "lapsed", "expired on 2026-12-31"),
        ("publishers", 1, "expired on 2026-12-31"),
        ("publishers", 2, "attests no package of the closure"),
    ]


def test_a_package_without_facts_or_with_empty_ones_is_never_allowed():
    """No facts at all (the facts stage gave none), an empty list of files, an empty
    repository slug: each is what it is, never taken as a match."""
    bare = ScanResult(
        Resolution((Package("idna", "3.10"),), (), TargetEnvironment({}, "t"), "test"),
        nx.DiGraph(), {}, (), (),
    )  # fmt: skip
    trusting = Allowlist(
        "a",
        organizations={"kjd-org": TrustedOrganization("kjd-org", APPROVED)},
        accounts={"kjd": TrustedAccount("kjd", APPROVED)},
        publishers=(TrustedPublisher("*", APPROVED),),
    )
    verdict = check_allowlist(bare, trusting, TODAY)
    assert (verdict.outcome, verdict.allowed, verdict.failed) == ("incomplete", {}, ())
    assert verdict.unknown[0].message == (
        "undetermined: no entry allows it, and provenance unknown (not looked up); "
        "publishers unknown (not looked up); organisation unknown (not looked up)"
    )
    pinned = Allowlist("a", {"idna": entry(hashes=(HASH,), facts=ApprovedFacts())})
    assert check_allowlist(bare, pinned, TODAY).unknown[0].message == (
        "undetermined: the files in use are unknown, and the entry lists hashes"
    )
    assert check_allowlist(bare, Allowlist("a"), TODAY).failed[0].message == (
        "not on the allowlist; publishers unknown"
    )
    no_files = result({"idna": ("3.10", facts(file_hashes=[]))})
    verdict = check_allowlist(no_files, Allowlist("a", {"idna": entry(hashes=(HASH,))}), TODAY)
    assert (verdict.outcome, verdict.allowed) == ("incomplete", {})
    linked = facts(repository_slug="", source_repository="https://example.org/idna")
    assert approval_for(result({"idna": ("3.10", linked)}), "idna", APPROVED).facts.repository == (
        "https://example.org/idna"
    )


def test_messages_list_every_name_they_name():
    nobody = result({"idna": ("3.10", facts([]))})
    assert check_allowlist(nobody, Allowlist("a"), TODAY).failed[0].message == (
        "not on the allowlist; publishers (none)"
    )
    pair = result({"idna": ("3.10", facts(["kjd", "tiran"]))})
    assert check_allowlist(pair, Allowlist("a"), TODAY).failed[0].message == (
        "not on the allowlist; publishers kjd, tiran"
    )
    two = result({"idna": ("3.10", facts(["kjd", "tiran"]))})
    accounts = {a: TrustedAccount(a, APPROVED) for a in ("kjd", "tiran")}
    assert check_allowlist(two, Allowlist("a", accounts=accounts), TODAY).allowed == {
        "idna": "accounts kjd, tiran"
    }
    swapped = result({"idna": ("3.10", facts(["eve"]))})
    (item,) = check_allowlist(swapped, Allowlist("a", {"idna": entry()}), TODAY).failed
    assert item.message.startswith("changed since approval on 2026-11-01: publishers +eve -kjd (")
    org = Allowlist("a", organizations={"o": TrustedOrganization("o", APPROVED, ("kjd", "bob"))})
    (item,) = check_allowlist(result({"idna": ("3.10", facts(["kjd", "eve"], "o"))}), org,
                              TODAY).failed  # fmt: skip
    assert "members changed since approval: +eve -bob (allow.toml:9)" in item.message
    mine = result({n: ("0.1", Facts({"first_party": True})) for n in ("app", "lib")})
    assert check_allowlist(mine, Allowlist("a"), TODAY).notes == (
        "the project's own code is not judged: app, lib",
    )
    weak = Allowlist("a", {n: entry(n, "", facts=ApprovedFacts()) for n in ("a-lib", "b-lib")})
    scan = result({"a-lib": ("1", facts()), "b-lib": ("1", facts())})
    assert check_allowlist(scan, weak, TODAY).notes[-1].endswith(": a-lib, b-lib")
    four = [f"sha256:{n:064x}" for n in range(4)]
    scan = result({"idna": ("3.10", facts(file_hashes=four))})
    (item,) = check_allowlist(scan, Allowlist("a", {"idna": entry(hashes=(HASH,))}), TODAY).failed
    assert "…" in item.message


def test_organisation_members_are_counted_over_that_organisation_s_packages_only():
    """bob publishes only another organisation's package now: kjd-org lost him."""
    org = TrustedOrganization("kjd-org", APPROVED, ("bob", "kjd"))
    scan = result(
        {
            "aaa": ("1.0", facts(["bob"], "other-org")),  # read first, another organisation
            "idna": ("3.10", facts(["kjd"], "kjd-org")),
        }
    )
    verdict = check_allowlist(scan, Allowlist("a", organizations={"kjd-org": org}), TODAY)
    (item,) = [i for i in verdict.failed if i.package == "idna"]
    assert item.message == (
        "organisation kjd-org members changed since approval: -bob (allow.toml:9)"
    )


def test_a_covered_package_is_reopened_by_the_publisher_that_covered_it_not_by_the_first():
    first = TrustedPublisher("psf/*", APPROVED, kind="GitHub")
    covering = TrustedPublisher("kjd/*", APPROVED, "release.yml", "GitHub", ("idna",))
    allowlist = Allowlist("a", publishers=(first, covering))
    moved = result({"idna": ("3.10", facts(provenance="GitHub evil/idna release.yml"))})
    (item,) = check_allowlist(moved, allowlist, TODAY).failed
    assert item.rule_id == "trust-changed"
    unknown = Facts({"publishers": ["kjd"], "organization": ""}, {"has_provenance": "HTTP 503"})
    verdict = check_allowlist(result({"idna": ("3.10", unknown)}), allowlist, TODAY)
    assert verdict.unknown[0].message == (
        "undetermined: no entry allows it, and provenance unknown (HTTP 503)"
    )
    silent = Facts({"publishers": ["kjd"], "organization": ""})
    verdict = check_allowlist(result({"idna": ("3.10", silent)}), allowlist, TODAY)
    assert verdict.unknown[0].message == (
        "undetermined: no entry allows it, and provenance unknown (not looked up)"
    )


def test_standing_items_are_of_the_entry_that_allows_the_package_only():
    """A package allowed by a trusted account is not asked about its own (other
    version's) baseline entry."""
    accounts = {"kjd": TrustedAccount("kjd", APPROVED)}
    allowlist = Allowlist("a", {"idna": entry(baseline=True)}, accounts=accounts)
    verdict = check_allowlist(result({"idna": ("3.11", facts())}), allowlist, TODAY)
    assert verdict.allowed == {"idna": "accounts kjd"}
    assert verdict.existing == ()


def test_an_approval_of_an_unpinned_package_allows_any_version_and_any_file():
    values = dict(facts(provenance="GitHub kjd/idna release.yml").values)
    del values["provenance_workflow"]  # attested, but the workflow not said: shown as ?
    scan = result({"idna": ("", Facts(values))})
    assert approval_for(scan, "idna", APPROVED) == AllowedPackage(
        name="idna",
        approval=APPROVED,
        versions="",
        hashes=(),
        facts=ApprovedFacts(("kjd",), "", "github.com/kjd/idna", "GitHub kjd/idna ?"),
        baseline=False,
    )
    assert approval_for(scan, "idna", APPROVED, baseline=True).baseline is True


def test_the_files_an_entry_approves_and_the_one_version_it_names():
    files = [
        IndexFile("idna-3.10-py3-none-any.whl", "https://f/1", "ab" * 32, "3.10"),
        IndexFile("idna-3.10.tar.gz", "https://f/2", "ef" * 32, "3.10"),
        IndexFile("idna-3.9-py3-none-any.whl", "https://f/3", "cd" * 32, "3.9"),
    ]
    assert approved_files(entry(), files) == files[:2]
    assert approved_files(entry(hashes=(HASH,)), files) == files[:1]
    assert approved_files(entry(versions=">=3.9", hashes=(OTHER_HASH,)), files) == files[2:]
    assert approved_files(entry(versions=""), files) == files
    assert [exact_version(v) for v in ("==3.10", "===3.10", "==3.*", ">=3", "==1,==2", "")] == [
        "3.10", "3.10", None, None, None, None
    ]  # fmt: skip
    assert exact_version("not a specifier") is None
