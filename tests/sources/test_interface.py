"""The source interface and registry: the contract every looped source is held to (each
fact it provides known or unknown with a reason, all of them unknown when it is switched
off or unreachable), the registry's fact sources agreeing with the fact schema, and the
looped sources' facts reaching the package facts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from scanner.facts.derive import build_facts
from scanner.facts.gather import gather
from scanner.facts.schema import FACT_NAMES, FACTS
from scanner.model import Package
from scanner.records import NOT_GATHERED, SourceAnswer
from scanner.sources.enrichment import enrichment_sources
from scanner.sources.http import Fetcher
from scanner.sources.interface import (
    REGISTRY,
    SourceUnavailable,
    fact_sources,
    gather_all,
    unavailable,
)
from scanner.sources.pypi import PyPISource
from scanner.store import Store
from tests.test_rules import NOW, TOP

PACKAGES = [Package("idna", "3.10"), Package("six", "1.16.0")]


class FakeSource:
    """A repository host answering from a table; `failure` is raised instead."""

    name = "repository host (GitHub)"
    facts_provided = ("repository_stars", "repository_archived")

    def __init__(self, stars: dict[str, int], failure: BaseException | None = None) -> None:
        self.stars = stars
        self.failure = failure

    async def gather(self, packages: Sequence[Package], index=None) -> dict[str, SourceAnswer]:
        if self.failure is not None:
            raise self.failure
        return {
            p.name: SourceAnswer(
                # "download_rank" is not this source's to give: the contract drops it.
                {"repository_stars": self.stars[p.name], "download_rank": 1},
                {},
            )
            for p in packages
            if p.name in self.stars
        }


def test_every_fact_of_the_registry_is_in_the_schema_whose_source_column_agrees():
    sources = fact_sources()
    assert set(sources) <= FACT_NAMES
    by_name = {spec.name: spec for spec in FACTS}
    for fact, source in sources.items():
        assert by_name[fact].source.startswith(source), (fact, by_name[fact].source, source)
    names = {info.name for info in REGISTRY}
    for spec in FACTS:
        if spec.source in names:  # a fact the schema gives to one source alone
            assert sources.get(spec.name) == spec.source, spec.name


def test_a_switched_off_source_answers_every_fact_it_provides_as_unknown_with_why():
    sources = enrichment_sources()
    answers = asyncio.run(gather_all(sources, PACKAGES))
    reasons = {f: s.reason for s in sources for f in s.facts_provided}
    assert {"repository_stars", "osv_vulnerabilities", "dependent_packages"} <= set(reasons)
    assert reasons["repository_stars"] == NOT_GATHERED
    for package in PACKAGES:
        assert answers[package.name].values == {}
        assert answers[package.name].unknown == reasons


def test_an_unreachable_source_answers_unknown_and_the_others_still_answer():
    down = FakeSource({}, failure=OSError("connection refused"))
    answers = asyncio.run(gather_all([down], PACKAGES))
    reason = answers["six"].unknown["repository_stars"]
    assert "could not be reached" in reason and "connection refused" in reason
    assert set(answers["six"].unknown) == set(FakeSource.facts_provided)
    off = FakeSource({}, failure=SourceUnavailable("switched off in the config"))
    assert asyncio.run(gather_all([off], PACKAGES))["idna"].unknown == dict.fromkeys(
        off.facts_provided, "switched off in the config"
    )


def test_a_source_is_held_to_the_facts_it_provides():
    answers = asyncio.run(gather_all([FakeSource({"six": 1000})], PACKAGES))
    assert answers["six"].values == {"repository_stars": 1000}  # not download_rank
    assert answers["six"].unknown == {
        "repository_archived": "repository host (GitHub) gave no answer for it"
    }
    assert set(answers["idna"].unknown) == set(FakeSource.facts_provided)


def test_unavailable_covers_every_package():
    answers = unavailable(("dependent_packages",), PACKAGES, "down")
    assert {n: a.unknown for n, a in answers.items()} == {
        "idna": {"dependent_packages": "down"},
        "six": {"dependent_packages": "down"},
    }


def test_the_looped_sources_facts_reach_the_package_facts(fixture_index, tmp_path):
    async def run():
        store = Store(tmp_path / "db")
        fetcher = Fetcher(store)
        try:
            source = PyPISource(fetcher, fixture_index.simple_url)
            looped = [FakeSource({"six": 1000}), *enrichment_sources()[1:]]
            return await gather(PACKAGES, fetcher, source, sources=looped)
        finally:
            await fetcher.aclose()
            store.close()

    gathered = asyncio.run(run())
    six = build_facts(
        PACKAGES[1],
        gathered.index["six"],
        TOP,
        {},
        now=NOW,
        enrichment=gathered.answers["six"],
    )
    assert six.values["repository_stars"] == 1000
    assert six.values["enrichment"] == {"repository_stars": 1000}
    assert six.unknown["dependent_packages"] == NOT_GATHERED
    assert "gave no answer" in six.unknown["repository_archived"]
    idna = build_facts(PACKAGES[0], gathered.index["idna"], TOP, {}, now=NOW)
    assert idna.values["enrichment"] == {} and "repository_stars" in idna.unknown


def test_rules_facts_lists_each_provided_fact_under_the_source_that_registers_it():
    from scanner.fact_listing import listed_facts

    listed = {fact.name: fact for fact in listed_facts()}
    assert set(listed) == FACT_NAMES  # every documented fact, and nothing else today
    for fact, source in fact_sources().items():
        assert listed[fact].source.startswith(source), (fact, listed[fact].source)
    assert listed["top_level"].source == "graph"  # derived: as the schema says
    assert listed["publishers"].source == "index JSON API `ownership`"  # detail kept


def test_a_newly_registered_source_s_facts_are_listed_without_editing_the_schema(monkeypatch):
    from scanner import fact_listing as listing
    from scanner.sources.interface import SourceInfo

    new = SourceInfo("advisory database (OSV)", ("osv_advisories", "publishers"))
    monkeypatch.setattr(listing, "REGISTRY", (*REGISTRY, new))
    listed = {fact.name: fact for fact in listing.listed_facts()}
    assert listed["osv_advisories"].source == "advisory database (OSV)"
    assert listed["osv_advisories"].type == "dyn"
    assert "not described" in listed["osv_advisories"].description
    # A fact an earlier source already provides stays that source's.
    assert listed["publishers"].source.startswith("index")
    assert [f.name for f in listing.listed_facts()].count("publishers") == 1


def _neither_known_nor_unknown(facts, info) -> list[str]:
    return [f for f in info.facts_provided if f not in facts.values and not facts.unknown.get(f)]


def test_the_gather_stage_s_own_sources_answer_every_fact_known_or_unknown_with_why():
    """The index, its integrity API, the usage dataset and the scan history are not
    looped (their typed records are derived across sources), but they are held to the
    same contract: each fact they provide is known, or unknown with a reason."""
    from scanner.records import IndexRecord, Provenance
    from scanner.sources.interface import HISTORY, INDEX, PROVENANCE, USAGE
    from tests.test_rules import facts_for

    unreachable = IndexRecord("six", "unknown", reason="the index could not be reached")
    cases = {
        "index unreachable": build_facts(Package("six", "1.16.0"), unreachable, TOP, {}, NOW),
        "not looked up": build_facts(Package("six", "1.16.0"), None, TOP, {}, NOW),
        "no history, provenance not asked": facts_for("six", "1.16.0"),
        "provenance unknown, first sighting": facts_for(
            "six",
            "1.16.0",
            provenance=Provenance("six-1.16.0-py2.py3-none-any.whl", "unknown", reason="timed out"),
            history={},
        ),
    }
    for case, facts in cases.items():
        for info in (INDEX, PROVENANCE, USAGE, HISTORY):
            assert _neither_known_nor_unknown(facts, info) == [], (case, info.name)
    reasons = {cases["index unreachable"].unknown[f] for f in INDEX.facts_provided}
    assert reasons == {"the index could not be reached"}
