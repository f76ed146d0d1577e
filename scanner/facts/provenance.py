"""Provenance facts: whether the pinned file has a PEP 740 attestation on the index, and
who published it."""

from __future__ import annotations

from scanner.records import Provenance

PROVENANCE_FACTS = (
    "has_provenance",
    "provenance_file",
    "provenance_publisher",
    "provenance_repository",
    "provenance_workflow",
)


def provenance_facts(provenance: Provenance | None, values: dict, unknown: dict) -> None:
    if provenance is None:
        for fact in PROVENANCE_FACTS:
            unknown[fact] = unknown.get("file_hashes") or "provenance was not looked up"
        return
    values["provenance_file"] = provenance.filename
    if provenance.status == "unknown":
        for fact in PROVENANCE_FACTS[2:]:
            unknown[fact] = provenance.reason
        unknown["has_provenance"] = provenance.reason
        return
    publisher = provenance.publisher
    values["has_provenance"] = provenance.status == "attested"
    values["provenance_publisher"] = publisher.get("kind", "")
    values["provenance_repository"] = publisher.get("repository", "")
    values["provenance_workflow"] = publisher.get("workflow", "")
