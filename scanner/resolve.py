"""Requirement set -> pinned packages and edges, with resolvelib over index metadata.

Candidates come from the simple API (PEP 691 JSON), honouring requires-python and PEP 592
yanking, with pre-releases only when asked for or when nothing else satisfies. A
candidate's dependencies come from its PEP 658 metadata (see scanner.sources.index).

resolvelib asks its questions one at a time; the answers come over the network. So the
index work runs on an asyncio loop in a background thread, and every answer the resolver
is likely to ask for next (the files of each new dependency, the metadata of its newest
matching release) is fetched ahead, concurrently, while the resolver thinks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PackagingRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider, BaseReporter, Resolver
from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

from scanner.inputs.markers import marker_holds
from scanner.model import (
    Edge,
    InputError,
    Location,
    Package,
    Problem,
    Requirement,
    Resolution,
    TargetEnvironment,
)
from scanner.sources.http import Fetcher
from scanner.sources.index import IndexClient, IndexRelease, MetadataUnavailable, ReleaseMetadata
from scanner.wording import counted, some_of

MAX_ROUNDS = 20_000


@dataclass(frozen=True)
class _Req:
    """A requirement as the resolver sees it: markers already evaluated for the target."""

    name: str
    extras: frozenset[str]
    specifier: SpecifierSet
    marker: str | None = None
    parent_extra: str | None = None  # the parent's extra that brought it in
    declared: Requirement | None = None  # the manifest line, for a direct requirement
    display_name: str = ""

    @property
    def identifier(self) -> str:
        return _identifier(self.name, self.extras)


@dataclass(frozen=True)
class _Candidate:
    name: str
    version: Version
    extras: frozenset[str]
    release: IndexRelease = field(compare=False, hash=False)

    @property
    def identifier(self) -> str:
        return _identifier(self.name, self.extras)


def _identifier(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


class _Background:
    """An asyncio loop in a thread: the resolver submits coroutines and waits on them."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def submit(self, coroutine: Any) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class _IndexCache:
    """Memoised index answers, shared by the resolver and the prefetcher. Lives on the
    background loop: its dicts are only touched from that thread."""

    def __init__(self, client: IndexClient, target: TargetEnvironment) -> None:
        self.client = client
        self.target = target
        self._releases: dict[str, asyncio.Task] = {}
        self._metadata: dict[tuple[str, str], asyncio.Task] = {}
        self._crawled: set[str] = set()
        # Answers already in, which the resolver thread reads without a round trip
        # through the loop (a dict lookup is atomic; only the loop thread writes).
        self.known_releases: dict[str, tuple[list[IndexRelease] | None, str]] = {}
        self.known_metadata: dict[tuple[str, str], ReleaseMetadata | str] = {}
        self._usable: dict[str, dict[Version, IndexRelease]] = {}

    def usable(self, name: str, releases: Sequence[IndexRelease]) -> dict[Version, IndexRelease]:
        """The project's releases that install on the target, newest first; computed once
        per project (botocore has thousands), by whichever thread asks first."""
        usable = self._usable.get(name)
        if usable is None:
            found = _usable_versions(releases, self.target.python_full_version)
            # The cached page lists releases newest first (sources.index.extract_releases).
            usable = self._usable[name] = found
        return usable

    def usable_of_specifiers(
        self, name: str, releases: Sequence[IndexRelease], specifiers: Iterable[SpecifierSet]
    ) -> Mapping[Version, IndexRelease]:
        """The usable releases that may satisfy `specifiers`, newest first. With an exact
        pin (`==X`), the release of that version alone, found by its version string
        without parsing the project's thousands of others (the cache keeps versions
        normalised); every usable release when the pin's string is not there (another
        spelling of the same version) or the project has a local version (1.0+cpu, which
        `==1.0` matches too)."""
        pins = {
            str(Version(s.version))
            for spec in specifiers
            for s in spec
            if s.operator == "==" and "*" not in s.version and _valid_version(s.version)
        }
        if pins:
            found = [r for r in releases if r.version in pins]
            if found and not any("+" in r.version for r in releases):
                return _usable_versions(found, self.target.python_full_version)
        return self.usable(name, releases)

    def asked(self, name: str, version: str) -> bool:
        """Whether this metadata was asked for already (read from the resolver thread)."""
        return (name, version) in self._metadata

    def crawled(self, requirement: _Req) -> bool:
        return requirement.identifier in self._crawled

    def answered_releases(self, name: str) -> tuple[list[IndexRelease] | None, str] | None:
        """The project's releases if answered already (read from the resolver thread):
        by this resolution, or by the command's other scan (IndexClient.kept_releases)."""
        known = self.known_releases.get(name)
        if known is None:
            kept = self.client.kept_releases(name)
            if kept is not None:
                known = (kept, "")
        return known

    def answered_metadata(self, name: str, release: IndexRelease) -> ReleaseMetadata | str | None:
        """The release's dependencies if answered already, as answered_releases."""
        known = self.known_metadata.get((name, release.version))
        return known if known is not None else self.client.kept_metadata(release)

    def worth_crawling(self, requirement: _Req) -> bool:
        """Not crawled yet, nor answered by the command's other scan, whose answers the
        resolver then reads as it goes, without a round trip through the loop."""
        if self.crawled(requirement):
            return False
        return self.client.kept_releases(requirement.name) is None

    async def releases(self, name: str) -> tuple[list[IndexRelease] | None, str]:
        task = self._releases.get(name)
        if task is None:
            task = self._releases[name] = asyncio.ensure_future(self.client.releases(name))
            task.add_done_callback(functools.partial(_keep, self.known_releases, name))
        return await asyncio.shield(task)

    async def metadata(self, name: str, version: str) -> ReleaseMetadata | str:
        key = (name, version)
        task = self._metadata.get(key)
        if task is None:
            task = self._metadata[key] = asyncio.ensure_future(self._metadata_of(name, version))
            task.add_done_callback(functools.partial(_keep, self.known_metadata, key))
        return await asyncio.shield(task)

    async def _metadata_of(self, name: str, version: str) -> ReleaseMetadata | str:
        releases, why = await self.releases(name)
        release = next((r for r in releases or [] if r.version == version), None)
        if release is None:
            return f"{name} {version} is not on the index ({why or 'no such release'})"
        try:
            return await self.client.metadata(name, release)
        except MetadataUnavailable as exc:
            return str(exc)

    async def prefetch(self, requirement: _Req) -> None:
        """Crawl ahead: the releases of this requirement, the metadata of its newest
        matching release, and the same for each of that release's dependencies, all
        concurrently. The resolver then finds nearly every answer already here; a guess
        that backtracking proves wrong costs a request, not a wrong result."""
        key = requirement.identifier
        if key in self._crawled:
            return
        self._crawled.add(key)
        releases, _ = await self.releases(requirement.name)
        if not releases:
            return
        usable = self.usable_of_specifiers(requirement.name, releases, [requirement.specifier])
        best = _best_version(usable, [requirement.specifier])
        if best is None:
            return
        metadata = await self.metadata(requirement.name, str(best))
        if isinstance(metadata, str):
            return
        children = []
        for line in metadata.requires_dist:
            for extras in (frozenset(), requirement.extras) if requirement.extras else ((),):
                try:
                    child = applicable_requirement(line, frozenset(extras), self.target)
                except InvalidRequirement:
                    continue
                if child is not None:
                    children.append(self.prefetch(child))
        await asyncio.gather(*children)


