"""Fetching started before the inputs are read: an installed environment's dist-info
folder names say what it holds before any METADATA is parsed, and a cold scan spends
most of its time waiting for the index, so its project documents are asked for first
(scanner.sources.pypi.start_lookups), while the environment is read and the rest of the
pipeline is imported. The scan (scanner.scan.scan, `ahead`) collects what came back.

Kept apart from scanner.scan, and light to import, so that the workers are forked
before the pipeline's own imports (graph, rules, reports) rather than after them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from scanner.inputs.select import installed_pins
from scanner.model import TrustmapError
from scanner.options import ScanOptions
from scanner.sources.http import Prefetch
from scanner.sources.pypi import PyPISource, index_url_from_environment, start_lookups
from scanner.store import Store


@contextmanager
def fetching_ahead(targets: tuple[str, ...], options: ScanOptions) -> Iterator[Prefetch | None]:
    """Start fetching the project documents of the installed environments among
    `targets`. Yields the handle for `scan` (None when nothing is worth fetching: a warm
    cache, offline, no environment, too few packages); the workers end when the block
    does, collected or not."""
    pending = None
    if not options.offline:
        pins = installed_pins(targets)
        if pins:
            pending = _start_lookups(pins, options)
    try:
        yield pending
    finally:
        if pending is not None:
            pending.stop()


def _start_lookups(pins: list[tuple[str, str]], options: ScanOptions) -> Prefetch | None:
    try:
        store = Store(options.cache_path)
    except TrustmapError:
        return None  # the scan itself says what is wrong, where it always has
    try:
        fetcher = options.fetcher(store)
        source = PyPISource(fetcher, index_url_from_environment(options.index_url))
        return start_lookups(source, pins)
    except TrustmapError:
        return None
    finally:
        store.close()
