"""The enrichment sources against a local server on 127.0.0.1 replaying recorded
responses: OSV (querybatch, then each advisory; the imported dump offline), GitHub
(repository, contributors over pages, ETag, rate limits, errors), and the fetcher's
circuit breaker for hosts that do not answer."""

from __future__ import annotations

import asyncio
import gzip
import json
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scanner.endpoints import choose_endpoints
from scanner.facts.enrichment import answer_facts, bus_factor, osv_vulnerability_facts
from scanner.facts.gather import unreachable_notes
from scanner.model import Package
from scanner.records import IndexRecord, Project, SourceAnswer
from scanner.sources.github import GitHubSource, next_link
from scanner.sources.http import BREAKER_FAILURES, Fetcher, HostUnreachable
from scanner.sources.interface import gather_all
from scanner.sources.osv import OSVSource, advisory, affects, import_dump
from scanner.store import Store
from tests.api_server import Reply, replay_server
from tests.conftest import FIXTURES
from tests.fault_server import unanswered_port
from tests.test_rules import NOW

APIS = FIXTURES / "apis"
JINJA = Package("jinja2", "3.1.2")
OLD_JINJA = Package("jinja2", "3.0.1")


def recorded(name: str):
    return json.loads((APIS / name).read_text())


def run_source(make, packages, index, tmp_path: Path, *, offline=False, store=None):
    async def go():
        own = store or Store(tmp_path / "db")
        fetcher = Fetcher(own, offline=offline)
        try:
            source = make(fetcher)
            answers = await gather_all([source], packages, index)
            return answers, source, fetcher.unreachable_hosts()
        finally:
            await fetcher.aclose()
            own.flush()
            if store is None:
                own.close()

    return asyncio.run(go())


def no_vulnerabilities_listed(name: str) -> IndexRecord:
    """A mirror's record: the project found, its version's vulnerabilities not listed."""
    return IndexRecord(name, "found", Project(name), version_vulnerabilities=None)


# --- OSV ---------------------------------------------------------------------------------


def test_osv_asks_querybatch_then_each_advisory_and_the_rule_facts_follow(tmp_path):
    with replay_server() as api:
        api.route(
            "POST /v1/querybatch",
            Reply(200, {"results": [{"vulns": [{"id": "GHSA-h5c8-rqwp-cp95"}]}]}),
        )
        api.route(
            "GET /v1/vulns/GHSA-h5c8-rqwp-cp95",
            Reply(200, recorded("osv-GHSA-h5c8-rqwp-cp95.json")),
        )
        answers, _, _ = run_source(
            lambda f: OSVSource(f, api.url),
            [JINJA],
            {"jinja2": no_vulnerabilities_listed("jinja2")},
            tmp_path,
        )
    query = json.loads(api.seen[0].body)
    assert query == {
        "queries": [{"package": {"name": "jinja2", "ecosystem": "PyPI"}, "version": "3.1.2"}]
    }
    [vuln] = answers["jinja2"].values["osv_vulnerabilities"]
    assert vuln["id"] == "GHSA-h5c8-rqwp-cp95"
    assert vuln["aliases"] == ["CVE-2024-22195"]
    assert vuln["fixed_in"] == ["3.1.3"]
    assert vuln["severity"] == "medium" and vuln["score"] == 5.4
    values, unknown = dict(answers["jinja2"].values), {}
    osv_vulnerability_facts(values, unknown)
    assert values["vulnerability_count"] == 1
    assert values["vulnerability_ids"] == ["CVE-2024-22195", "GHSA-h5c8-rqwp-cp95"]
    assert values["fixed_versions"] == ["3.1.3"]
    assert values["vulnerability_severity"] == "medium"


