"""The allowlist check: every package of the closure must be allowed, by its own entry (at
the version and, where the entry lists them, the files in use) or by a trusted
organisation, account or publisher; an approval whose recorded facts have changed is
re-opened until it is given again. Pure: a ScanResult and an Allowlist in, a Verdict out
(the gate's shape, so that exit codes, SARIF and Markdown come out the same way).

Also pure, for the commands that edit the file: the entry an approval writes
(`approval_for`), what a trusted organisation or publisher covers today, and what
`prune` removes."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from scanner.model import (
    AllowedPackage,
    Allowlist,
    Approval,
    ApprovedFacts,
    Facts,
    GateItem,
    IndexFile,
    RuleInfo,
    ScanResult,
    TrustedOrganization,
    TrustedPublisher,
    Verdict,
)

_REMEDY = (
    "Run `trustmap allowlist review` to see the evidence and who can publish it, then "
    "`trustmap allowlist approve NAME --reason ...` in a reviewed change, or remove it."
)
ALLOWLIST_RULES: dict[str, RuleInfo] = {
    rule.id: rule
    for rule in (
        RuleInfo(
            "not-allowed",
            "Not on the allowlist",
            "high",
            "allowlist",
            "Only sources the project decided to trust may ship code into it. No entry, "
            "trusted organisation, account or publisher of the allowlist allows this package.",
            _REMEDY,
        ),
        RuleInfo(
            "approval-changed",
            "What the approval trusted has changed",
            "high",
            "allowlist",
            "The package was approved on who could publish it, its organisation, repository "
            "and provenance. One of them is no longer what was approved: the trust given "
            "does not carry over to whoever holds it now.",
            "Check the change (who was added, where it moved), then approve it again or revoke it.",
        ),
        RuleInfo(
            "trust-changed",
            "A trusted organisation or publisher has changed",
            "high",
            "allowlist",
            "A trusted organisation gained or lost members, or a package no longer carries "
            "the provenance of the trusted publisher it was covered by.",
            "Review the change and approve the organisation or publisher again, or revoke it.",
        ),
        RuleInfo(
            "version-not-approved",
            "The version in use is not an approved one",
            "high",
            "allowlist",
            "The package's entry allows other versions than the one in use.",
            "Review the new version and approve it (`--version`), or pin an approved one.",
        ),
        RuleInfo(
            "file-not-approved",
            "A file in use is not an approved one",
            "high",
            "allowlist",
            "The entry lists the files (hashes) it allows, and a file in use is not one of "
            "them: it may have been replaced or built elsewhere.",
            "Check where the file comes from; approve it again to record its hash.",
        ),
        RuleInfo(
            "approval-expired",
            "The approval has expired",
            "high",
            "allowlist",
            "Approvals with an expiry are meant to be looked at again by then.",
            "Review it and approve it again with a new expiry, or remove the package.",
        ),
        RuleInfo(
            "allowlist-undetermined",
            "Whether it is allowed could not be decided",
            "high",
            "allowlist",
            "A fact the decision needs (who can publish it, its organisation, provenance or "
            "files) is unknown. Unknown is never taken as allowed.",
            "Run again with the index reachable (or without --offline), or approve it by entry.",
        ),
    )
}


@dataclass
class _Judgement:
    """What the check found for one package."""

    failed: list[tuple[str, str]] = field(default_factory=list)  # (rule id, message)
    unknown: list[str] = field(default_factory=list)
    allowed_by: str = ""


def current_facts(facts: Facts | None) -> ApprovedFacts:
    """A package's facts now, in the shape an approval records (None: unknown)."""
    values = facts.values if facts is not None else {}
    publishers = values.get("publishers")
    organization = values.get("organization")
    # The forge's host/owner/name where it is one, else the link as written.
    slug, linked = values.get("repository_slug"), values.get("source_repository")
    repository = None
    if isinstance(slug, str) and slug:
        repository = slug
    elif isinstance(linked, str):
        repository = linked
    attested = values.get("has_provenance")
    provenance = None
    if attested is True:
        provenance = " ".join(
            str(values.get(k) or "?")
            for k in ("provenance_publisher", "provenance_repository", "provenance_workflow")
        )
    elif attested is False:
        provenance = ""
    return ApprovedFacts(
        publishers=tuple(sorted(str(p) for p in publishers))
        if isinstance(publishers, list | tuple)
        else None,
        organization=organization if isinstance(organization, str) else None,
        repository=repository,
        provenance=provenance,
    )


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(value) if value else "(none)"
    return str(value) if value else "(none)"


