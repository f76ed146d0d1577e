"""PEP 792 project status markers, from the configured index's simple API: `project-status`
({status, reason}) in a PEP 691 JSON page, `<meta name="pypi:project-status">` (and
`pypi:project-status-reason`) in an HTML one. A project is active, archived (no more
uploads), deprecated (obsolete) or quarantined (unsafe, e.g. malware: its files are not
served).

An index that implements PEP 792 says so with simple API version 1.4 or later; there, a
page without a marker means active. Whether the index does is learnt from the first page
asked (remembered for a day); on an index that does not, no further page is asked and
the status is unknown, with that reason: never "active".
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from typing import Any

from packaging.utils import canonicalize_name

from scanner.model import Package
from scanner.records import IndexRecord, SourceAnswer
from scanner.sources.http import Fetcher, decode_json, redact
from scanner.sources.interface import PROJECT_STATUS

PAGE_KIND = "simple-page-meta-v1"  # extract_page_meta
ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
FIRST_STATUS_API_VERSION = (1, 4)
STATUSES = ("active", "archived", "quarantined", "deprecated")


class _MetaReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            found = dict(attrs)
            name, content = found.get("name"), found.get("content")
            if name and content is not None:
                self.meta.setdefault(name.lower(), content)


def parse_page(body: bytes) -> dict[str, Any]:
    """A simple page, JSON or HTML, as JSON's shape (`meta.api-version`,
    `project-status`)."""
    try:
        document = decode_json(body)
    except ValueError:
        document = None
    if isinstance(document, dict):
        return document
    reader = _MetaReader()
    reader.feed(body.decode("utf-8", "replace"))
    meta = reader.meta
    page: dict[str, Any] = {"meta": {"api-version": meta.get("pypi:repository-version", "")}}
    if "pypi:project-status" in meta:
        page["project-status"] = {
            "status": meta["pypi:project-status"],
            "reason": meta.get("pypi:project-status-reason", ""),
        }
    return page


def extract_status(document: dict[str, Any], url: str = "") -> dict[str, Any]:
    """{api_version, status, reason} of a simple page; status "" when it has no marker."""
    api_version = str((document.get("meta") or {}).get("api-version") or "")[:20]
    marker = document.get("project-status")
    status, reason = "", ""
    if isinstance(marker, dict):
        status = str(marker.get("status") or "").strip().lower()[:40]
        reason = str(marker.get("reason") or "")[:500]
    return {"api_version": api_version, "status": status, "reason": reason}


def extract_page_meta(document: dict[str, Any], url: str = "") -> dict[str, Any]:
    """What project status and provenance (scanner.sources.provenance) read of a simple
    page: `extract_status`, and whether its files carry `provenance`. One cache entry
    for both, so that one fetch of a page answers both of their probes."""
    meta = extract_status(document, url)
    files = document.get("files") or []
    meta["provenance_key"] = any(isinstance(f, dict) and "provenance" in f for f in files[:50])
    return meta


def serves_status(page: Mapping[str, Any]) -> bool:
    if page.get("status"):
        return True
    try:
        parsed = tuple(int(p) for p in str(page.get("api_version", "")).split(".")[:2])
    except ValueError:
        return False
    return parsed >= FIRST_STATUS_API_VERSION


class ProjectStatusSource:
    info = PROJECT_STATUS
    name = info.name
    facts_provided = info.facts_provided

    def __init__(self, fetcher: Fetcher, index_url: str) -> None:
        self.fetcher = fetcher
        self.index_url = index_url.rstrip("/")
        self._capability_key = f"project-status {redact(self.index_url)}"

    async def gather(
        self, packages: Sequence[Package], index: Mapping[str, IndexRecord]
    ) -> dict[str, SourceAnswer]:
        answers: dict[str, SourceAnswer] = {}
        wanted = []
        for package in packages:
            record = index.get(package.name)
            if record is None or record.status != "found" or record.other_index:
                why = (
                    f"{record.other_index} is not the configured index"
                    if record is not None and record.other_index
                    else "the index has no record of it"
                )
                answers[package.name] = self._unknown(why)
            else:
                wanted.append(package.name)
        if not wanted:
            return answers
        served = self.fetcher.store.remembered_capability(self._capability_key)
        first = wanted if served else wanted[:1]
        pages = dict(zip(first, await asyncio.gather(*(self._page(n) for n in first)), strict=True))
        if served is None:
            page = pages[wanted[0]]
            if isinstance(page, dict):
                served = serves_status(page)
                if not self.fetcher.offline:
                    self.fetcher.store.remember_capability(self._capability_key, served)
            if served:
                rest = wanted[1:]
                pages.update(
                    zip(rest, await asyncio.gather(*(self._page(n) for n in rest)), strict=True)
                )
        probed = pages.get(wanted[0])
        version = probed.get("api_version", "") if isinstance(probed, dict) else ""
        not_served = "the index does not serve PEP 792 project status (its simple API " + (
            f"is version {version}, before 1.4)" if version else "predates version 1.4)"
        )
        for name in wanted:
            page = pages.get(name)
            if served is False:
                answers[name] = SourceAnswer(
                    {"project_status_served": False},
                    {"project_status": not_served, "project_status_reason": not_served},
                )
            elif isinstance(page, str):
                answers[name] = self._unknown(page)
            elif page is None:
                answers[name] = self._unknown("could not tell whether the index serves it")
            else:
                status = page["status"] or "active"
                values: dict[str, Any] = {"project_status_served": True, "project_status": status}
                values["project_status_reason"] = page["reason"]
                answers[name] = SourceAnswer(values, {})
        return answers

    def _unknown(self, why: str) -> SourceAnswer:
        return SourceAnswer({}, dict.fromkeys(self.facts_provided, why))

    async def _page(self, name: str) -> dict[str, Any] | str:
        result = await self.fetcher.get_json(
            f"{self.index_url}/{canonicalize_name(name)}/",
            PAGE_KIND,
            extract_page_meta,
            accept=ACCEPT,
            parse=parse_page,
        )
        if result.status != "ok":
            return f"the index's simple page could not be read: {result.error or result.status}"
        return result.data
