"""The SQLite database (sqlite-utils): the HTTP cache and the scan history.

The cache keeps, per URL, the *facts extracted* from a response beside its validators
(ETag, Last-Modified) and fetch time, not the raw document: a warm scan then reads a few
kilobytes per package instead of megabytes of project JSON. Error responses are never
stored. WAL mode and a busy timeout let two scans share the file.

The history keeps, per index and package, who could publish it each time that changed
(`ownership_history`: one row at the first sighting and one at every change, with the
time it was last seen unchanged), so that a scan can tell whether the accounts or the
organisation differ from the last scan's.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.model import TrustmapError
from scanner.records import OwnershipRecord

# One answer per URL and extractor (`kind`): the same URL is read by several sources
# (a simple page gives releases, files and project status), and one must never evict
# another's entry. (The first table, http_cache, kept one row per URL: it is dropped.)
_SELECT = "SELECT url, kind, data, etag, last_modified, fetched_at FROM http_answers"
_SELECT_URL = "SELECT url FROM http_answers"
_SELECT_OWNERSHIP = (
    "SELECT name, publishers, organization, first_seen, last_seen FROM ownership_history"
    " WHERE index_url = ?"
)
FLUSH_EVERY = 200
_UPSERT_ANSWER = (
    "INSERT INTO http_answers (url, kind, data, etag, last_modified, fetched_at)"
    " VALUES (:url, :kind, :data, :etag, :last_modified, :fetched_at)"
    " ON CONFLICT (url, kind) DO UPDATE SET data = excluded.data, etag = excluded.etag,"
    " last_modified = excluded.last_modified, fetched_at = excluded.fetched_at"
)
CAPABILITY_TTL = 24 * 3600.0  # what an index serves is asked again after a day


@dataclass(frozen=True)
class CachedResponse:
    url: str
    kind: str  # which extractor produced `data`; a new extractor version misses
    data: Any
    etag: str | None
    last_modified: str | None
    fetched_at: float

    def age(self, now: float | None = None) -> float:
        return (now if now is not None else time.time()) - self.fetched_at


def _from_row(row: dict[str, Any]) -> CachedResponse:
    return CachedResponse(
        row["url"], row["kind"], json.loads(row["data"]), row["etag"], row["last_modified"],
        row["fetched_at"],
    )  # fmt: skip


def _damaged(path: Path, exc: Exception) -> str:
    return f"{path}: the cache database is damaged ({exc}); delete it to start afresh"


WAL_SWITCH_SECONDS = 30.0  # as long as the busy timeout


def _is_locked(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, retrying while another process holds the file. Two scans that
    open a new database together both ask for the switch, which needs the file alone,
    and SQLite answers "database is locked" at once rather than wait the busy timeout."""
    deadline = time.monotonic() + WAL_SWITCH_SECONDS
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def default_cache_dir() -> Path:
    override = os.environ.get("TRUSTMAP_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("trustmap", appauthor=False))


class Store:
    def __init__(self, path: Path | str | None = None) -> None:
        if path is None:
            path = default_cache_dir() / "trustmap.db"
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # The resolver uses the store from its background thread, one thread at a time.
            conn = sqlite3.connect(
                str(path), timeout=30, isolation_level=None, check_same_thread=False
            )
            _use_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc):
                raise TrustmapError(_damaged(path, exc)) from None
            raise TrustmapError(
                f"{path}: the cache database stayed locked by another process; try again"
            ) from None
        except sqlite3.DatabaseError as exc:
            raise TrustmapError(_damaged(path, exc)) from None
        except (OSError, sqlite3.Error) as exc:
            raise TrustmapError(f"{path}: cannot open the cache database: {exc}") from None
        self.path = path
        self.conn = conn
        self._db = None
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        self._ensure_schema()

    @property
    def db(self):
        """sqlite-utils for writes; made on first use, since a warm scan only reads and
        the import costs a tenth of its time."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def _ensure_schema(self) -> None:
        try:
            self.conn.execute("DROP TABLE IF EXISTS http_cache")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS http_answers ("
                " url TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,"
                " etag TEXT, last_modified TEXT, fetched_at REAL NOT NULL,"
                " PRIMARY KEY (url, kind))"
            )
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS ownership_history ("
                " index_url TEXT NOT NULL, name TEXT NOT NULL, publishers TEXT NOT NULL,"
                " organization TEXT NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL,"
                " PRIMARY KEY (index_url, name, first_seen))"
            )
            # OSV's PyPI dump (`trustmap db import-osv`): each record under every package
            # it affects.
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS osv_dump ("
                " name TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,"
                " PRIMARY KEY (name, id))"
            )
        except sqlite3.DatabaseError as exc:
            raise TrustmapError(_damaged(self.path, exc)) from None

    def replace_osv_records(self, rows: list[tuple[str, str, Any]]) -> None:
        """The imported OSV dump: (package, advisory id, record), replacing the last."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute("DELETE FROM osv_dump")
            self.conn.executemany(
                "INSERT OR REPLACE INTO osv_dump (name, id, data) VALUES (?, ?, ?)",
                [(name, vid, json.dumps(data, separators=(",", ":"))) for name, vid, data in rows],
            )
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def osv_records(self, name: str) -> list[tuple[str, Any]]:
        """(advisory id, record) of the imported OSV dump that affect package `name`."""
        rows = self.conn.execute(
            "SELECT id, data FROM osv_dump WHERE name = ? ORDER BY id", [name]
        ).fetchall()
        return [(row[0], json.loads(row[1])) for row in rows]

    def osv_record(self, vid: str) -> Any:
        row = self.conn.execute("SELECT data FROM osv_dump WHERE id = ? LIMIT 1", [vid]).fetchone()
        return json.loads(row[0]) if row else None

    def get(self, url: str, kind: str) -> CachedResponse | None:
        pending = self._pending.get((url, kind))
        if pending is not None:
            return _from_row(pending)
        row = self.conn.execute(f"{_SELECT} WHERE url = ? AND kind = ?", [url, kind]).fetchone()
        if row is None:
            return None
        try:
            data = json.loads(row[2])
        except ValueError:
            return None
        return CachedResponse(row[0], row[1], data, row[3], row[4], row[5])

    def get_many(self, urls: list[str], kind: str) -> dict[str, CachedResponse]:
        """One query for many URLs: a warm scan of hundreds of packages reads the cache
        in a handful of statements."""
        found: dict[str, CachedResponse] = {}
        for row in self._rows_of(_SELECT, urls, kind):
            try:
                data = json.loads(row[2])
            except ValueError:
                continue
            found[row[0]] = CachedResponse(row[0], row[1], data, row[3], row[4], row[5])
        return found

    def cached_urls(self, urls: list[str], kind: str) -> set[str]:
        """Which of `urls` have an entry of `kind`, fresh or not (their data unread)."""
        return {row[0] for row in self._rows_of(_SELECT_URL, urls, kind)}

    def _rows_of(self, select: str, urls: list[str], kind: str) -> list[tuple[Any, ...]]:
        rows = []
        for start in range(0, len(urls), 500):
            chunk = urls[start : start + 500]
            marks = ",".join("?" * len(chunk))
            # Only "?" placeholders are formatted into the statement.
            query = f"{select} WHERE kind = ? AND url IN ({marks})"
            rows.extend(self.conn.execute(query, [kind, *chunk]).fetchall())
        return rows

    def put(
        self,
        url: str,
        kind: str,
        data: Any,
        etag: str | None,
        last_modified: str | None,
        fetched_at: float | None = None,
    ) -> None:
        """Stored with the next flush: writes are batched into one transaction, since a
        cold scan makes hundreds and each commit waits for the disk."""
        self._pending[url, kind] = {
            "url": url,
            "kind": kind,
            "data": json.dumps(data, separators=(",", ":"), sort_keys=True),
            "etag": etag,
            "last_modified": last_modified,
            "fetched_at": fetched_at if fetched_at is not None else time.time(),
        }
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        rows, self._pending = list(self._pending.values()), {}
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            # One statement, not sqlite-utils' upsert_all: importing sqlite-utils and
            # its table introspection cost a cold resolution 0.15 s for its 400 rows.
            self.conn.executemany(_UPSERT_ANSWER, rows)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def touch(self, url: str, kind: str, fetched_at: float | None = None) -> None:
        """A 304 Not Modified: the stored extraction is current again."""
        self.flush()
        self.conn.execute(
            "UPDATE http_answers SET fetched_at = ? WHERE url = ? AND kind = ?",
            [fetched_at if fetched_at is not None else time.time(), url, kind],
        )

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db["meta"].upsert({"key": key, "value": value}, pk="key")

    def remembered_capability(self, key: str, ttl: float = CAPABILITY_TTL) -> bool | None:
        """What was learnt about a remote (does this index serve X?), if learnt within
        `ttl` seconds; None when never learnt or forgotten."""
        value = self.get_meta(key)
        if not value:
            return None
        served, _, when = value.partition(" ")
        try:
            fresh = time.time() - float(when) < ttl
        except ValueError:
            return None
        return served == "yes" if fresh else None

    def remember_capability(self, key: str, served: bool) -> None:
        self.set_meta(key, f"{'yes' if served else 'no'} {time.time()}")

    def last_ownership(self, index_url: str, names: list[str]) -> dict[str, OwnershipRecord]:
        """The latest recorded ownership of each package on this index (absent: never
        seen), read in a handful of statements."""
        found: dict[str, OwnershipRecord] = {}
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            marks = ",".join("?" * len(chunk))
            # Only "?" placeholders are formatted into the statement.
            query = f"{_SELECT_OWNERSHIP} AND name IN ({marks}) ORDER BY first_seen"
            for name, publishers, organization, first_seen, last_seen in self.conn.execute(
                query, [index_url, *chunk]
            ):
                try:
                    accounts = tuple(json.loads(publishers))
                except ValueError:
                    continue
                found[name] = OwnershipRecord(accounts, organization, first_seen, last_seen)
        return found

    def record_ownership(
        self,
        index_url: str,
        observed: dict[str, tuple[tuple[str, ...], str]],
        previous: dict[str, OwnershipRecord] | None = None,
        when: float | None = None,
    ) -> None:
        """Record this scan's ownership of each package: {name: (publishers, organization)}.
        A package seen as before only has its last_seen moved on; a new or changed one gets
        a row of its own. One transaction for all."""
        when = time.time() if when is None else when
        if previous is None:
            previous = self.last_ownership(index_url, list(observed))
        rows = []
        for name, (publishers, organization) in observed.items():
            accounts = tuple(sorted(publishers))
            last = previous.get(name)
            unchanged = last is not None and (last.publishers, last.organization) == (
                accounts,
                organization,
            )
            rows.append(
                {
                    "index_url": index_url,
                    "name": name,
                    "publishers": json.dumps(list(accounts)),
                    "organization": organization,
                    "first_seen": last.first_seen if unchanged and last else when,
                    "last_seen": when,
                }
            )
        if not rows:
            return
        self.flush()
        # Plain SQL: this runs on every scan, warm ones included, where importing
        # sqlite-utils would cost more than the write.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(
                "INSERT INTO ownership_history"
                " (index_url, name, publishers, organization, first_seen, last_seen)"
                " VALUES (:index_url, :name, :publishers, :organization, :first_seen, :last_seen)"
                " ON CONFLICT (index_url, name, first_seen) DO UPDATE SET"
                " publishers = excluded.publishers, organization = excluded.organization,"
                " last_seen = excluded.last_seen",
                rows,
            )
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.conn.close()