def fact_changes(recorded: ApprovedFacts, now: ApprovedFacts) -> tuple[list[str], list[str]]:
    """What differs from the recorded facts (`publishers +mallory -alice`, ...), and which
    recorded facts are unknown now."""
    changed, unknown = [], []
    for name in ("publishers", "organization", "repository", "provenance"):
        before, after = getattr(recorded, name), getattr(now, name)
        if before is None:
            continue  # not known at approval: nothing to hold it to
        if after is None:
            unknown.append(name)
        elif name == "publishers" and before != after:
            added = [f"+{a}" for a in sorted(set(after) - set(before))]
            removed = [f"-{r}" for r in sorted(set(before) - set(after))]
            changed.append(f"publishers {' '.join(added + removed)}")
        elif before != after:
            changed.append(f"{name} {_shown(before)} -> {_shown(after)}")
    return changed, unknown


def hashes_in_use(result: ScanResult, name: str) -> tuple[str, ...] | None:
    """The files in use: the package's own hashes (an installed wheel, a lockfile's), else
    the index's files of the pinned version; None when unknown."""
    package = result.packages.get(name)
    if package is not None and package.hashes:
        return tuple(package.hashes)
    facts = result.facts.get(name)
    found = facts.values.get("file_hashes") if facts is not None else None
    return tuple(found) if isinstance(found, list | tuple) and found else None


def version_allowed(versions: str, version: str) -> bool | None:
    """None: the version cannot be compared (not PEP 440, or not pinned)."""
    if not versions.strip():
        return True
    try:
        # A pre-release is allowed only by a specifier that names one, as installers do.
        return SpecifierSet(versions).contains(Version(version))
    except InvalidVersion:
        return None


def _identity(facts: ApprovedFacts) -> str:
    parts = []
    if facts.publishers is not None:
        parts.append(f"publishers {_shown(facts.publishers)}")
    if facts.organization:
        parts.append(f"organisation {facts.organization}")
    return "; ".join(parts) or "publishers unknown"


def _publisher_matches(publisher: TrustedPublisher, values: Mapping) -> bool:
    if values.get("has_provenance") is not True:
        return False
    kind = str(values.get("provenance_publisher") or "")
    repository = str(values.get("provenance_repository") or "")
    workflow = str(values.get("provenance_workflow") or "")
    return (
        (not publisher.kind or publisher.kind.lower() == kind.lower())
        and fnmatch.fnmatchcase(repository.lower(), publisher.repository.lower())
        and fnmatch.fnmatchcase(workflow, publisher.workflow)
    )


def organization_members(result: ScanResult, organization: str) -> tuple[str, ...] | None:
    """Every account that can publish a package of `organization` in this closure; None
    when that is unknown for one of them."""
    members: set[str] = set()
    for facts in result.facts.values():
        if facts.values.get("organization") != organization:
            continue
        publishers = facts.values.get("publishers")
        if not isinstance(publishers, list | tuple):
            return None
        members.update(str(p) for p in publishers)
    return tuple(sorted(members))


def publisher_packages(result: ScanResult, publisher: TrustedPublisher) -> tuple[str, ...]:
    return tuple(
        sorted(
            name
            for name, facts in result.facts.items()
            if _publisher_matches(publisher, facts.values)
        )
    )