def test_osv_is_not_asked_where_the_index_lists_vulnerabilities_or_knows_no_such_project(
    tmp_path,
):
    index = {
        "jinja2": IndexRecord("jinja2", "found", Project("jinja2"), version_vulnerabilities=()),
        "acme-internal": IndexRecord("acme-internal", "not-found"),
    }
    with replay_server() as api:
        answers, _, _ = run_source(
            lambda f: OSVSource(f, api.url),
            [JINJA, Package("acme-internal", "1.0")],
            index,
            tmp_path,
        )
    assert api.seen == []  # an internal name is never sent
    assert "index lists" in answers["jinja2"].unknown["osv_vulnerabilities"]
    assert "not sent" in answers["acme-internal"].unknown["osv_vulnerabilities"]


def test_a_critical_cvss_makes_the_severity_critical_and_version_ranges_match():
    record = advisory(recorded("osv-PYSEC-2023-critical.json"), "jinja2")
    assert record["severity"] == "critical" and record["score"] == 9.8
    assert record["fixed_in"] == ["2.10.1"]
    assert affects(record, "2.5") and affects(record, "3.0.2") and affects(record, "3.0.1")
    assert not affects(record, "2.10.1") and not affects(record, "3.0.3")
    assert not affects(record, "1.9")
    moderate = advisory(recorded("osv-GHSA-h5c8-rqwp-cp95.json"), "jinja2")
    assert affects(moderate, "3.1.2") and not affects(moderate, "3.1.3")


def test_the_imported_dump_answers_offline(tmp_path):
    dump = tmp_path / "all.zip"
    with zipfile.ZipFile(dump, "w") as archive:
        for name in ("osv-GHSA-h5c8-rqwp-cp95.json", "osv-PYSEC-2023-critical.json"):
            archive.writestr(name.removeprefix("osv-"), (APIS / name).read_text())
    store = Store(tmp_path / "db")
    try:
        assert import_dump(store, dump) == 2
        answers, _, _ = run_source(
            lambda f: OSVSource(f, "https://osv.invalid"),
            [OLD_JINJA],
            {"jinja2": no_vulnerabilities_listed("jinja2")},
            tmp_path,
            offline=True,
            store=store,
        )
    finally:
        store.close()
    vulns = answers["jinja2"].values["osv_vulnerabilities"]
    assert [v["id"] for v in vulns] == ["GHSA-h5c8-rqwp-cp95", "PYSEC-2023-999"]
    values, unknown = dict(answers["jinja2"].values), {}
    osv_vulnerability_facts(values, unknown)
    assert values["vulnerability_severity"] == "critical"


def test_offline_without_a_dump_osv_facts_are_unknown_with_why(tmp_path):
    answers, _, _ = run_source(
        lambda f: OSVSource(f, "https://osv.invalid"),
        [JINJA],
        {"jinja2": no_vulnerabilities_listed("jinja2")},
        tmp_path,
        offline=True,
    )
    assert "offline" in answers["jinja2"].unknown["osv_vulnerabilities"]


def test_osv_answering_5xx_leaves_the_facts_unknown(tmp_path):
    with replay_server() as api:
        api.route("POST /v1/querybatch", Reply(503, b"busy"))
        answers, _, _ = run_source(
            lambda f: OSVSource(f, api.url),
            [JINJA],
            {"jinja2": no_vulnerabilities_listed("jinja2")},
            tmp_path,
        )
    assert "HTTP 503" in answers["jinja2"].unknown["osv_vulnerabilities"]


# --- GitHub ------------------------------------------------------------------------------

PYGITHUB = Package("pygithub", "2.5.0")
SECRET = "ghp_" + "made-up-token"


def linking(name: str, url: str) -> IndexRecord:
    return IndexRecord(name, "found", Project(name, project_urls={"Source": url}))


PYGITHUB_INDEX = {"pygithub": linking("pygithub", "https://github.com/PyGithub/PyGithub")}


def contributors_page(counts: list[int]) -> list[dict]:
    shape = recorded("contributors-PyGithub-PyGithub-2012.json")[0]
    return [{**shape, "login": f"user{i}", "contributions": n} for i, n in enumerate(counts)]


