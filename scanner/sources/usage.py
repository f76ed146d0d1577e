"""Usage: the public top-PyPI-packages dataset (the 15,000 most-downloaded projects over
30 days, derived from PyPI's public download statistics).

A dated snapshot ships inside the package as the offline default; when its public URL is
reachable a newer copy is fetched and cached. `TRUSTMAP_TOP_PACKAGES_URL=off` (or an empty
value) turns the refresh off; tests point it at a local server.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

from packaging.utils import canonicalize_name

from scanner.sources.http import Fetcher

PUBLIC_URL = "https://hugovk.github.io/top-pypi-packages/top-pypi-packages-30-days.min.json"
KIND = "top-packages-v1"
REFRESH_AFTER = 7 * 24 * 3600.0  # the dataset is published monthly
RETRY_FAILED_AFTER = 24 * 3600.0  # an unreachable host is not asked again for a day
_ATTEMPT_KEY = "top-packages-last-failed-attempt"


@dataclass(frozen=True)
class TopPackages:
    counts: dict[str, int]  # canonical name -> downloads over 30 days
    ranks: dict[str, int]  # canonical name -> 1-based rank
    snapshot_date: str
    origin: str  # "bundled snapshot" or the URL it was refreshed from

    @property
    def size(self) -> int:
        return len(self.ranks)


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


def bundled_top_packages() -> TopPackages:
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
    cached = fetcher.store.get(url, KIND)
    if cached is not None and (fetcher.offline or cached.age() < REFRESH_AFTER):
        return _build(cached.data, url), None
    if fetcher.offline:
        return bundled_top_packages(), None
    last_failed = fetcher.store.get_meta(_ATTEMPT_KEY)
    if last_failed and time.time() - float(last_failed) < RETRY_FAILED_AFTER:
        fallback = _build(cached.data, url) if cached else bundled_top_packages()
        return fallback, None
    result = await fetcher.get_json(url, KIND, extract_top_packages, ttl=REFRESH_AFTER)
    if result.status == "ok" and not result.stale:
        return _build(result.data, url), None
    fetcher.store.set_meta(_ATTEMPT_KEY, str(time.time()))
    fallback = _build(cached.data, url) if cached else bundled_top_packages()
    return fallback, f"could not refresh the top-packages dataset from {url}: {result.error}"
