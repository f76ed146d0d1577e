"""Usage: the public top-PyPI-packages dataset (the 15,000 most-downloaded projects over
30 days, derived from PyPI's public download statistics).

A dated snapshot ships inside the package as the offline default; when its public URL is
reachable a newer copy is fetched and cached. `TRUSTMAP_TOP_PACKAGES_URL=off` (or an empty
value) turns the refresh off; tests point it at a local server.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
from importlib import resources
from typing import Any

from packaging.utils import canonicalize_name

from scanner.records import TopPackages
from scanner.sources.http import Fetcher

PUBLIC_URL = "https://hugovk.github.io/top-pypi-packages/top-pypi-packages-30-days.min.json"
KIND = "top-packages-v1"
REFRESH_AFTER = 7 * 24 * 3600.0  # the dataset is published monthly
RETRY_FAILED_AFTER = 24 * 3600.0  # an unreachable host is not asked again for a day
# Behind a mirror the dataset's host is unreachable, and the scan can do without it: one
# attempt, a short connect, and a bound on the whole download (about 1 MB).
REFRESH_CONNECT_TIMEOUT = 2.0
REFRESH_TIMEOUT = 15.0
REFRESH_GRACE = 1.0  # how long a finished scan still waits for the refresh
_ATTEMPT_KEY = "top-packages-last-failed-attempt"


def extract_top_packages(doc: dict[str, Any], url: str = "") -> dict[str, Any]:
    rows = doc["rows"]
    counts: dict[str, int] = {}
    for row in rows:
        raw = str(row["project"])
        # The dataset's names are canonical already; check cheaply, canonicalise if not.
        plain = raw.islower() and "_" not in raw and "." not in raw and "--" not in raw
        name = raw if plain else canonicalize_name(raw)
        count = int(row["download_count"])
        if name not in counts:
            counts[name] = count
    return {"last_update": str(doc.get("last_update", ""))[:40], "counts": counts}


def _build(data: dict[str, Any], origin: str) -> TopPackages:
    ordered = sorted(data["counts"].items(), key=lambda item: -item[1])
    return TopPackages(
        counts=dict(ordered),
        ranks={name: rank for rank, (name, _) in enumerate(ordered, start=1)},
        snapshot_date=data["last_update"][:10],
        origin=origin,
    )


@functools.cache
def bundled_top_packages() -> TopPackages:
    """The snapshot shipped inside the package: read once per process (a gate's two sides
    both ask for it)."""
    text = resources.files("scanner.data").joinpath("top-pypi-packages.json").read_bytes()
    return _build(extract_top_packages(json.loads(text)), "bundled snapshot")


def refresh_url() -> str | None:
    url = os.environ.get("TRUSTMAP_TOP_PACKAGES_URL", PUBLIC_URL).strip()
    return None if url.lower() in ("", "off", "none", "0") else url


async def load_top_packages(fetcher: Fetcher) -> tuple[TopPackages, str | None]:
    """The freshest dataset available, and a note when the refresh failed."""
    url = refresh_url()
    if url is None:
        return bundled_top_packages(), None
    cached = fetcher.store.get(fetcher.cache_key(url), KIND)
    if cached is not None and (fetcher.offline or cached.age() < REFRESH_AFTER):
        return _build(cached.data, url), None
    if fetcher.offline:
        return bundled_top_packages(), None
    last_failed = fetcher.store.get_meta(_ATTEMPT_KEY)
    if last_failed and time.time() - float(last_failed) < RETRY_FAILED_AFTER:
        fallback = _build(cached.data, url) if cached else bundled_top_packages()
        return fallback, None
    try:
        result = await fetcher.get_json(
            url,
            KIND,
            extract_top_packages,
            ttl=REFRESH_AFTER,
            attempts=1,
            timeout=REFRESH_TIMEOUT,
            connect_timeout=REFRESH_CONNECT_TIMEOUT,
        )
    except asyncio.CancelledError:
        # The scan finished first and stopped waiting: not asked again for a day either.
        remember_failed_refresh(fetcher)
        raise
    if result.status == "ok" and not result.stale:
        return _build(result.data, url), None
    remember_failed_refresh(fetcher)
    return fallback_top_packages(fetcher), (
        f"could not refresh the top-packages dataset from {url}: {result.error}"
    )


async def top_packages_within(
    refresh: asyncio.Task, fetcher: Fetcher, grace: float = REFRESH_GRACE
) -> tuple[TopPackages, str | None]:
    """The refresh started beside the index lookups (load_top_packages), waited for at
    most `grace` seconds more once they are done: the scan never waits on a host it can
    do without."""
    try:
        return await asyncio.wait_for(refresh, grace)
    except TimeoutError:
        return fallback_top_packages(fetcher), (
            f"could not refresh the top-packages dataset from {refresh_url()}: no answer "
            "by the time the index lookups were done"
        )


def remember_failed_refresh(fetcher: Fetcher) -> None:
    fetcher.store.set_meta(_ATTEMPT_KEY, str(time.time()))


def fallback_top_packages(fetcher: Fetcher) -> TopPackages:
    """What is used when the refresh fails: the last copy fetched, else the snapshot."""
    url = refresh_url()
    cached = fetcher.store.get(fetcher.cache_key(url), KIND) if url else None
    return _build(cached.data, url) if cached and url else bundled_top_packages()
