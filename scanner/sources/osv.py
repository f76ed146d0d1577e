"""OSV (osv.dev): the vulnerabilities of a pinned version, for the packages whose index
does not list them (a mirror without per-version JSON, an index that could not be read).

Online: `POST /v1/querybatch` (up to 1,000 queries a request) gives the IDs per version,
then `GET /v1/vulns/ID` each advisory's details; both are cached. For air-gapped labs,
`trustmap db import-osv all.zip` loads OSV's published PyPI dump (a zip of one JSON file
per advisory) into the cache database, and a scan that cannot ask OSV (offline, or OSV
unreachable) matches versions against it.

A package the index does not know is never sent: its name may be an internal one.
"""

from __future__ import annotations

import asyncio
import json
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name as canonical_name

from scanner.model import InputError, Package
from scanner.records import IndexRecord, SourceAnswer
from scanner.sources.http import DEFAULT_TTL, Fetcher, decode_json
from scanner.sources.interface import VULNERABILITY_DATABASE

BATCH = 1000  # OSV's limit of queries per querybatch request
# The first batch is small: it must answer within the fetcher's first-byte deadline for
# a host that has not answered yet (scanner.sources.http), which a big one might not.
FIRST_BATCH = 50
MAX_PAGES = 10  # of one query's IDs (OSV pages past 1,000 vulnerabilities)
MAX_DUMP_ENTRY_BYTES = 4 * 1024 * 1024
SEVERITY_ORDER = ("low", "medium", "high", "critical")
_DATABASE_SEVERITY = {"LOW": "low", "MODERATE": "medium", "MEDIUM": "medium", "HIGH": "high"}
_DATABASE_SEVERITY["CRITICAL"] = "critical"