def serve_pygithub(api, *, etag: str = '"repo-v1"') -> None:
    api.route(
        "GET /repos/pygithub/pygithub",
        Reply(200, recorded("repo-PyGithub-PyGithub.json"), {"ETag": etag}),
    )
    api.route(
        "GET /repos/pygithub/pygithub/contributors?per_page=100",
        Reply(
            200,
            recorded("contributors-PyGithub-PyGithub-2012.json") + contributors_page([100, 50]),
            {
                "Link": "<{url}/repos/pygithub/pygithub/contributors?per_page=100&page=2>; "
                'rel="next", <{url}/x?page=2>; rel="last"',
                "ETag": '"c1"',
            },
        ),
    )
    api.route(
        "GET /repos/pygithub/pygithub/contributors?per_page=100&page=2",
        Reply(200, contributors_page([40, 30, 5])),
    )


def test_github_repository_and_contributors_over_pages(tmp_path):
    with replay_server() as api:
        serve_pygithub(api)
        answers, _, _ = run_source(
            lambda f: GitHubSource(f, api.url, SECRET),
            [PYGITHUB],
            PYGITHUB_INDEX,
            tmp_path,
        )
    values = answers["pygithub"].values
    assert values["repository_stars"] == 7701 and values["repository_forks"] == 1874
    assert values["repository_archived"] is False
    assert values["repository_owner_type"] == "Organization"
    assert values["repository_license"] == "LGPL-3.0"
    assert values["contributor_commits"] == [355, 100, 50, 40, 30, 5]
    facts, unknown = dict(values), {}
    answer_facts(SourceAnswer(values, {}), facts, unknown, NOW)
    assert facts["contributors"] == 6
    assert facts["bus_factor"] == 1  # 355 of 580 commits
    assert facts["top_contributor_share"] == round(355 / 580, 3)
    assert facts["enrichment"]["repository_stars"] == 7701
    # The token went to the API's host; it is nowhere in the cache.
    assert all(s.headers.get("authorization") == f"Bearer {SECRET}" for s in api.seen)
    assert SECRET.encode() not in (tmp_path / "db").read_bytes()


def test_github_asks_again_with_the_etag_and_a_304_keeps_the_cached_facts(tmp_path):
    store = Store(tmp_path / "db")
    try:
        with replay_server() as api:
            serve_pygithub(api)
            run_source(
                lambda f: GitHubSource(f, api.url, ""),
                [PYGITHUB],
                PYGITHUB_INDEX,
                tmp_path,
                store=store,
            )
            store.conn.execute("UPDATE http_answers SET fetched_at = 0")  # expired
            api.route("GET /repos/pygithub/pygithub", Reply(304, None))
            api.route("GET /repos/pygithub/pygithub/contributors?per_page=100", Reply(304))
            api.seen.clear()
            answers, _, _ = run_source(
                lambda f: GitHubSource(f, api.url, ""),
                [PYGITHUB],
                PYGITHUB_INDEX,
                tmp_path,
                store=store,
            )
    finally:
        store.close()
    assert api.seen[0].headers["if-none-match"] == '"repo-v1"'
    assert "authorization" not in api.seen[0].headers
    assert answers["pygithub"].values["repository_stars"] == 7701
    assert answers["pygithub"].values["contributor_commits"] == [355, 100, 50, 40, 30, 5]