def _keep(answers: dict, key: Any, task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is None:
        answers[key] = task.result()


@functools.cache
def _python_ok(requires_python: str, python_full_version: str) -> bool:
    """Whether a Python X.Y.Z satisfies requires-python (`>=3.11.5` holds for 3.11.7, not for
    3.11.0). Cached: a project's thousands of files share a handful of values."""
    if not requires_python or not python_full_version:
        return True
    try:
        return SpecifierSet(requires_python).contains(python_full_version, prereleases=True)
    except InvalidSpecifier:
        return True  # pip ignores an invalid requires-python too


def _usable_versions(
    releases: Sequence[IndexRelease], python_full_version: str
) -> dict[Version, IndexRelease]:
    """Releases with a file that installs on the target Python (X.Y.Z), by version."""
    usable: dict[Version, IndexRelease] = {}
    for release in releases:
        if not any(_python_ok(r, python_full_version) for r in release.requires_python or ("",)):
            continue
        version = _version(release.version)
        if version is not None:
            usable[version] = release
    return usable


@functools.lru_cache(maxsize=1 << 17)
def _version(text: str) -> Version | None:
    """Parsed once per process: a 200-package closure lists some 20,000 releases, and a
    gate resolves two sides that share nearly all of them."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _best_version(
    usable: Mapping[Version, IndexRelease], specifiers: Iterable[SpecifierSet]
) -> Version | None:
    """The newest usable version (`usable` is newest first) that the specifiers allow, a
    final release if there is one."""
    specifiers = list(specifiers)
    versions = list(usable)
    for allow_pre in (False, True):
        for version in versions:
            if version.is_prerelease and not allow_pre:
                continue
            if all(s.contains(version, prereleases=True) for s in specifiers):
                return version
    return None


class _Provider(AbstractProvider):
    def __init__(
        self,
        background: _Background,
        cache: _IndexCache,
        target: TargetEnvironment,
        constraints: Mapping[str, SpecifierSet],
        allow_prereleases: bool,
    ) -> None:
        self.background = background
        self.cache = cache
        self.target = target
        self.constraints = constraints
        self.allow_prereleases = allow_prereleases
        self.dependencies: dict[_Candidate, list[_Req]] = {}
        self.problems: list[Problem] = []
        self.unknown_projects: dict[str, str] = {}
        self.display_names: dict[str, str] = {}
        # is_satisfied_by's answers, per specifier object (held here, so that its id is
        # never reused) and version: resolvelib asks again for every pin at every round.
        self._satisfied: dict[int, tuple[SpecifierSet, dict[Version, bool]]] = {}

    # --- resolvelib's questions ---

    def identify(self, requirement_or_candidate: _Req | _Candidate) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, _Candidate],
        candidates: Mapping[str, Iterator[_Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> tuple:
        infos = list(information[identifier])
        pinned = any(
            any(
                s.operator in ("==", "===") and "*" not in s.version
                for s in info.requirement.specifier
            )
            for info in infos
        )
        direct = any(info.parent is None for info in infos)
        causes = {c.requirement.name for c in backtrack_causes} | {
            c.parent.name for c in backtrack_causes if c.parent is not None
        }
        return (identifier.split("[")[0] not in causes, not pinned, not direct, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[_Req]],
        incompatibilities: Mapping[str, Iterator[_Candidate]],
    ) -> list[_Candidate]:
        wanted = list(requirements[identifier])
        name = wanted[0].name
        extras = wanted[0].extras
        known = self.cache.answered_releases(name)
        releases, why = known or self.background.call(self.cache.releases(name))
        if releases is None:
            self.unknown_projects[name] = why
            return []
        excluded = {c.version for c in incompatibilities[identifier]}
        specifiers = [r.specifier for r in wanted]
        if name in self.constraints:
            specifiers.append(self.constraints[name])
        by_version = self.cache.usable_of_specifiers(name, releases, specifiers)
        explicit_pre = self.allow_prereleases or any(
            s.prereleases for s in specifiers if len(s) > 0
        )
        exact_pins = {
            Version(s.version)
            for spec in specifiers
            for s in spec
            if s.operator in ("==", "===") and "*" not in s.version and _valid_version(s.version)
        }
        matching = []
        for version, release in by_version.items():
            if version in excluded:
                continue
            if not all(s.contains(version, prereleases=True) for s in specifiers):
                continue
            if release.yanked and version not in exact_pins:
                continue  # PEP 592: a yanked release only when pinned exactly
            matching.append(_Candidate(name, version, extras, release))
        finals = [c for c in matching if not c.version.is_prerelease]
        chosen = matching if explicit_pre or not finals else finals
        chosen.sort(key=lambda c: c.version, reverse=True)
        if chosen and not self.cache.asked(name, str(chosen[0].version)):
            if self.cache.answered_metadata(name, chosen[0].release) is None:
                self.background.submit(self.cache.metadata(name, str(chosen[0].version)))
        return chosen

    def is_satisfied_by(self, requirement: _Req, candidate: _Candidate) -> bool:
        specifier = requirement.specifier
        entry = self._satisfied.get(id(specifier))
        if entry is None:
            entry = self._satisfied[id(specifier)] = (specifier, {})
        answers = entry[1]
        answer = answers.get(candidate.version)
        if answer is None:
            answer = answers[candidate.version] = specifier.contains(
                candidate.version, prereleases=True
            )
        return answer

    def get_dependencies(self, candidate: _Candidate) -> list[_Req]:
        if candidate in self.dependencies:
            return self.dependencies[candidate]
        requirements: list[_Req] = []
        if candidate.extras:
            # pkg[extra] is pkg itself, same version, plus what the extra adds.
            requirements.append(
                _Req(candidate.name, frozenset(), SpecifierSet(f"=={candidate.version}"))
            )
        key = (candidate.name, str(candidate.version))
        metadata = self.cache.answered_metadata(candidate.name, candidate.release)
        if metadata is None:
            metadata = self.background.call(self.cache.metadata(*key))
        if isinstance(metadata, str):
            if not candidate.extras:
                self.problems.append(
                    Problem("dependencies-unknown", metadata, package=candidate.name)
                )
            self.dependencies[candidate] = requirements
            return requirements
        for line in metadata.requires_dist:
            requirement = self._applicable(candidate, line)
            if requirement is not None:
                requirements.append(requirement)
        for requirement in requirements:
            if self.cache.worth_crawling(requirement):
                self.background.submit(self.cache.prefetch(requirement))
        self.dependencies[candidate] = requirements
        return requirements

    def _applicable(self, candidate: _Candidate, line: str) -> _Req | None:
        try:
            requirement = applicable_requirement(line, candidate.extras, self.target)
        except InvalidRequirement:
            self.problems.append(
                Problem(
                    "bad-metadata",
                    f"{candidate.name} {candidate.version}: unparsable Requires-Dist {line!r:.200}",
                    package=candidate.name,
                )
            )
            return None
        if requirement is not None:
            self.display_names.setdefault(requirement.name, requirement.display_name)
        return requirement


@functools.lru_cache(maxsize=65536)
def _parse_requirement(line: str) -> PackagingRequirement:
    return PackagingRequirement(line)


def applicable_requirement(
    line: str, extras: frozenset[str], target: TargetEnvironment
) -> _Req | None:
    """A Requires-Dist line as a requirement of the release installed with `extras`, or
    None when its marker does not hold for the target. With extras, only what the extras
    add: the release itself (no extras) brings the rest."""
    alternatives = tuple(tuple(a.items()) for a in target.alternatives)
    return _applicable_for(line, extras, tuple(target.markers.items()), alternatives)


@functools.lru_cache(maxsize=65536)
def _applicable_for(
    line: str,
    extras: frozenset[str],
    markers: tuple[tuple[str, str], ...],
    alternatives: tuple[tuple[tuple[str, str], ...], ...],
) -> _Req | None:
    """applicable_requirement, once per process for each line, extras and marker values:
    the prefetcher and the resolver ask the same questions, and so do both sides of a
    gate (some 2,500 lines, each marker evaluated for each)."""
    target = TargetEnvironment(dict(markers), "", alternatives=tuple(dict(a) for a in alternatives))
    parsed = _parse_requirement(line)
    if parsed.url:
        return None  # a direct URL inside published metadata: PyPI refuses these
    marker = parsed.marker
    if extras:
        if marker is None or marker_applies(marker, target, ""):
            return None
        extra = next((e for e in sorted(extras) if marker_applies(marker, target, e)), None)
        if extra is None:
            return None
    else:
        if marker is not None and not marker_applies(marker, target, ""):
            return None
        extra = None
    return _Req(
        canonicalize_name(parsed.name),
        frozenset(canonicalize_name(e) for e in parsed.extras),
        parsed.specifier,
        marker=str(marker) if marker else None,
        parent_extra=extra,
        display_name=parsed.name,
    )


def _valid_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def marker_applies(marker: Marker, target: TargetEnvironment, extra: str) -> bool:
    """Whether a marker holds for the target, or for any of its platforms in the
    all-platforms mode (a conservative closure)."""
    return marker_holds(marker, target, extras=(extra,))


def resolve(
    requirements: Sequence[Requirement],
    target: TargetEnvironment,
    fetcher_factory: Any,
    index_url: str,
    constraints: Sequence[Requirement] = (),
    allow_prereleases: bool = False,
    source: str = "declared requirements",
) -> Resolution:
    """Pin the closure of `requirements` for `target`. `fetcher_factory()` makes the
    Fetcher on the background loop (its HTTP client must live there)."""
    roots: list[_Req] = []
    problems: list[Problem] = []
    for requirement in requirements:
        if requirement.url or requirement.editable:
            continue  # not from an index: scanned from what the manifest says (see scan)
        if requirement.marker:
            try:
                if not marker_applies(Marker(requirement.marker), target, ""):
                    continue
            except InvalidMarker:
                where = requirement.location or "requirement"
                raise InputError(f"{where}: invalid marker {requirement.marker!r}") from None
        roots.append(
            _Req(
                requirement.name,
                requirement.extras,
                SpecifierSet(requirement.specifier),
                marker=requirement.marker,
                declared=requirement,
            )
        )
    constraint_specs: dict[str, SpecifierSet] = {}
    for constraint in constraints:
        combined = constraint_specs.get(constraint.name, SpecifierSet())
        constraint_specs[constraint.name] = combined & SpecifierSet(constraint.specifier)

    background = _Background()
    fetcher: Fetcher = background.call(_make(fetcher_factory))
    try:
        client = IndexClient(fetcher, index_url)
        cache = _IndexCache(client, target)
        for root in roots:
            if cache.worth_crawling(root):
                background.submit(cache.prefetch(root))
        provider = _Provider(background, cache, target, constraint_specs, allow_prereleases)
        try:
            mapping = pinned_closure(roots, provider)
            if mapping is None:
                mapping = (
                    Resolver(provider, BaseReporter()).resolve(roots, max_rounds=MAX_ROUNDS).mapping
                )
        except ResolutionImpossible as exc:
            raise InputError(_explain_conflict(exc, provider)) from None
        except ResolutionTooDeep:
            raise InputError(
                f"resolution gave up after {MAX_ROUNDS} rounds of backtracking; pin some "
                "requirements more tightly"
            ) from None
    finally:
        background.call(_cancel_crawl())
        background.call(fetcher.aclose())
        background.close()
    resolution = _to_resolution(mapping, provider, roots, target, source, problems)
    return dataclasses.replace(
        resolution,
        requests_sent=fetcher.requests_sent,
        notes=stale_notes(fetcher.stale_answers),
    )


def stale_notes(answers: Sequence[tuple[str, str]], shown: int = 5) -> tuple[str, ...]:
    """What the report says when the resolver used expired cache entries: the versions
    and dependencies it chose from may have changed on the index since. Each answer is
    named by the last segment of its URL: a project's page, or a file's metadata."""

    def named(url: str) -> str:
        return url.rstrip("/").rpartition("/")[2] or url

    failed = sorted({named(url): why for url, why in answers if why}.items())
    offline = sorted({named(url) for url, why in answers if not why})
    notes = []
    for urls, why in (
        ([url for url, _ in failed], "because the index failed"),
        (offline, "because the scan was offline"),
    ):
        if not urls:
            continue
        count = counted(len(urls), "index answer")
        cause = f" ({failed[0][1][:200]})" if why.endswith("failed") else ""
        listed = some_of(urls, shown)
        notes.append(
            f"stale: the resolution used {count} from cache entries older than their "
            f"time-to-live {why}{cause}: {listed}"
        )
    return tuple(notes)


async def _make(factory: Any) -> Fetcher:
    return factory()


async def _cancel_crawl() -> None:
    """End the guesses still in flight: the resolver is done with the index."""
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _exact_pin(requirement: _Req) -> Version | None:
    """The one version `name==X` allows (no wildcard, no other clause); None otherwise."""
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
        return None
    return Version(specifiers[0].version) if _valid_version(specifiers[0].version) else None


def pinned_closure(roots: Sequence[_Req], provider: _Provider) -> dict[str, _Candidate] | None:
    """When every requirement is pinned exactly (pip-compile output, a lab's frozen pins)
    and the pins hold every dependency they bring, the closure is the pins: checked, not
    searched. resolvelib would reach the same answer, but its bookkeeping grows with the
    square of the pins (about 0.6 s for 200). None: a root is not pinned, a pin is not
    installable on the target, or a dependency is missing from the pins or not satisfied
    by them; then the resolver searches (and explains any conflict) as usual."""
    pins: dict[str, Version] = {}
    for root in roots:
        version = _exact_pin(root)
        if version is None or pins.setdefault(root.name, version) != version:
            return None
    wanted: dict[str, list[_Req]] = {}
    for root in roots:
        wanted.setdefault(root.identifier, []).append(root)
    mapping: dict[str, _Candidate] = {}
    pending = list(wanted)
    while pending:
        identifier = pending.pop()
        found = provider.find_matches(identifier, wanted, {identifier: []})
        if not found or found[0].version != pins[found[0].name]:
            return None
        candidate = mapping[identifier] = found[0]
        for dependency in provider.get_dependencies(candidate):
            pin = pins.get(dependency.name)
            if pin is None or not dependency.specifier.contains(pin, prereleases=True):
                return None
            if dependency.identifier not in wanted:
                # `name[extra]` of a pinned name: that very version, with the extra.
                pending.append(dependency.identifier)
                wanted[dependency.identifier] = [
                    _Req(dependency.name, dependency.extras, SpecifierSet(f"=={pin}"))
                ]
            wanted[dependency.identifier].append(dependency)
    return mapping


def _to_resolution(
    mapping: Mapping[str, _Candidate], provider: _Provider, roots, target, source, problems
) -> Resolution:
    pinned: dict[str, _Candidate] = {}
    for candidate in mapping.values():
        if not candidate.extras:
            pinned[candidate.name] = candidate
    declared: dict[str, list[Location]] = {}
    for root in roots:
        if root.declared is not None and root.declared.location is not None:
            declared.setdefault(root.name, []).append(root.declared.location)
    packages = []
    for name, candidate in sorted(pinned.items()):
        python = [r for r in candidate.release.requires_python if r]
        packages.append(
            Package(
                name=name,
                version=str(candidate.version),
                display_name=provider.display_names.get(name, name),
                requires_python=python[0] if len(python) == 1 else "",
                declared_at=tuple(declared.get(name, ())),
            )
        )
    edges: dict[tuple[str, str], Edge] = {}
    for candidate in mapping.values():
        for requirement in provider.dependencies.get(candidate, []):
            if requirement.name == candidate.name or requirement.name not in pinned:
                continue
            key = (candidate.name, requirement.name)
            if key in edges and edges[key].extra is None:
                continue
            edges[key] = Edge(
                parent=candidate.name,
                child=requirement.name,
                specifier=str(requirement.specifier),
                marker=requirement.marker,
                extra=requirement.parent_extra,
            )
    return Resolution(
        packages=tuple(packages),
        edges=tuple(edges[k] for k in sorted(edges)),
        target=target,
        source=source,
        roots=tuple(dict.fromkeys(r.name for r in roots)),
        problems=tuple(problems) + tuple(provider.problems),
    )


def _explain_conflict(exc: ResolutionImpossible, provider: _Provider) -> str:
    """Say which requirements clash, as pip does: each with who asked for it."""
    causes = list(exc.causes)
    names = {c.requirement.name for c in causes}
    unknown = [n for n in names if n in provider.unknown_projects]
    if unknown:
        name = unknown[0]
        where = _where(next(c for c in causes if c.requirement.name == name))
        return f"{where}{name}: {provider.unknown_projects[name]}"
    parts = []
    for cause in causes:
        requirement = cause.requirement
        text = f"{requirement.identifier}{requirement.specifier}"
        if cause.parent is None:
            parts.append(f"{_where(cause)}{text} (direct requirement)")
        else:
            parts.append(f"{text} (required by {cause.parent.name} {cause.parent.version})")
    if len(causes) == 1 and causes[0].parent is None:
        python = provider.target.python_full_version
        return f"{parts[0]}: no version on the index satisfies it for Python {python}"
    return "conflicting requirements: " + "; ".join(parts)


def _where(cause) -> str:
    declared = cause.requirement.declared
    return f"{declared.location}: " if declared is not None and declared.location else ""
