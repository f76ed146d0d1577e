"""What `trustmap rules facts` lists, built from the source registry: every fact each
registered source provides, under that source's name, then the facts the facts stage
derives (from the inputs, the graph, or several sources at once), as the fact schema
documents them. A new source's facts are listed by registering it; their type and meaning
come from the schema when it describes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.facts.schema import FACTS, FactSpec
from scanner.sources.interface import REGISTRY

# CEL's dynamic type: what a condition sees of a fact the schema does not describe.
_UNDESCRIBED_TYPE = "dyn"


@dataclass(frozen=True)
class ListedFact:
    """One row of `trustmap rules facts`."""

    name: str
    type: str
    source: str
    description: str


def _source_column(registered: str, spec: FactSpec | None) -> str:
    # The schema may say where within the source (e.g. "index JSON API `ownership`").
    if spec is not None and spec.source.startswith(registered):
        return spec.source
    return registered


def listed_facts() -> tuple[ListedFact, ...]:
    """The registered sources' facts (in registry order), then the derived facts."""
    documented = {spec.name: spec for spec in FACTS}
    listed: list[ListedFact] = []
    provided: set[str] = set()
    for source in REGISTRY:
        for name in source.facts_provided:
            if name in provided:
                continue
            provided.add(name)
            spec = documented.get(name)
            listed.append(
                ListedFact(
                    name,
                    spec.type if spec else _UNDESCRIBED_TYPE,
                    _source_column(source.name, spec),
                    spec.description
                    if spec
                    else f"Provided by {source.name}; "
                    "not described in scanner/facts/schema.py yet.",
                )
            )
    for spec in FACTS:
        if spec.name not in provided:
            listed.append(ListedFact(spec.name, spec.type, spec.source, spec.description))
    return tuple(listed)