def test_github_rate_limit_spent_leaves_the_rest_unknown_and_says_so(tmp_path):
    others = [Package(f"p{i}", "1.0") for i in range(3)]
    index = {p.name: linking(p.name, f"https://github.com/o/p{p.name}") for p in others}
    with replay_server() as api:
        api.route(
            "GET /repos/o/pp0",
            Reply(
                403,
                {"message": "API rate limit exceeded"},
                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "2000000000"},
            ),
        )
        api.route(
            "GET /repos/o/pp1",
            Reply(403, {"message": "API rate limit exceeded"}, {"x-ratelimit-remaining": "0"}),
        )
        api.route(
            "GET /repos/o/pp2",
            Reply(403, {"message": "API rate limit exceeded"}, {"x-ratelimit-remaining": "0"}),
        )
        answers, source, _ = run_source(
            lambda f: GitHubSource(f, api.url, ""), others, index, tmp_path
        )
    for package in others:
        assert "rate limit ran out" in answers[package.name].unknown["repository_stars"]
    assert len(source.notes) == 1
    assert source.notes[0].startswith("rate-limited:") and "GITHUB_TOKEN" in source.notes[0]


def test_github_secondary_limit_with_a_short_retry_after_is_waited_out(tmp_path):
    with replay_server() as api:
        serve_pygithub(api)
        api.route(
            "GET /repos/pygithub/pygithub",
            Reply(429, {"message": "secondary rate limit"}, {"Retry-After": "0"}),
            Reply(200, recorded("repo-PyGithub-PyGithub.json")),
        )
        answers, _, _ = run_source(
            lambda f: GitHubSource(f, api.url, ""), [PYGITHUB], PYGITHUB_INDEX, tmp_path
        )
    assert answers["pygithub"].values["repository_stars"] == 7701


@pytest.mark.parametrize(("status", "words"), [(404, "no such repository"), (502, "HTTP 502")])
def test_github_errors_leave_the_facts_unknown_with_why(tmp_path, status, words):
    with replay_server() as api:
        api.route("GET /repos/pygithub/pygithub", Reply(status, {"message": "x"}))
        answers, _, _ = run_source(
            lambda f: GitHubSource(f, api.url, ""), [PYGITHUB], PYGITHUB_INDEX, tmp_path
        )
    assert words in answers["pygithub"].unknown["repository_stars"]
    assert "repository_stars" not in answers["pygithub"].values


def test_a_package_installed_from_github_is_asked_about_its_repository(tmp_path):
    package = Package("pygithub", "", direct_url="git+https://github.com/PyGithub/PyGithub@main")
    with replay_server() as api:
        serve_pygithub(api)
        answers, _, _ = run_source(lambda f: GitHubSource(f, api.url, ""), [package], {}, tmp_path)
    assert answers["pygithub"].values["repository_stars"] == 7701


def test_a_github_enterprise_server_is_asked_about_its_own_repositories_only(tmp_path):
    """With the API at https://HOST/api/v3, a package linking HOST/owner/repo is asked
    about; one linking github.com is not (the server may hold a same-named repository,
    whose facts would be borrowed): its facts are unknown and say why."""
    internal = Package("ml-tools", "1.0")
    with replay_server() as api:
        api.route(
            "GET /api/v3/repos/ml/tools",
            Reply(200, recorded("repo-PyGithub-PyGithub.json")),
        )
        api.route("GET /api/v3/repos/ml/tools/contributors?per_page=100", Reply(200, []))
        host = urlsplit(api.url).hostname
        index = {
            "ml-tools": linking("ml-tools", f"https://{host}/ML/tools"),
            **PYGITHUB_INDEX,
        }
        answers, _, _ = run_source(
            lambda f: GitHubSource(f, f"{api.url}/api/v3", ""),
            [internal, PYGITHUB],
            index,
            tmp_path,
        )
        asked = [seen.path for seen in api.seen]
    assert answers["ml-tools"].values["repository_stars"] == 7701
    assert answers["pygithub"].unknown["repository_stars"] == f"it links no repository on {host}"
    assert asked and not [path for path in asked if "pygithub" in path]


def test_next_link_reads_the_link_header():
    header = (
        '<https://api.github.com/x?page=2>; rel="next", '
        '<https://api.github.com/x?page=9>; rel="last"'
    )
    assert next_link(header) == "https://api.github.com/x?page=2"
    assert next_link('<https://api.github.com/x?page=1>; rel="prev"') == ""


