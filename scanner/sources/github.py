"""GitHub's REST API (api.github.com, or a GitHub Enterprise server's `/api/v3`): the
repository a package links (or was installed from) and who writes its code.

Per repository: `GET /repos/{owner}/{repo}` (stars, forks, archived, last push, created,
owner type, licence) and `GET /repos/{owner}/{repo}/contributors` (commit counts, pages
followed by their Link header, at most MAX_CONTRIBUTOR_PAGES). Answers are cached with
their ETag, and asked again conditionally: a 304 costs no rate limit.

A token from GITHUB_TOKEN or GH_TOKEN goes to the API's own host and nowhere else, and
never into the cache, a message or a report. Rate limits are honoured: once GitHub says
the primary limit is spent (x-ratelimit-remaining 0) or asks to wait longer than
SECONDARY_WAIT_LIMIT (a secondary limit's retry-after), nothing more is asked; the facts
not yet known are unknown, and a note says why.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scanner.model import Package
from scanner.names import linked_repository, repository_path
from scanner.records import IndexRecord, SourceAnswer
from scanner.sources.http import DEFAULT_TTL, Fetcher, decode_json
from scanner.sources.interface import REPOSITORY_HOST

PUBLIC_API = "https://api.github.com"
MAX_CONTRIBUTOR_PAGES = 5  # 500 contributors: more do not change a bus factor
SECONDARY_WAIT_LIMIT = 10.0  # seconds a secondary rate limit may make the scan wait
CONCURRENCY = 8  # GitHub asks clients not to make many concurrent requests
REPOSITORY_FACTS = (
    "repository_stars",
    "repository_forks",
    "repository_archived",
    "repository_pushed_at",
    "repository_created_at",
    "repository_owner_type",
    "repository_license",
)


class RateLimited(Exception):
    """GitHub's rate limit is spent for this scan (str: why, for the facts)."""


