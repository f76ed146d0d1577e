"""The options a scan runs with: `CommandLineSettings`, the target options as typed on the
command line (scanner.cli builds them), and `ScanOptions`, what the pipeline
(scanner.scan) reads once scanner.config has merged those settings with the
configuration file. Data only: nothing here reads a file or the network."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.endpoints import Endpoints
from scanner.inputs.interface import DeclaredOptions
from scanner.sources.http import DEFAULT_TTL, REQUEST_TIMEOUT, SCAN_TIMEOUT, Fetcher

if TYPE_CHECKING:
    from scanner.rules import RuleSet
    from scanner.sources.shared import SharedAnswers
    from scanner.store import Store


@dataclass(frozen=True)
class CommandLineSettings:
    """The target options of `scan` and `explain` (see scanner.cli.target_options), as
    given: None or empty where the option was not given, so that the configuration file
    or the default applies."""

    config_path: str | None = None
    index_url: str | None = None
    offline: bool = False
    refresh: bool = False
    cache_path: str | None = None
    rules_dirs: tuple[str, ...] = ()
    python_version: str | None = None
    platform: str | None = None
    all_platforms: bool = False
    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    all_groups: bool = False
    prereleases: bool = False
    request_timeout: float | None = None
    scan_timeout: float | None = None
    other_indexes: bool | None = None
    # Enrichment sources switched off on the command line (--no-osv, ...).
    no_osv: bool = False
    no_github: bool = False
    no_depsdev: bool = False
    no_scorecard: bool = False
    no_pypistats: bool = False

    @property
    def switched_off(self) -> tuple[str, ...]:
        flags = {
            "osv": self.no_osv,
            "github": self.no_github,
            "depsdev": self.no_depsdev,
            "scorecard": self.no_scorecard,
            "pypistats": self.no_pypistats,
        }
        return tuple(name for name, off in flags.items() if off)


@dataclass(frozen=True)
class ScanOptions:
    index_url: str | None = None
    offline: bool = False
    refresh: bool = False
    ttl: float = DEFAULT_TTL
    cache_path: Path | None = None
    # Where the rules came from (configured folders, then --rules; config overrides), and
    # the rule set loaded from them once, before any network traffic. None: the scan
    # loads the shipped rules with `rules_dirs` and `rule_overrides` itself.
    rules_dirs: tuple[str, ...] = ()
    rule_overrides: dict = field(default_factory=dict)
    rules: RuleSet | None = None
    concurrency: int = 24
    # Seconds: one request, body included (config `request-timeout`); all the network
    # work of the scan, resolving and gathering facts together (config `scan-timeout`),
    # counted from `started()`. What is left when the time is up is unknown, with the
    # reason.
    request_timeout: float = REQUEST_TIMEOUT
    scan_timeout: float = SCAN_TIMEOUT
    deadline: float | None = None  # time.monotonic() when the scan's time is up
    transport: object = None  # an httpx transport, for tests
    # Declared inputs: what to resolve them for.
    python_version: str | None = None
    platform: str | None = None
    all_platforms: bool = False
    prereleases: bool = False
    declared: DeclaredOptions = field(default_factory=DeclaredOptions)
    # Names of the lab's own packages (glob patterns, from config `internal-packages`):
    # found on the public index, they are a dependency-confusion risk.
    internal_patterns: tuple[str, ...] = ()
    # Look packages a lockfile locked from another index up on that index (config
    # `other-indexes`, --no-other-indexes); off: their index facts are unknown.
    other_indexes: bool = True
    # Each enrichment source's base URL or switched off (command line, environment,
    # config `sources`); None: as the environment says.
    endpoints: Endpoints | None = None
    # The fresh answers of this command's other scans (the two sides of a gate or a
    # diff), reused rather than read and decoded again; None for a command of one scan.
    shared: SharedAnswers | None = None

    def started(self) -> ScanOptions:
        """These options with the scan's clock started: every fetcher made from them
        shares one deadline, `scan_timeout` seconds from now."""
        if self.deadline is not None:
            return self
        return replace(self, deadline=time.monotonic() + self.scan_timeout)

    def fetcher(self, store: Store) -> Fetcher:
        return Fetcher(
            store,
            offline=self.offline,
            refresh=self.refresh,
            ttl=self.ttl,
            concurrency=self.concurrency,
            transport=self.transport,
            request_timeout=self.request_timeout,
            scan_timeout=self.scan_timeout,
            deadline=self.deadline,
            shared=self.shared,
        )