def test_bus_factor():
    assert bus_factor([10]) == 1
    assert bus_factor([5, 5]) == 1
    assert bus_factor([4, 3, 3]) == 2
    assert bus_factor([1] * 10) == 5


# --- unreachable hosts: the circuit breaker --------------------------------------------


def test_a_silent_host_is_given_up_after_a_few_connections(tmp_path):
    packages = [Package(f"p{i}", "1.0") for i in range(40)]
    index = {p.name: linking(p.name, f"https://github.com/o/{p.name}") for p in packages}
    with unanswered_port("stall") as hole:
        base = hole.url.rsplit("/", 1)[0]
        answers, _, broken = run_source(
            lambda f: GitHubSource(f, base, ""), packages, index, tmp_path
        )
        connections = len(hole.connections)
    assert connections <= BREAKER_FAILURES
    [(host, why)] = broken.items()
    assert host.startswith("127.0.0.1:") and why.startswith(f"{host} could not be reached")
    # One cause in one set of words, whether a package was asked before the breaker
    # opened or after (a report's "why unknown" lists each reason once).
    assert {a.unknown["repository_stars"] for a in answers.values()} == {f"GitHub: {why}"}
    [note] = unreachable_notes(broken, answers)
    assert note == (
        f"unreachable: {why}; not asked again in this scan: "
        f"{40 * len(GitHubSource.facts_provided)} facts unknown"
    )


def test_a_refused_host_is_given_up_and_later_requests_are_not_sent(tmp_path):
    import socket

    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    url = f"http://127.0.0.1:{bound.getsockname()[1]}/v1/vulns/X"

    async def go():
        store = Store(tmp_path / "db")
        fetcher = Fetcher(store)
        failures = []
        try:
            for _ in range(BREAKER_FAILURES + 2):
                with pytest.raises(HostUnreachable) as caught:
                    await fetcher.call(url)
                failures.append(str(caught.value))
        finally:
            await fetcher.aclose()
            store.close()
        return failures, fetcher.requests_sent

    try:
        failures, sent = asyncio.run(go())
    finally:
        bound.close()
    assert sent == BREAKER_FAILURES
    assert len(set(failures)) == 1 and "could not be reached" in failures[0]


def test_endpoints_from_the_command_line_the_environment_and_the_config():
    chosen = choose_endpoints(
        ("github",),
        {"osv": "https://osv.mirror.example/", "depsdev": False},
        {"TRUSTMAP_OSV_API_URL": "http://127.0.0.1:9"},
    )
    assert chosen.url("osv") == "http://127.0.0.1:9"  # the environment beats the config
    assert chosen.url("github") is None and "--no-github" in chosen.why_off["github"]
    assert chosen.url("depsdev") is None and "config" in chosen.why_off["depsdev"]
    assert choose_endpoints((), {}, {}).url("github") == "https://api.github.com"
    off = choose_endpoints((), {"osv": "https://x.example"}, {"TRUSTMAP_OSV_API_URL": "off"})
    assert off.url("osv") is None


def test_osv_sends_a_small_first_batch_then_large_ones(tmp_path):
    from scanner.sources.osv import FIRST_BATCH

    packages = [Package(f"p{i:03}", "1.0") for i in range(FIRST_BATCH + 10)]
    index = {p.name: no_vulnerabilities_listed(p.name) for p in packages}
    with replay_server() as api:
        api.route(
            "POST /v1/querybatch",
            Reply(200, {"results": [{}] * FIRST_BATCH}),
            Reply(200, {"results": [{}] * 10}),
        )
        answers, _, _ = run_source(lambda f: OSVSource(f, api.url), packages, index, tmp_path)
    sizes = [len(json.loads(seen.body)["queries"]) for seen in api.seen]
    assert sizes == [FIRST_BATCH, 10]
    assert all(a.values["osv_vulnerabilities"] == [] for a in answers.values())


