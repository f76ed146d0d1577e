"""The fact schema and how facts are built: every fact documented, unknown with a reason
rather than a value that looks safe, and the scan history behind ownership-change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from scanner.facts.derive import build_facts
from scanner.facts.gather import gather
from scanner.facts.schema import FACT_NAMES, FACTS
from scanner.model import Facts, Package
from scanner.records import IndexRecord, Project
from scanner.sources.http import Fetcher
from scanner.sources.pypi import PyPISource
from scanner.sources.usage import bundled_top_packages
from scanner.store import Store
from tests.test_rules import NOW, TOP, facts_for


def test_every_fact_built_is_documented_with_type_source_and_description():
    samples = [
        facts_for("requests", "2.32.3", history={}, accounts={}),
        facts_for("pycrypto", "2.6.1"),
        build_facts(Package("x", "1"), IndexRecord("x", "not-found"), TOP, {}, now=NOW),
        build_facts(Package("x", "1"), IndexRecord("x", "unknown", reason="t"), TOP, {}, now=NOW),
        build_facts(Package("x", "1"), None, TOP, {}, now=NOW),
    ]
    for facts in samples:
        assert set(facts.values) | set(facts.unknown) <= FACT_NAMES
        assert not set(facts.values) & set(facts.unknown)
    for spec in FACTS:
        assert spec.type and spec.source and spec.description, spec.name
    assert len({s.name for s in FACTS}) == len(FACTS)


def test_without_an_index_record_every_index_fact_is_known_or_unknown_with_a_reason():
    """A fact neither known nor unknown reads as null with no reason: `explain` shows a
    blank and a report cannot say why (the licence of a package the index does not know
    was such a fact)."""
    from scanner.facts.schema import INDEX_FACTS

    for record in (IndexRecord("x", "not-found"), IndexRecord("x", "unknown", reason="t"), None):
        facts = build_facts(Package("x", "1"), record, TOP, {}, now=NOW)
        for name in (*INDEX_FACTS, "license"):
            assert name in facts.values or facts.unknown.get(name), (record, name)
    missing = build_facts(Package("x", "1"), IndexRecord("x", "not-found"), TOP, {}, now=NOW)
    assert "no record of it" in missing.unknown["license"]
    licensed = build_facts(
        Package("x", "1", license="MIT"), IndexRecord("x", "not-found"), TOP, {}, now=NOW
    )
    assert licensed.values["license"] == "MIT" and "license" not in licensed.unknown


def test_an_unreachable_index_leaves_every_index_fact_unknown_with_its_reason():
    record = IndexRecord("six", "unknown", reason="the index could not be read: timeout")
    facts = build_facts(Package("six", "1.16.0"), record, TOP, {}, now=NOW)
    for name in (
        "has_wheel",
        "has_provenance",
        "vulnerability_ids",
        "ownership_changed",
        "busiest_account",
        "repository_names_package",
        "version_yanked",
    ):
        assert "timeout" in facts.unknown[name], name
    # Known without the index: the name and the dataset.
    assert facts.values["lookalike_of"] == "" and facts.values["index_name_collision"] is False


def test_release_file_and_repository_facts_of_real_projects():
    pycrypto = facts_for("pycrypto", "2.6.1")
    assert pycrypto.values["has_wheel"] is False and pycrypto.values["file_types"] == ["sdist"]
    assert pycrypto.values["source_repository"] == ""
    assert "no source repository" in pycrypto.unknown["repository_names_package"]
    six = facts_for("six", "1.16.0")
    assert six.values["has_wheel"] is True
    assert six.values["repository_slug"] == "github.com/benjaminp/six"
    assert six.values["repository_names_package"] is True
    assert facts_for("requests", "2.32.0").values["version_yanked"] is True


def test_first_sighting_is_not_a_change_and_no_history_is_unknown():
    first = facts_for("idna", "3.10", history={})
    assert first.values["ownership_changed"] is False and first.values["previous_publishers"] == []
    none = facts_for("idna", "3.10")
    assert none.unknown["ownership_changed"] == "no scan history was given"
    assert none.unknown["busiest_account"] == "the closure's accounts were not given"


def test_the_history_database_keeps_ownership_per_index_and_package(tmp_path):
    store = Store(tmp_path / "db")
    store.record_ownership("https://a/simple", {"idna": (("kjd",), "")}, when=100.0)
    store.record_ownership("https://a/simple", {"idna": (("kjd",), "")}, when=200.0)
    last = store.last_ownership("https://a/simple", ["idna", "six"])
    assert set(last) == {"idna"}
    assert (last["idna"].publishers, last["idna"].first_seen, last["idna"].last_seen) == (
        ("kjd",),
        100.0,
        200.0,
    )
    assert store.last_ownership("https://b/simple", ["idna"]) == {}
    store.record_ownership("https://a/simple", {"idna": (("mallory", "kjd"), "org")}, when=300.0)
    last = store.last_ownership("https://a/simple", ["idna"])["idna"]
    assert last.publishers == ("kjd", "mallory") and last.organization == "org"
    rows = store.conn.execute("SELECT count(*) FROM ownership_history").fetchone()[0]
    assert rows == 2  # the first ownership and the change: the history is kept
    store.close()


def test_gather_reads_the_last_scan_then_records_this_one(fixture_index, tmp_path):
    async def scan_once():
        store = Store(tmp_path / "db")
        fetcher = Fetcher(store)
        try:
            source = PyPISource(fetcher, fixture_index.simple_url)
            return await gather(
                [Package("idna", "3.10"), Package("six", "1.16.0")], fetcher, source
            )
        finally:
            await fetcher.aclose()
            store.close()

    first = asyncio.run(scan_once())
    assert first.history == {}
    assert first.accounts == {"gutworth": ["six"], "kjd": ["idna"]}
    second = asyncio.run(scan_once())
    assert second.history["idna"].publishers == ("kjd",)
    facts = build_facts(
        Package("idna", "3.10"),
        second.index["idna"],
        bundled_top_packages(),
        {},
        now=datetime.now(UTC),
        history=second.history,
        accounts=second.accounts,
    )
    assert facts.values["ownership_changed"] is False
    assert facts.values["busiest_account"] == "kjd"
    assert "does not serve PEP 740" in facts.unknown["has_provenance"]
    assert any("provenance" in n for n in second.notes)


def test_a_forge_link_found_by_its_host_names_the_repository_itself():
    """sqlite-fts4 links its GitHub Actions page, not its repository."""
    from scanner.facts.repository import url_facts

    values: dict = {}
    project_urls = {"CI": "https://github.com/simonw/sqlite-fts4/actions"}
    url_facts(Project("sqlite-fts4", project_urls=project_urls), values)
    assert values["source_repository"] == "https://github.com/simonw/sqlite-fts4"
    values = {}
    project_urls = {"Source": "https://github.com/PyGithub/PyGithub.git"}
    url_facts(Project("pygithub", project_urls=project_urls), values)
    assert values["source_repository"] == "https://github.com/PyGithub/PyGithub"


def test_a_package_from_another_index_gets_none_of_the_configured_index_facts(
    fixture_index, tmp_path
):
    """idna is on the configured index, but this idna was locked from another one: with
    other indexes switched off no request is made for it, and PyPI's publishers and usage
    are not its facts. (tests/sources/test_other_index.py asks the other index.)"""
    other = "https://download.pytorch.org/whl/cpu"
    package = Package("idna", "3.10", index_url=other)

    async def run():
        store = Store(tmp_path / "db")
        fetcher = Fetcher(store)
        try:
            source = PyPISource(fetcher, fixture_index.simple_url)
            gathered = await gather([package], fetcher, source, other_indexes=False)
            return gathered, fetcher.requests_sent
        finally:
            await fetcher.aclose()
            store.close()

    gathered, requests_sent = asyncio.run(run())
    record = gathered.index["idna"]
    assert record.status == "unknown" and record.reason.startswith(f"locked from {other},")
    assert requests_sent == 0
    facts = build_facts(package, record, bundled_top_packages(), {}, history={}, accounts={})
    assert facts.values["index_url"] == other
    assert "publishers" not in facts.values and "in_top_packages" not in facts.values
    assert facts.unknown["publishers"] == record.reason
    assert "switched off" in record.reason
    assert "download counts are PyPI's" in facts.unknown["in_top_packages"]


def test_the_derivations_read_records_never_the_sources():
    """Only the gather stage asks the sources; every family of derivations imports the
    shared types (scanner.model, scanner.records) alone."""
    import ast
    from pathlib import Path

    import scanner.facts

    folder = Path(scanner.facts.__file__).parent
    modules = [p for p in folder.glob("*.py") if p.name not in ("gather.py", "__init__.py")]
    assert {"derive.py", "ownership.py", "releases.py", "usage.py"} <= {p.name for p in modules}
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("scanner.sources", "scanner.store")), (
                    path.name,
                    node.module,
                )


def test_reasons_name_the_other_index_that_was_asked():
    """A package a lockfile locked from another index: its reasons name that index, worded
    so by the derivations (never by rewriting the words of a generic reason)."""
    from scanner.records import Release

    index = "https://lab.example/simple"
    project = Project("lab-tool", release_versions=("1.0",), releases={"1.0": Release(None)})
    record = IndexRecord("lab-tool", "found", project=project, other_index=index)
    missing = build_facts(
        Package(name="lab-tool", version="2.0"), record, bundled_top_packages(), {}, history={}
    )
    assert missing.unknown["version_yanked"] == f"{index} has no release 2.0"
    assert missing.unknown["file_hashes"] == f"{index} lists no files for this version"
    assert "PEP 700" in missing.unknown["first_release"]  # no upload times at all
    undated = build_facts(
        Package(name="lab-tool", version="1.0"), record, bundled_top_packages(), {}, history={}
    )
    assert "PEP 700" in undated.unknown["version_upload_time"]


def test_whether_the_requirers_are_well_kept_is_unknown_with_whose_facts_are_missing():
    from scanner.facts.derive import add_requirer_facts

    facts = {
        "child": Facts({"download_rank": 0, "organization": ""}),
        "kept": Facts({"download_rank": 10, "organization": ""}),
        "unseen": Facts({}, {"download_rank": "offline"}),
    }
    out = add_requirer_facts(facts, {"child": ["unseen"], "unseen": ["kept"]})
    assert "required_by_well_kept" not in out["child"].values
    assert out["child"].unknown["required_by_well_kept"] == (
        "the usage or ownership of its requirer unseen is unknown"
    )
    assert out["unseen"].values["required_by_well_kept"] == ["kept"]