def severity_label(score: float) -> str:
    """The CVSS qualitative rating of a base score (the same bands in v2 to v4)."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else ""


def cvss_score(vector: str) -> float | None:
    """The base score of a CVSS v2, v3 or v4 vector; None when it cannot be read."""
    import cvss

    try:
        if vector.startswith("CVSS:4"):
            return float(cvss.CVSS4(vector).base_score)
        if vector.startswith("CVSS:3"):
            return float(cvss.CVSS3(vector).base_score)
        return float(cvss.CVSS2(vector).base_score)
    except (cvss.CVSSError, ValueError, KeyError, TypeError, IndexError):
        return None


def advisory(document: Any, package: str) -> dict[str, Any]:
    """One OSV record, cut to what the facts and the report use, for `package`: {id,
    aliases, summary, severity (critical, high, medium, low, or "" when it gives none),
    score (the highest CVSS base score, or None), fixed_in, link, withdrawn, affected
    (its ranges and versions, to match a version offline)}. Hostile text is capped here."""
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        raise ValueError("not an OSV record")
    vid = document["id"][:100]
    affected = [
        a
        for a in document.get("affected") or []
        if isinstance(a, dict)
        and isinstance(a.get("package"), dict)
        and str(a["package"].get("ecosystem", "")).startswith("PyPI")
        and canonical_name(str(a["package"].get("name", ""))) == package
    ]
    vectors = [s for s in document.get("severity") or [] if isinstance(s, dict)]
    for entry in affected:
        vectors += [s for s in entry.get("severity") or [] if isinstance(s, dict)]
    scores = [cvss_score(str(s.get("score", ""))) for s in vectors]
    score = max((s for s in scores if s is not None), default=None)
    severity = severity_label(score) if score is not None else ""
    if not severity:
        database = document.get("database_specific") or {}
        named = database.get("severity") if isinstance(database, dict) else None
        severity = _DATABASE_SEVERITY.get(str(named).upper(), "")
    fixed, kept = set(), []
    for entry in affected:
        ranges = []
        for rng in entry.get("ranges") or []:
            if not isinstance(rng, dict) or rng.get("type") != "ECOSYSTEM":
                continue
            events = [
                {k: str(v)[:100] for k, v in e.items() if k in _EVENTS}
                for e in rng.get("events") or []
                if isinstance(e, dict)
            ]
            fixed.update(e["fixed"] for e in events if "fixed" in e)
            ranges.append(events)
        versions = [str(v)[:100] for v in entry.get("versions") or []][:5000]
        kept.append({"ranges": ranges, "versions": versions})
    return {
        "id": vid,
        "aliases": [str(a)[:100] for a in document.get("aliases") or []][:50],
        "summary": str(document.get("summary") or "")[:500],
        "severity": severity,
        "score": score,
        "fixed_in": sorted(fixed),
        "link": f"https://osv.dev/vulnerability/{vid}",
        "withdrawn": str(document.get("withdrawn") or ""),
        "affected": kept,
    }


_EVENTS = ("introduced", "fixed", "last_affected", "limit")


def affects(record: Mapping[str, Any], version: str) -> bool:
    """Whether an advisory (`advisory`'s shape) names `version` as affected: listed in
    `versions`, or within an ECOSYSTEM range (introduced, up to fixed or last_affected)."""
    from packaging.version import InvalidVersion, Version

    try:
        pinned = Version(version)
    except InvalidVersion:
        pinned = None
    for entry in record.get("affected") or []:
        if version in entry.get("versions", ()):
            return True
        if pinned is None:
            continue
        for events in entry.get("ranges", ()):
            if _in_range(events, pinned):
                return True
    return False


def _in_range(events: list[dict[str, str]], pinned: Any) -> bool:
    from packaging.version import InvalidVersion, Version

    def version(text: str) -> Any:
        return Version("0") if text == "0" else Version(text)

    affected = False
    try:
        points = []
        for event in events:
            for kind, value in event.items():
                points.append((version(value), kind))
    except InvalidVersion:
        return False
    # Events in version order: each introduced opens a range, each fixed/last_affected
    # closes it (OSV schema, "Evaluation").
    for point, kind in sorted(points, key=lambda p: (p[0], p[1] != "introduced")):
        if kind == "introduced" and pinned >= point:
            affected = True
        elif kind == "fixed" and pinned >= point:
            affected = False
        elif kind == "last_affected" and pinned > point:
            affected = False
        elif kind == "limit" and pinned >= point:
            affected = False
    return affected


class OSVSource:
    info = VULNERABILITY_DATABASE
    name = info.name
    facts_provided = info.facts_provided

    def __init__(self, fetcher: Fetcher, base_url: str) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")

    async def gather(
        self, packages: Sequence[Package], index: Mapping[str, IndexRecord]
    ) -> dict[str, SourceAnswer]:
        answers: dict[str, SourceAnswer] = {}
        asked: list[Package] = []
        listed: dict[str, list[str]] = {}  # the IDs the index lists: OSV gives their severity
        for package in packages:
            record = index.get(package.name)
            why = _not_asked(package, record)
            if record is not None and record.version_vulnerabilities:
                listed[package.name] = sorted(
                    {str(v.get("id")) for v in record.version_vulnerabilities if v.get("id")}
                )
            if why and package.name not in listed:
                answers[package.name] = SourceAnswer({}, {"osv_vulnerabilities": why})
            elif not why:
                asked.append(package)
        if not asked and not listed:
            return answers
        found, reasons = await self._ids(asked) if asked else ({}, {})
        found.update(listed)
        asked += [p for p in packages if p.name in listed]
        listing: dict[str, set[str]] = {}  # advisory -> the packages it was listed for
        for name, ids in found.items():
            for vid in ids:
                listing.setdefault(vid, set()).add(name)
        details, detail_errors = await self._details(listing)
        for package in asked:
            ids = found.get(package.name)
            if ids is None:
                why = reasons.get(package.name, "OSV gave no answer")
                answers[package.name] = SourceAnswer({}, {"osv_vulnerabilities": why})
                continue
            missing = [vid for vid in ids if (vid, package.name) not in details]
            if missing:
                why = detail_errors.get(missing[0], "no details")
                answers[package.name] = SourceAnswer(
                    {}, {"osv_vulnerabilities": f"OSV's details of {missing[0]}: {why}"}
                )
                continue
            vulns = [_public(details[(vid, package.name)]) for vid in ids]
            answers[package.name] = SourceAnswer({"osv_vulnerabilities": vulns}, {})
        return answers

    def _query_key(self, package: Package) -> str:
        return f"{self.base_url}/v1/query#pypi/{package.name}/{package.version}"

    async def _ids(self, packages: list[Package]) -> tuple[dict[str, list[str]], dict[str, str]]:
        """The advisory IDs per package name (cache, then OSV, then the imported dump),
        and why, for those left unknown."""
        store = self.fetcher.store
        found: dict[str, list[str]] = {}
        reasons: dict[str, str] = {}
        todo = []
        for package in packages:
            cached = store.get(self._query_key(package), "osv-ids")
            fresh = cached is not None and cached.age() < DEFAULT_TTL and not self.fetcher.refresh
            if cached is not None and (fresh or self.fetcher.offline):
                found[package.name] = list(cached.data)
            else:
                todo.append(package)
        failure = "offline, and not in the cache" if self.fetcher.offline else ""
        chunks = [todo[:FIRST_BATCH]] if todo else []
        chunks += [todo[i : i + BATCH] for i in range(FIRST_BATCH, len(todo), BATCH)]
        for chunk in chunks:
            if failure:
                break
            try:
                batch = await self._querybatch(chunk)
            except (OSError, ValueError) as exc:
                failure = f"OSV could not be asked: {exc}"
                break
            for package, ids in batch.items():
                found[package] = ids
        if failure:
            dumped = _from_dump(store, [p for p in todo if p.name not in found])
            for package in todo:
                if package.name in dumped:
                    found[package.name] = dumped[package.name]
                elif package.name not in found:
                    reasons[package.name] = failure
        return found, reasons

    async def _querybatch(self, packages: list[Package]) -> dict[str, list[str]]:
        queries = [
            {"package": {"name": p.name, "ecosystem": "PyPI"}, "version": p.version}
            for p in packages
        ]
        ids: dict[str, list[str]] = {p.name: [] for p in packages}
        pending = list(range(len(packages)))
        for _ in range(MAX_PAGES):
            body = json.dumps({"queries": [queries[i] for i in pending]}).encode()
            answer = await self.fetcher.call(
                f"{self.base_url}/v1/querybatch",
                method="POST",
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                content=body,
            )
            if answer.status_code != 200:
                raise OSError(f"HTTP {answer.status_code} from {answer.url}")
            results = decode_json(answer.body).get("results")
            if not isinstance(results, list) or len(results) != len(pending):
                raise ValueError(f"unexpected querybatch answer from {answer.url}")
            next_pending = []
            for i, result in zip(pending, results, strict=True):
                result = result or {}
                ids[packages[i].name] += [str(v["id"]) for v in result.get("vulns") or []]
                token = result.get("next_page_token")
                if token:
                    queries[i] = {**queries[i], "page_token": token}
                    next_pending.append(i)
            pending = next_pending
            if not pending:
                break
        else:
            raise ValueError(f"OSV kept paging past {MAX_PAGES} pages")
        for package in packages:
            self.fetcher.store.put(
                self._query_key(package), "osv-ids", sorted(set(ids[package.name])), None, None
            )
        return {name: sorted(set(found)) for name, found in ids.items()}

    async def _details(
        self, listing: dict[str, set[str]]
    ) -> tuple[dict[tuple[str, str], dict], dict[str, str]]:
        """(id, package) -> the advisory for that package (`listing`: id -> the packages
        it was listed for), and why for those missing."""
        details: dict[tuple[str, str], dict] = {}
        errors: dict[str, str] = {}

        async def one(vid: str) -> None:
            document = await self._document(vid)
            if isinstance(document, str):
                errors[vid] = document
                return
            for name in sorted(listing[vid]):
                try:
                    details[(vid, name)] = advisory(document, name)
                except ValueError as exc:
                    errors[vid] = str(exc)

        await asyncio.gather(*(one(vid) for vid in sorted(listing)))
        return details, errors

    async def _document(self, vid: str) -> dict | str:
        """The OSV record (cache, OSV, the imported dump), or why there is none."""
        store = self.fetcher.store
        url = f"{self.base_url}/v1/vulns/{vid}"
        cached = store.get(url, "osv-record")
        if cached is not None and (cached.age() < DEFAULT_TTL or self.fetcher.offline):
            return cached.data
        why = "offline, and not in the cache"
        if not self.fetcher.offline:
            try:
                answer = await self.fetcher.call(url, headers={"Accept": "application/json"})
                if answer.status_code == 200:
                    document = decode_json(answer.body)
                    store.put(url, "osv-record", document, None, None)
                    return document
                why = f"HTTP {answer.status_code} from {answer.url}"
            except (OSError, ValueError) as exc:
                why = str(exc)
        dumped = dump_record(store, vid)
        if dumped is not None:
            return dumped
        return cached.data if cached is not None else why


def _not_asked(package: Package, record: IndexRecord | None) -> str:
    """Why OSV is not asked which advisories affect the package (its details are still
    asked for the advisories the index lists, for their severity)."""
    if not package.version:
        return "no pinned version to ask OSV about"
    if record is not None and record.status == "not-found":
        return "the index does not know it: its name is not sent to OSV"
    if record is not None and record.version_vulnerabilities is not None:
        return "the index lists this version's vulnerabilities: OSV not asked"
    return ""


def _public(record: dict) -> dict:
    """An advisory as a fact shows it (without the ranges used to match versions)."""
    return {k: v for k, v in record.items() if k != "affected"}


# The imported dump: one row per (package, advisory), the record whole.
def _from_dump(store: Any, packages: list[Package]) -> dict[str, list[str]]:
    """IDs per package from the imported OSV dump; packages absent from a loaded dump
    have none; with no dump loaded, nothing is known."""
    imported = store.get_meta(DUMP_META)
    if not imported:
        return {}
    found: dict[str, list[str]] = {}
    for package in packages:
        ids = []
        for vid, document in store.osv_records(package.name):
            try:
                if affects(advisory(document, package.name), package.version):
                    ids.append(vid)
            except ValueError:
                continue
        found[package.name] = sorted(ids)
    return found


def dump_record(store: Any, vid: str) -> dict | None:
    return store.osv_record(vid) if store.get_meta(DUMP_META) else None


DUMP_META = "osv-dump"


def import_dump(store: Any, path: Path) -> int:
    """Load OSV's PyPI dump (`all.zip`: one JSON record per advisory) into the cache
    database, replacing any earlier import. Returns how many advisories it holds."""
    rows = list(_dump_rows(path))
    store.replace_osv_records(rows)
    store.set_meta(DUMP_META, f"{path.name} {time.time()}")
    return len({vid for _, vid, _ in rows})


def _dump_rows(path: Path) -> Iterator[tuple[str, str, dict]]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path}: not an OSV dump (a zip of JSON records): {exc}") from None
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue
            if info.file_size > MAX_DUMP_ENTRY_BYTES:
                raise InputError(f"{path}: {info.filename} is larger than any OSV record")
            try:
                document = json.loads(archive.read(info))
            except (ValueError, zipfile.BadZipFile, OSError) as exc:
                raise InputError(f"{path}: {info.filename}: not a JSON record: {exc}") from None
            if not isinstance(document, dict) or not isinstance(document.get("id"), str):
                raise InputError(f"{path}: {info.filename}: not an OSV record (no id)")
            names = {
                canonical_name(str(a["package"].get("name", "")))
                for a in document.get("affected") or []
                if isinstance(a, dict)
                and isinstance(a.get("package"), dict)
                and str(a["package"].get("ecosystem", "")).startswith("PyPI")
            }
            for name in sorted(n for n in names if n):
                yield name, document["id"], document