# --- PEP 792 project status --------------------------------------------------------------


def found(*names: str) -> dict[str, IndexRecord]:
    return {n: IndexRecord(n, "found", Project(n)) for n in names}


def test_project_status_from_json_and_html_simple_pages(tmp_path):
    from scanner.sources.project_status import ProjectStatusSource

    recorded_page = json.loads(
        gzip.decompress((FIXTURES / "index/simple/idna.json.gz").read_bytes())
    )
    html = (
        b"<!DOCTYPE html><html><head>"
        b'<meta name="pypi:repository-version" content="1.4">'
        b'<meta name="pypi:project-status" content="archived">'
        b'<meta name="pypi:project-status-reason" content="use &lt;b&gt;six2&lt;/b&gt;">'
        b"<title>Links for old</title></head><body></body></html>"
    )
    with replay_server() as api:
        api.route(
            "GET /simple/evil/",
            Reply(
                200,
                {
                    **recorded_page,
                    "meta": {"api-version": "1.4"},
                    "project-status": {"status": "quarantined", "reason": "malware"},
                },
            ),
        )
        api.route(
            "GET /simple/idna/", Reply(200, {**recorded_page, "meta": {"api-version": "1.4"}})
        )
        api.route("GET /simple/old/", Reply(200, html, {"Content-Type": "text/html"}))
        answers, _, _ = run_source(
            lambda f: ProjectStatusSource(f, f"{api.url}/simple"),
            [Package("evil", "1.0"), Package("idna", "3.10"), Package("old", "1.0")],
            found("evil", "idna", "old"),
            tmp_path,
        )
    assert answers["evil"].values == {
        "project_status_served": True,
        "project_status": "quarantined",
        "project_status_reason": "malware",
    }
    assert answers["idna"].values["project_status"] == "active"  # 1.4, no marker
    assert answers["old"].values == {
        "project_status_served": True,
        "project_status": "archived",
        "project_status_reason": "use <b>six2</b>",
    }


def test_an_index_before_simple_api_1_4_is_asked_once_and_status_stays_unknown(tmp_path):
    from scanner.sources.project_status import ProjectStatusSource

    recorded_page = json.loads(
        gzip.decompress((FIXTURES / "index/simple/idna.json.gz").read_bytes())
    )
    names = ("idna", "six", "rich")
    with replay_server() as api:
        for name in names:
            api.route(f"GET /simple/{name}/", Reply(200, recorded_page))  # api-version 1.1
        answers, _, _ = run_source(
            lambda f: ProjectStatusSource(f, f"{api.url}/simple"),
            [Package(n, "1.0") for n in names],
            found(*names),
            tmp_path,
        )
    assert len(api.seen) == 1
    for name in names:
        assert "version 1.1, before 1.4" in answers[name].unknown["project_status"]
        assert answers[name].values == {"project_status_served": False}


# --- deps.dev, Scorecard, pypistats ------------------------------------------------------


def test_scorecard_checks_of_the_linked_repository(tmp_path):
    from scanner.sources.services import ScorecardSource

    index = {"oss-fuzz-tool": linking("oss-fuzz-tool", "https://github.com/google/oss-fuzz")}
    with replay_server() as api:
        api.route(
            "GET /projects/github.com/google/oss-fuzz",
            Reply(200, recorded("scorecard-api-google-oss-fuzz.json")),
        )
        answers, _, _ = run_source(
            lambda f: ScorecardSource(f, api.url),
            [Package("oss-fuzz-tool", "1.0"), Package("local", "1.0")],
            {**index, "local": IndexRecord("local", "found", Project("local"))},
            tmp_path,
        )
    values = answers["oss-fuzz-tool"].values
    assert values["scorecard_score"] == 7.0 and values["scorecard_date"] == "2026-09-28"
    checks = values["scorecard_checks"]
    assert checks["Maintained"] == 10 and checks["Branch-Protection"] == -1
    assert checks["Dangerous-Workflow"] == 10 and checks["Signed-Releases"] == -1
    assert "links no GitHub repository" in answers["local"].unknown["scorecard_score"]