def github_token(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return (environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN") or "").strip()


def web_host(base_url: str) -> str:
    """The host whose repository URLs the API at `base_url` answers for: a GitHub
    Enterprise server's API lives at `https://HOST/api/v3` and knows HOST's repositories
    only; any other base (api.github.com, a proxy or mirror of it) answers for github.com."""
    parts = urlsplit(base_url)
    if parts.path.rstrip("/").endswith("/api/v3") and parts.hostname:
        return parts.hostname.lower()
    return "github.com"


def repository_of(
    package: Package, record: IndexRecord | None, host: str = "github.com"
) -> tuple[str, str] | None:
    """(owner, repository) on `host` that the package was installed from or links. A
    repository elsewhere is never asked of this API: an Enterprise server may hold a
    repository of the same name, whose facts would be borrowed."""
    urls = []
    if package.direct_url:
        url = package.direct_url.removeprefix("git+").split("@", 1)[0]
        urls.append(url if "://" in package.direct_url else "")
    if record is not None and record.status == "found" and record.project is not None:
        urls.append(linked_repository(record.project.project_urls, record.project.home_page))
    for url in urls:
        parsed = repository_path(url, (host,)) if url else None
        if parsed and parsed[0] == host:
            return parsed[1], parsed[2]
    return None


def repository_values(document: Any) -> dict[str, Any]:
    """The facts of one repository object (GET /repos/{owner}/{repo})."""
    if not isinstance(document, dict) or not isinstance(document.get("stargazers_count"), int):
        raise ValueError("not a repository object")
    licence = document.get("license") or {}
    owner = document.get("owner") or {}
    return {
        "repository_stars": document["stargazers_count"],
        "repository_forks": int(document.get("forks_count") or 0),
        "repository_archived": bool(document.get("archived")),
        "repository_pushed_at": str(document.get("pushed_at") or "")[:40],
        "repository_created_at": str(document.get("created_at") or "")[:40],
        "repository_owner_type": str(owner.get("type") or "")[:40],
        "repository_license": str(licence.get("spdx_id") or "")[:100]
        if isinstance(licence, dict)
        else "",
    }


def contributor_commits(page: Any) -> list[int]:
    """Commit counts of one contributors page, as listed."""
    if not isinstance(page, list):
        raise ValueError("not a list of contributors")
    return [int(c["contributions"]) for c in page if isinstance(c, dict)]


def next_link(header: str) -> str:
    """The rel="next" URL of a Link header, "" when there is none (RFC 8288)."""
    for part in header.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") and target.strip().startswith("<"):
            return target.strip()[1:-1]
    return ""


class GitHubSource:
    info = REPOSITORY_HOST
    name = info.name
    facts_provided = info.facts_provided

    def __init__(self, fetcher: Fetcher, base_url: str, token: str | None = None) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self.host = web_host(self.base_url)
        self._token = github_token() if token is None else token
        self._limited = ""  # why nothing more is asked, once the rate limit is spent
        self._semaphore = asyncio.Semaphore(CONCURRENCY)
        self.notes: list[str] = []

    async def gather(
        self, packages: Sequence[Package], index: Mapping[str, IndexRecord]
    ) -> dict[str, SourceAnswer]:
        repositories = {p.name: repository_of(p, index.get(p.name), self.host) for p in packages}
        wanted = sorted({r for r in repositories.values() if r is not None})
        found = dict(
            zip(wanted, await asyncio.gather(*(self._one(*r) for r in wanted)), strict=True)
        )
        answers = {}
        for package in packages:
            repository = repositories[package.name]
            if repository is None:
                why = f"it links no repository on {self.host}"
                answers[package.name] = SourceAnswer({}, dict.fromkeys(self.facts_provided, why))
            else:
                answers[package.name] = found[repository]
        skipped = sum(1 for r in wanted if "rate limit" in str(found[r].unknown))
        if self._limited and skipped:
            self.notes.append(
                f"rate-limited: GitHub facts of {skipped} of {len(wanted)} repositories are "
                f"unknown: {self._limited}"
                + ("" if self._token else " (set GITHUB_TOKEN for a higher limit)")
            )
        return answers

    async def _one(self, owner: str, repository: str) -> SourceAnswer:
        values: dict[str, Any] = {}
        unknown: dict[str, str] = {}
        base = f"{self.base_url}/repos/{owner}/{repository}"
        try:
            document = await self._get(base, "github-repository", repository_values)
            if isinstance(document, str):
                unknown.update(dict.fromkeys(REPOSITORY_FACTS, document))
            else:
                values.update(document)
            commits = await self._contributors(f"{base}/contributors?per_page=100")
            if isinstance(commits, str):
                unknown["contributor_commits"] = commits
            else:
                values["contributor_commits"] = commits
        except RateLimited as exc:
            for fact in self.facts_provided:
                if fact not in values:
                    unknown[fact] = str(exc)
        except (OSError, ValueError) as exc:
            for fact in self.facts_provided:
                if fact not in values:
                    unknown[fact] = f"GitHub: {exc}"
        return SourceAnswer(values, unknown)

    async def _contributors(self, url: str) -> list[int] | str:
        """Every contributor's commit count (cached whole under the first page's URL and
        ETag), or why not."""
        store = self.fetcher.store
        cached = store.get(url, "github-contributors")
        if cached is not None and (self.fetcher.offline or self._fresh(cached)):
            return list(cached.data)
        if self.fetcher.offline:
            return "offline, and not in the cache"
        answer = await self._request(url, cached.etag if cached else None)
        if answer.status_code == 304 and cached is not None:
            store.touch(url, "github-contributors")
            return list(cached.data)
        if answer.status_code == 204:  # an empty repository
            commits: list[int] = []
        elif answer.status_code != 200:
            return self._why(answer)
        else:
            commits = contributor_commits(decode_json(answer.body))
            link = next_link(answer.headers.get("link", ""))
            pages = 1
            while link and pages < MAX_CONTRIBUTOR_PAGES and self._ours(link):
                more = await self._request(link, None)
                if more.status_code != 200:
                    return self._why(more)
                commits += contributor_commits(decode_json(more.body))
                link = next_link(more.headers.get("link", ""))
                pages += 1
        store.put(url, "github-contributors", commits, answer.headers.get("etag"), None)
        return commits

    async def _get(self, url: str, kind: str, extract) -> dict | str:
        store = self.fetcher.store
        cached = store.get(url, kind)
        if cached is not None and (self.fetcher.offline or self._fresh(cached)):
            return cached.data
        if self.fetcher.offline:
            return "offline, and not in the cache"
        answer = await self._request(url, cached.etag if cached else None)
        if answer.status_code == 304 and cached is not None:
            store.touch(url, kind)
            return cached.data
        if answer.status_code != 200:
            return self._why(answer)
        data = extract(decode_json(answer.body))
        store.put(url, kind, data, answer.headers.get("etag"), None)
        return data

    def _fresh(self, cached) -> bool:
        return not self.fetcher.refresh and cached.age() < DEFAULT_TTL

    def _ours(self, url: str) -> bool:
        """The token goes to the API's own origin only, whatever a Link header says."""
        asked, other = urlsplit(self.base_url), urlsplit(url)
        return (asked.scheme, asked.netloc) == (other.scheme, other.netloc)

    async def _request(self, url: str, etag: str | None):
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        if etag:
            headers["If-None-Match"] = etag
        if self._token and self._ours(url):
            headers["Authorization"] = f"Bearer {self._token}"
        for _ in range(2):
            if self._limited:
                raise RateLimited(self._limited)
            async with self._semaphore:
                answer = await self.fetcher.call(url, headers=headers)
            wait = self._rate_limit(answer)
            if wait is None:
                return answer
            await asyncio.sleep(wait)
        return answer

    def _rate_limit(self, answer) -> float | None:
        """Seconds to wait before asking again (a short secondary limit), or None when
        the answer stands; a spent limit sets `_limited` and raises RateLimited."""
        headers = answer.headers
        status = answer.status_code
        remaining = headers.get("x-ratelimit-remaining")
        if status in (403, 429):
            retry_after = headers.get("retry-after", "")
            if retry_after.isdigit() and int(retry_after) <= SECONDARY_WAIT_LIMIT:
                return float(retry_after)
            if retry_after.isdigit():
                self._limited = f"GitHub's secondary rate limit asked to wait {int(retry_after)} s"
                raise RateLimited(self._limited)
            if remaining == "0":
                self._limited = f"GitHub's rate limit ran out{_reset(headers)}"
                raise RateLimited(self._limited)
            return None
        if remaining == "0" and status in (200, 304):
            # This answer stands; the next request would be refused.
            self._limited = f"GitHub's rate limit ran out{_reset(headers)}"
        return None

    def _why(self, answer) -> str:
        if answer.status_code == 404:
            return f"GitHub has no such repository (HTTP 404 from {answer.url})"
        if answer.status_code in (401, 403):
            return f"GitHub refused access (HTTP {answer.status_code} from {answer.url})"
        return f"GitHub answered HTTP {answer.status_code} from {answer.url}"


def _reset(headers: Mapping[str, str]) -> str:
    reset = headers.get("x-ratelimit-reset", "")
    if not reset.isdigit():
        return ""
    when = datetime.fromtimestamp(int(reset), UTC)
    minutes = max(0, round((int(reset) - time.time()) / 60))
    return f" (it resets at {when:%H:%M} UTC, in {minutes} min)"
