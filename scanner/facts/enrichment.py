"""Enrichment facts: optional signals from the sources the gather stage loops over
(`scanner.sources.interface`), such as a repository's stars or how many packages depend
on a project. What a source knows becomes a fact; what it could not find out is unknown
with the source's reason."""

from __future__ import annotations

from scanner.records import NOT_GATHERED, SourceAnswer

ENRICHMENT_FACTS = ("repository_stars", "repository_archived", "dependent_packages")


def answer_facts(answer: SourceAnswer | None, values: dict, unknown: dict) -> None:
    """The looped sources' facts, and `enrichment`: the map of the optional signals
    that are known (rules use `has(facts.enrichment.X)`)."""
    answer = answer or SourceAnswer()
    known = {k: v for k, v in answer.values.items() if v is not None}
    values.update(known)
    unknown.update({k: why for k, why in answer.unknown.items() if k not in known})
    values["enrichment"] = {k: known[k] for k in ENRICHMENT_FACTS if k in known}
    for name in ENRICHMENT_FACTS:
        if name not in known:
            unknown.setdefault(name, NOT_GATHERED)
