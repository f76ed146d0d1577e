"""Provenance facts: whether the pinned file has a PEP 740 attestation on the index, who
published it, and whether that publisher identity changed from the release before (the
shape of an upload that bypassed a project's trusted-publishing pipeline: a release with
no attestation, or another identity, after releases that had one)."""

from __future__ import annotations

from scanner.records import Provenance

PROVENANCE_FACTS = (
    "has_provenance",
    "provenance_file",
    "provenance_publisher",
    "provenance_repository",
    "provenance_workflow",
    "provenance_environment",
    "previous_provenance",
    "provenance_changed",
    "provenance_served",
)
_IDENTITY = ("kind", "repository", "workflow", "environment")


def provenance_facts(provenance: Provenance | None, values: dict, unknown: dict) -> None:
    if provenance is None:
        for fact in PROVENANCE_FACTS:
            unknown[fact] = unknown.get("file_hashes") or "provenance was not looked up"
        return
    if provenance.served is None:
        unknown["provenance_served"] = provenance.reason or "not known"
    else:
        values["provenance_served"] = provenance.served
    values["provenance_file"] = provenance.filename
    if provenance.status == "unknown":
        for fact in PROVENANCE_FACTS[2:-1]:
            unknown[fact] = provenance.reason
        unknown["has_provenance"] = provenance.reason
        return
    publisher = provenance.publisher
    values["has_provenance"] = provenance.status == "attested"
    values["provenance_publisher"] = publisher.get("kind", "")
    values["provenance_repository"] = publisher.get("repository", "")
    values["provenance_workflow"] = publisher.get("workflow", "")
    values["provenance_environment"] = publisher.get("environment", "")
    change_facts(provenance, values, unknown)


def identity(provenance: Provenance) -> str:
    """The publisher identity, as one line: "GitHub owner/repo release.yml (pypi)";
    "" when the file has no attestation."""
    if provenance.status != "attested":
        return ""
    publisher = provenance.publisher
    kind, repository, workflow, environment = (publisher.get(k) or "" for k in _IDENTITY)
    return " ".join(p for p in (kind, repository, workflow) if p) + (
        f" ({environment})" if environment else ""
    )


def change_facts(provenance: Provenance, values: dict, unknown: dict) -> None:
    """`previous_provenance` (the release before: its version and publisher identity,
    "" when it had no attestation or there is none) and `provenance_changed`: it had an
    attestation, and this release has none or another identity."""
    previous = provenance.previous
    if previous is None:  # the first release with files: nothing to compare with
        values["previous_provenance"] = ""
        values["provenance_changed"] = False
        return
    if previous.status == "unknown":
        why = f"the provenance of {provenance.previous_version}: {previous.reason}"
        unknown["previous_provenance"] = unknown["provenance_changed"] = why
        return
    before = identity(previous)
    values["previous_provenance"] = f"{provenance.previous_version}: {before}" if before else ""
    values["provenance_changed"] = bool(before) and _key(provenance) != _key(previous)


def _key(provenance: Provenance) -> tuple[str, ...]:
    publisher = provenance.publisher if provenance.status == "attested" else {}
    return tuple(str(publisher.get(k) or "").lower() for k in _IDENTITY)