class _Checker:
    def __init__(self, result: ScanResult, allowlist: Allowlist, today: date) -> None:
        self.result = result
        self.allowlist = allowlist
        self.today = today
        self.organizations = {
            n: o for n, o in allowlist.organizations.items() if not o.approval.expired(today)
        }
        self.accounts = {n for n, a in allowlist.accounts.items() if not a.approval.expired(today)}
        self.publishers = [p for p in allowlist.publishers if not p.approval.expired(today)]
        self.lost = {name: self._lost_members(org) for name, org in self.organizations.items()}

    def _lost_members(self, organization: TrustedOrganization) -> list[str]:
        if organization.members is None:
            return []
        now = organization_members(self.result, organization.name)
        if now is None or not now:
            return []  # unknown, or none of its packages is here: nothing to compare
        return sorted(set(organization.members) - set(now))

    def judge(self, name: str) -> _Judgement:
        facts = self.result.facts.get(name)
        now = current_facts(facts)
        entry = self.allowlist.packages.get(name)
        by_entry = _Judgement()
        if entry is not None and self._by_entry(name, entry, now, by_entry):
            by_entry.allowed_by = (
                f"entry {entry.versions or '(any version)'} ({entry.approval.where})"
            )
            return by_entry
        if any(rule == "approval-changed" for rule, _ in by_entry.failed):
            return by_entry  # a re-opened approval fails whatever else would allow it
        # The entry does not allow it (another version, expired, ...): a trusted source may.
        by_trust = _Judgement()
        self._by_trusted(name, facts, now, by_trust)
        if by_trust.allowed_by:
            return by_trust
        judgement = _Judgement(
            failed=by_entry.failed + by_trust.failed, unknown=by_entry.unknown + by_trust.unknown
        )
        if not judgement.failed and not judgement.unknown:
            judgement.failed.append(("not-allowed", f"not on the allowlist; {_identity(now)}"))
        return judgement

    def _by_entry(self, name: str, entry: AllowedPackage, now: ApprovedFacts, judgement) -> bool:
        changed, unknown = fact_changes(entry.facts, now)
        where = entry.approval.where
        if changed:
            judgement.failed.append(
                ("approval-changed", f"changed since approval on {entry.approval.approved_on}: "
                 f"{'; '.join(changed)} (approved at {where})")
            )  # fmt: skip
            return False
        if entry.approval.expired(self.today):
            judgement.failed.append(
                ("approval-expired", f"approval expired on {entry.approval.expires} ({where})")
            )
            return False
        package = self.result.packages[name]
        allowed = version_allowed(entry.versions, package.version)
        if allowed is False:
            judgement.failed.append(
                ("version-not-approved", f"version {package.version} is not approved "
                 f"(approved: {entry.versions}, at {where})")
            )  # fmt: skip
            return False
        if allowed is None:
            judgement.unknown.append(
                f"version {package.version or '(unpinned)'} cannot be held to {entry.versions}"
            )
            return False
        if entry.hashes:
            in_use = hashes_in_use(self.result, name)
            if in_use is None:
                judgement.unknown.append("the files in use are unknown, and the entry lists hashes")
                return False
            stray = sorted(set(in_use) - set(entry.hashes))
            if stray:
                judgement.failed.append(
                    ("file-not-approved", f"{len(stray)} file(s) in use not approved: "
                     f"{', '.join(stray[:3])}{' …' if len(stray) > 3 else ''} (at {where})")
                )  # fmt: skip
                return False
        if unknown:
            judgement.unknown.append(
                f"approved on {', '.join(unknown)}, now unknown: the approval cannot be confirmed"
            )
            return False
        return True

    def _by_trusted(self, name: str, facts: Facts | None, now: ApprovedFacts, judgement) -> None:
        values = facts.values if facts is not None else {}
        reasons = (facts.unknown if facts is not None else {}) or {}
        # A trusted publisher that covered this package at approval and no longer matches.
        for publisher in self.publishers:
            if name not in publisher.packages:
                continue
            if now.provenance is None:
                judgement.unknown.append(_unknown("provenance", reasons, "has_provenance"))
            elif not _publisher_matches(publisher, values):
                judgement.failed.append(
                    ("trust-changed", f"no longer matches trusted publisher {publisher.label} "
                     f"({publisher.approval.where}): provenance now {_shown(now.provenance)}")
                )  # fmt: skip
        organization = self.organizations.get(now.organization or "")
        if organization is not None:
            gained = []
            if now.publishers is None:
                judgement.unknown.append(_unknown("publishers", reasons, "publishers"))
            elif organization.members is not None:
                gained = sorted(set(now.publishers) - set(organization.members))
            lost = self.lost.get(organization.name, [])
            if gained or lost:
                change = " ".join([*(f"+{a}" for a in gained), *(f"-{a}" for a in lost)])
                judgement.failed.append(
                    ("trust-changed", f"organisation {organization.name} members changed since "
                     f"approval: {change} ({organization.approval.where})")
                )  # fmt: skip
            elif now.publishers is not None and not judgement.failed:
                judgement.allowed_by = f"organisation {organization.name}"
                return
        if judgement.failed:
            return
        for publisher in self.publishers:
            if _publisher_matches(publisher, values):
                judgement.allowed_by = f"publisher {publisher.label}"
                return
        if (
            self.publishers
            and now.provenance is None
            and name not in {n for p in self.publishers for n in p.packages}
        ):
            judgement.unknown.append(_unknown("provenance", reasons, "has_provenance"))
        if self.accounts:
            if now.publishers is None:
                judgement.unknown.append(_unknown("publishers", reasons, "publishers"))
            elif now.publishers and set(now.publishers) <= self.accounts:
                judgement.allowed_by = f"accounts {', '.join(now.publishers)}"
                return
        if self.organizations and now.organization is None:
            judgement.unknown.append(_unknown("organisation", reasons, "organization"))


