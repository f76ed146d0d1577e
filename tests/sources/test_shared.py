"""The scans of one command (a gate's or a diff's two sides) share the index's fresh
answers: the second side neither reads nor decodes again what the first read, and an
answer from an expired cache entry is asked for again, so each side still says so."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import httpx
import pytest

from scanner import resolve as resolve_module
from scanner import scan as pipeline
from scanner.gate import no_progress, run_gate
from scanner.inputs.specs import parse_spec_arguments
from scanner.inputs.target import target_environment
from scanner.options import ScanOptions
from scanner.resolve import resolve
from scanner.sources.http import Fetcher
from scanner.sources.index import METADATA_KIND, RANGE_METADATA_KIND, RELEASES_KIND
from scanner.sources.pypi import PROJECT_KIND
from scanner.sources.shared import SharedAnswers
from scanner.store import Store
from tests.test_gate import DAPY, SIX, repository


@pytest.fixture
def cache_reads(monkeypatch) -> Counter:
    """How many cache entries of each kind were read."""
    reads: Counter = Counter()
    get, get_many = Store.get, Store.get_many

    def counted_get(self, url, kind):
        reads[kind] += 1
        return get(self, url, kind)

    def counted_get_many(self, urls, kind):
        reads[kind] += len(urls)
        return get_many(self, urls, kind)

    monkeypatch.setattr(Store, "get", counted_get)
    monkeypatch.setattr(Store, "get_many", counted_get_many)
    return reads


def resolved(index, tmp_path, shared, **fetcher_settings):
    store = Store(tmp_path / "cache.db")
    try:
        return resolve(
            parse_spec_arguments(["requests", "rich>=13"]),
            target_environment("3.11", "linux"),
            lambda: Fetcher(store, shared=shared, **fetcher_settings),
            index.simple_url,
        )
    finally:
        store.close()


def test_a_second_resolution_reuses_the_first_ones_pages_and_metadata(
    fixture_index, tmp_path, cache_reads, monkeypatch
):
    resolved(fixture_index, tmp_path, None)  # fills the cache
    shared = SharedAnswers()
    first = resolved(fixture_index, tmp_path, shared)
    read_by_first = cache_reads.copy()
    crawled = []
    prefetch = resolve_module._IndexCache.prefetch
    monkeypatch.setattr(
        resolve_module._IndexCache,
        "prefetch",
        lambda self, requirement: crawled.append(requirement) or prefetch(self, requirement),
    )
    second = resolved(fixture_index, tmp_path, shared)
    assert second == first
    assert crawled == []  # every answer read as the resolver asks, none fetched ahead
    assert read_by_first[RELEASES_KIND] >= 9
    index_kinds = (RELEASES_KIND, METADATA_KIND, RANGE_METADATA_KIND)
    assert all(cache_reads[kind] == read_by_first[kind] for kind in index_kinds), cache_reads


def test_answers_from_expired_entries_are_not_shared_each_resolution_says_so(
    fixture_index, tmp_path
):
    resolved(fixture_index, tmp_path, None)
    failing = httpx.MockTransport(lambda request: httpx.Response(503))
    shared = SharedAnswers()
    first = resolved(fixture_index, tmp_path, shared, ttl=0, transport=failing)
    second = resolved(fixture_index, tmp_path, shared, ttl=0, transport=failing)
    assert first.notes and first.notes == second.notes
    assert "because the index failed (HTTP 503" in second.notes[0]


def test_a_second_scan_reuses_the_project_records_and_gives_the_same_facts(
    fixture_index, tmp_path, cache_reads
):
    options = ScanOptions(
        index_url=fixture_index.simple_url,
        cache_path=tmp_path / "cache.db",
        python_version="3.11",
        platform="linux",
    )

    def scanned(options):
        return pipeline.scan(pipeline.read_targets(("requests",), options), options)

    scanned(options)  # fills the cache and the scan history
    sharing = replace(options, shared=SharedAnswers())
    first = scanned(sharing)
    read_by_first = cache_reads[PROJECT_KIND]
    second = scanned(sharing)
    assert cache_reads[PROJECT_KIND] == read_by_first > 0
    alone = scanned(options)
    for result in (first, second):
        # The scan history's ownership is stamped with each scan's own time.
        assert {
            n: replace(f, values={**f.values, "ownership_last_seen": ""})
            for n, f in result.facts.items()
        } == {
            n: replace(f, values={**f.values, "ownership_last_seen": ""})
            for n, f in alone.facts.items()
        }
        assert result.findings == alone.findings and result.notes == alone.notes


def test_a_gate_shares_the_answers_of_its_two_sides(fixture_index, tmp_path, monkeypatch):
    reused: list[str] = []

    class Counting(SharedAnswers):
        def get(self, kind, key):
            answer = super().get(kind, key)
            if answer is not None:
                reused.append(kind)
            return answer

    monkeypatch.setattr("scanner.gate.SharedAnswers", Counting)
    repo = repository(tmp_path, [SIX], [SIX, DAPY])
    monkeypatch.chdir(repo)
    options = ScanOptions(
        index_url=fixture_index.simple_url,
        cache_path=tmp_path / "cache.db",
        python_version="3.11",
        platform="linux",
    )
    result = run_gate(("pylock.toml",), "git:HEAD~1", options, None, False, no_progress, repo)
    assert result.verdict.outcome == "fail"
    assert reused and set(reused) == {PROJECT_KIND}  # six: the change asked first, then the base