def test_pypistats_downloads_say_where_and_when_they_were_asked(tmp_path):
    from scanner.sources.services import PyPIStatsSource

    with replay_server() as api:
        api.route("GET /api/packages/pip/recent", Reply(200, recorded("pypistats-recent-pip.json")))
        api.route(
            "GET /api/packages/dapy/recent", Reply(200, recorded("pypistats-recent-dapy.json"))
        )
        answers, _, _ = run_source(
            lambda f: PyPIStatsSource(f, api.url),
            [Package("pip", "24.0"), Package("dapy", "0.1"), Package("acme-internal", "1.0")],
            {**found("pip", "dapy"), "acme-internal": IndexRecord("acme-internal", "not-found")},
            tmp_path,
        )
    assert answers["pip"].values["downloads_last_month"] == 67759913
    assert answers["dapy"].values["downloads_last_month"] == 445
    source = answers["dapy"].values["downloads_last_month_source"]
    assert source.startswith("127.0.0.1:") and ", asked 20" in source
    assert "not sent" in answers["acme-internal"].unknown["downloads_last_month"]
    assert [s.path for s in api.seen if "acme" in s.path] == []


def test_depsdev_version_facts_and_dependents(tmp_path):
    from scanner.sources.services import DepsDevSource

    base = "/v3/systems/pypi/packages/requests/versions/2.32.3"
    with replay_server() as api:
        api.route(f"GET {base}", Reply(200, recorded("depsdev-version-requests-2.32.3.json")))
        api.route(
            "GET /v3alpha/systems/pypi/packages/requests/versions/2.32.3:dependents",
            Reply(
                200,
                {
                    "dependentCount": 12345,
                    "directDependentCount": 9000,
                    "indirectDependentCount": 3345,
                },
            ),
        )
        api.route("GET /v3/systems/pypi/packages/gone/versions/1.0", Reply(404, {"error": "x"}))
        answers, _, _ = run_source(
            lambda f: DepsDevSource(f, api.url),
            [Package("requests", "2.32.3"), Package("gone", "1.0")],
            found("requests", "gone"),
            tmp_path,
        )
    values = answers["requests"].values
    assert values["dependent_packages"] == 12345
    assert values["depsdev_advisories"] == ["GHSA-9hjg-9r4m-mvj7"]
    assert values["depsdev_attested"] is True and values["depsdev_deprecated"] is False
    assert values["depsdev_published_at"] == "2024-05-29T15:37:47Z"
    assert "HTTP 404" in answers["gone"].unknown["depsdev_deprecated"]


def test_advisories_the_index_lists_get_their_severity_from_osv(tmp_path):
    listed = ({"id": "PYSEC-2023-999", "aliases": ["CVE-2023-99999"], "fixed_in": ["2.10.1"]},)
    record = IndexRecord("jinja2", "found", Project("jinja2"), version_vulnerabilities=listed)
    with replay_server() as api:
        api.route(
            "GET /v1/vulns/PYSEC-2023-999", Reply(200, recorded("osv-PYSEC-2023-critical.json"))
        )
        answers, _, _ = run_source(
            lambda f: OSVSource(f, api.url), [OLD_JINJA], {"jinja2": record}, tmp_path
        )
    assert [s.path for s in api.seen] == ["/v1/vulns/PYSEC-2023-999"]  # no querybatch
    values = {
        **answers["jinja2"].values,
        "vulnerabilities": [dict(v) for v in listed],
        "vulnerability_count": 1,
    }
    osv_vulnerability_facts(values, {})
    assert values["vulnerability_count"] == 1  # the index's list stands
    assert values["vulnerability_severity"] == "critical"