def _unknown(what: str, reasons: Mapping[str, str], fact: str) -> str:
    """`publishers unknown (why)`; a fact with no reason recorded was not looked up (a
    package the facts stage has nothing for)."""
    return f"{what} unknown ({reasons.get(fact, 'not looked up')})"


EXPIRY_WARNING_DAYS = 30


def _standing(name: str, entry: AllowedPackage, today: date) -> list[GateItem]:
    """What an allowed entry still asks of its reviewers: a baseline entry nobody has
    reviewed since `init`, an approval that expires soon."""
    items = []
    if entry.baseline:
        items.append(GateItem("allowlist", name, "baseline-approval", "info",
                              f"allowed since `allowlist init` ({entry.approval.approved_on}), "
                              "not reviewed since"))  # fmt: skip
    expires = entry.approval.expires
    if expires is not None and (expires - today).days <= EXPIRY_WARNING_DAYS:
        items.append(GateItem("allowlist", name, "approval-expiring", "info",
                              f"approval expires on {expires}"))  # fmt: skip
    return items


def check_allowlist(
    result: ScanResult,
    allowlist: Allowlist,
    today: date | None = None,
    on_unknown: Literal["fail", "warn"] = "fail",
) -> Verdict:
    """Judge every package of `result` by `allowlist`: fail (exit 1) when one is not
    allowed or an approval it rests on has changed; incomplete (exit 3) when a fact the
    decision needs is unknown (with `on_unknown="warn"`, that passes with the reason kept)."""
    today = today or date.today()
    checker = _Checker(result, allowlist, today)
    failed: list[GateItem] = []
    unknown: list[GateItem] = []
    allowed: dict[str, str] = {}
    baseline: list[GateItem] = []  # allowed, and worth a look: not reviewed, or expiring
    first_party = []
    for name in sorted(result.packages):
        facts = result.facts.get(name)
        if facts is not None and facts.values.get("first_party") is True:
            first_party.append(name)
            continue
        judgement = checker.judge(name)
        if judgement.allowed_by:
            allowed[name] = judgement.allowed_by
            entry = allowlist.packages.get(name)
            if judgement.allowed_by.startswith("entry ") and entry is not None:
                baseline.extend(_standing(name, entry, today))
            continue
        for rule_id, message in judgement.failed:
            failed.append(GateItem("allowlist", name, rule_id, "high", message))
        if not judgement.failed and judgement.unknown:
            entry = "" if name in allowlist.packages else "no entry allows it, and "
            message = f"undetermined: {entry}" + "; ".join(dict.fromkeys(judgement.unknown))
            unknown.append(GateItem("allowlist", name, "allowlist-undetermined", "high", message))
    notes = (
        [f"the project's own code is not judged: {', '.join(first_party)}"] if first_party else []
    )
    for kind, names in (
        ("organisation", allowlist.organizations.items()),
        ("account", allowlist.accounts.items()),
        ("publisher", ((p.label, p) for p in allowlist.publishers)),
    ):
        for label, entry in names:
            if entry.approval.expired(today):
                notes.append(
                    f"trusted {kind} {label} expired on {entry.approval.expires}: it allows nothing"
                )
    weak = sorted(
        n
        for n, e in allowlist.packages.items()
        if n in result.packages and e.facts.publishers is None
    )
    if weak:
        notes.append(
            "approved without knowing who could publish them (nothing to re-open them on): "
            + ", ".join(weak)
        )
    outcome: Literal["pass", "fail", "incomplete"] = "pass"
    if failed:
        outcome = "fail"
    elif unknown and on_unknown == "fail":
        outcome = "incomplete"
    return Verdict(
        outcome,
        tuple(f"{i.package}: {i.rule_id}: {i.message}" for i in failed + unknown),
        failed=tuple(failed),
        unknown=tuple(unknown),
        existing=tuple(baseline),
        notes=tuple(notes),
        baseline=None,
        policy="allowlist",
        allowed=allowed,
    )


# --- what the editing commands compute ------------------------------------------------------


def approval_for(
    result: ScanResult,
    name: str,
    approval: Approval,
    versions: str | None = None,
    baseline: bool = False,
) -> AllowedPackage:
    """The entry approving `name` as `result` sees it: the version in use (unless
    `versions` says otherwise), the hashes of its files when the version is pinned to
    the one in use, and the facts it is approved on."""
    package = result.packages[name]
    pinned = f"=={package.version}" if package.version else ""
    chosen = pinned if versions is None else versions.strip()
    hashes = ()
    if chosen and chosen == pinned:
        hashes = hashes_in_use(result, name) or ()
    return AllowedPackage(
        name=name,
        approval=approval,
        versions=chosen,
        hashes=tuple(sorted(hashes)),
        facts=current_facts(result.facts.get(name)),
        baseline=baseline,
    )


def unused_entries(
    allowlist: Allowlist, result: ScanResult, today: date
) -> list[tuple[str, object, str]]:
    """What `prune` removes: (section, name or publisher index, why), for entries that
    nothing in the closure uses any more, or that have expired."""
    publishing = {
        str(a)
        for f in result.facts.values()
        if isinstance(f.values.get("publishers"), list | tuple)
        for a in f.values["publishers"]
    }
    found: list[tuple[str, object, str]] = []
    for name, entry in sorted(allowlist.packages.items()):
        if entry.approval.expired(today):
            found.append(("packages", name, f"expired on {entry.approval.expires}"))
        elif name not in result.packages:
            found.append(("packages", name, "not in the closure any more"))
    organizations_here = {f.values.get("organization") for f in result.facts.values()}
    for name, organization in sorted(allowlist.organizations.items()):
        if organization.approval.expired(today):
            found.append(("organizations", name, f"expired on {organization.approval.expires}"))
        elif name not in organizations_here:
            found.append(("organizations", name, "owns no package of the closure"))
    for name, account in sorted(allowlist.accounts.items()):
        if account.approval.expired(today):
            found.append(("accounts", name, f"expired on {account.approval.expires}"))
        elif name not in publishing:
            found.append(("accounts", name, "publishes no package of the closure"))
    for index, publisher in enumerate(allowlist.publishers):
        if publisher.approval.expired(today):
            found.append(("publishers", index, f"expired on {publisher.approval.expires}"))
        elif not publisher_packages(result, publisher) and not any(
            n in result.packages for n in publisher.packages
        ):
            found.append(("publishers", index, "attests no package of the closure"))
    return found


def approved_files(entry: AllowedPackage, files: list[IndexFile]) -> list[IndexFile]:
    """The files of the index an entry approves: of an allowed version and, where the
    entry lists hashes, one of them."""
    allowed = {h.removeprefix("sha256:") for h in entry.hashes}
    return [
        f
        for f in files
        if version_allowed(entry.versions, f.version) and (not allowed or f.sha256 in allowed)
    ]


def exact_version(versions: str) -> str | None:
    """The one version a specifier allows (`==1.0`, `===1.0`), else None."""
    try:
        specifiers = list(SpecifierSet(versions))
    except ValueError:
        return None
    if len(specifiers) != 1 or specifiers[0].operator not in ("==", "==="):
        return None
    version = specifiers[0].version
    return None if version.endswith(".*") else version
