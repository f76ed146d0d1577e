"""Read an installed Python environment from its `*.dist-info` metadata: the input kind
"environment" (a virtual-environment, conda or site-packages folder, or a Python
executable), registered like the file kinds.

Nothing in the environment is run: not its interpreter, not its packages. The Python
version and platform come from the environment's own files (pyvenv.cfg, the
lib/pythonX.Y folder name, conda-meta), and Requires-Dist markers and extras are evaluated
for that Python.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PackagingRequirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scanner.inputs.interface import Contribution, InputKind, ReadContext, register
from scanner.inputs.markers import host_platform, marker_environment
from scanner.licences import classifier_licence
from scanner.model import (
    Edge,
    InputError,
    Location,
    Package,
    Problem,
    Resolution,
    TargetEnvironment,
)
from scanner.names import invalid_name_reason, is_project_name, is_version

# METADATA headers are small; the long description after them is not needed and may be
# huge or hostile. Read at most this much of a file.
MAX_METADATA_BYTES = 2 * 1024 * 1024
_PYTHON_DIR = re.compile(r"^(python|pypy)(\d+)\.(\d+)t?$")


@dataclass(frozen=True)
class _Layout:
    site_dirs: tuple[Path, ...]
    python_version: str | None
    implementation: str  # "cpython" or "pypy"
    windows: bool
    description: str
    notes: tuple[str, ...]


def read_environment(target: str | os.PathLike[str] | None = None) -> Resolution:
    """Return the installed distributions of an environment and the edges between them.

    `target` may be a virtual-environment or conda folder, a Python executable, or a
    site-packages folder; None means the environment trustmap runs in.
    """
    layout = _current_layout() if target is None else _locate(Path(target))
    markers, notes = _marker_environment(layout)
    target_env = TargetEnvironment(markers=markers, description=layout.description, notes=notes)
    dists, problems = _read_distributions(layout.site_dirs)
    if not dists and not problems:
        raise InputError(
            f"{layout.description}: no installed distributions (*.dist-info) found in "
            + ", ".join(str(d) for d in layout.site_dirs)
        )
    edges, edge_problems = _edges(dists, markers)
    packages = tuple(sorted((d.package for d in dists.values()), key=lambda p: p.name))
    return Resolution(
        packages=packages,
        edges=edges,
        target=target_env,
        source=layout.description,
        roots=None,
        problems=tuple(problems) + edge_problems,
    )


def folder_pins(target: Path) -> list[tuple[str, str]]:
    """The (name, version) of each dist-info folder of an environment, from the folder
    names alone: cheap, before any METADATA is read, so that fetching can start while the
    environment is read (scanner.fetch_ahead). Only a guess: `read_environment`
    is what is scanned. Empty when the environment cannot be found (it says why)."""
    try:
        site_dirs = _locate(target).site_dirs
    except (InputError, OSError):
        return []
    pins = []
    for site_dir in site_dirs:
        try:
            entries = list(os.scandir(site_dir))
        except OSError:
            continue
        pins.extend(
            _name_from_folder(Path(entry.name))
            for entry in entries
            if entry.name.endswith(".dist-info")
        )
    return pins


_PYTHON_EXECUTABLE = re.compile(r"^(python|pypy)[\d.]*(\.exe)?$", re.IGNORECASE)


@register
class EnvironmentKind(InputKind):
    """An installed environment given as a target. A folder that is no other kind and
    holds no project file is read as one too (a prefix such as /usr, with
    lib/pythonX.Y/site-packages), or refused with what was expected."""

    name = "environment"
    priority = 0  # a folder or an executable is offered to it before any file kind
    is_lockfile = False
    reads_other_folders = True

    def matches_path(self, path: Path) -> bool:
        if path.is_dir():
            return (
                (path / "pyvenv.cfg").is_file()
                or (path / "conda-meta").is_dir()
                or _has_dist_info(path)
            )
        return bool(_PYTHON_EXECUTABLE.match(path.name)) and (
            os.access(path, os.X_OK) or path.name.lower().endswith(".exe")
        )

    def read(self, path: Path, context: ReadContext) -> Contribution:
        # An environment is read for its own Python, not for the context's target.
        return Contribution(pinned=(read_environment(path),))

    def describe(self, path: Path, contribution: Contribution) -> str:
        return contribution.pinned[0].source


# --- finding the site-packages folders and the Python they belong to ---------------------


def _current_layout() -> _Layout:
    import site

    dirs = [Path(p) for p in site.getsitepackages()]
    if site.ENABLE_USER_SITE and sys.prefix == sys.base_prefix:
        dirs.append(Path(site.getusersitepackages()))
    dirs = [d for d in dirs if d.is_dir()]
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return _Layout(
        site_dirs=tuple(dict.fromkeys(dirs)),
        python_version=version,
        implementation=sys.implementation.name,
        windows=sys.platform == "win32",
        description=f"the running environment ({sys.prefix})",
        notes=(),
    )


def _locate(target: Path) -> _Layout:
    if not target.exists():
        raise InputError(f"{target}: no such file or folder")
    if target.is_file() or (target.is_symlink() and not target.is_dir()):
        return _from_executable(target)
    if _has_dist_info(target):
        return _from_site_dir(target)
    if (target / "pyvenv.cfg").is_file() or (target / "conda-meta").is_dir():
        return _from_prefix(target)
    site_dirs = _prefix_site_dirs(target)
    if site_dirs:
        return _from_prefix(target)
    raise InputError(
        f"{target}: not a Python environment (expected a virtual environment, a conda "
        "environment, a Python executable or a site-packages folder)"
    )


def _has_dist_info(folder: Path) -> bool:
    try:
        return any(p.name.endswith(".dist-info") for p in folder.iterdir())
    except OSError:
        return False


def _prefix_site_dirs(prefix: Path) -> list[tuple[Path, str | None, str]]:
    """(site dir, "X.Y" or None, implementation) for every site folder under a prefix."""
    found: list[tuple[Path, str | None, str]] = []
    for lib in ("lib", "lib64", "Lib"):
        libdir = prefix / lib
        if not libdir.is_dir():
            continue
        if lib == "Lib" and (libdir / "site-packages").is_dir():
            found.append((libdir / "site-packages", None, "cpython"))
            continue
        for child in sorted(libdir.iterdir()):
            match = _PYTHON_DIR.match(child.name)
            if not match:
                continue
            implementation = "pypy" if match.group(1) == "pypy" else "cpython"
            for name in ("site-packages", "dist-packages"):
                if (child / name).is_dir():
                    found.append(
                        (child / name, f"{match.group(2)}.{match.group(3)}", implementation)
                    )
    # Debian's system Python keeps packages in /usr/lib/python3/dist-packages.
    debian = prefix / "lib" / "python3" / "dist-packages"
    if debian.is_dir():
        found.append((debian, None, "cpython"))
    unique: dict[Path, tuple[Path, str | None, str]] = {}
    for entry in found:
        unique.setdefault(entry[0].resolve(), entry)
    return list(unique.values())


def _read_pyvenv_cfg(prefix: Path) -> dict[str, str]:
    cfg = prefix / "pyvenv.cfg"
    values: dict[str, str] = {}
    if not cfg.is_file():
        return values
    try:
        text = cfg.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"{cfg}: cannot read: {exc.strerror}") from None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def _from_prefix(prefix: Path) -> _Layout:
    cfg = _read_pyvenv_cfg(prefix)
    site = _prefix_site_dirs(prefix)
    if not site:
        raise InputError(f"{prefix}: no site-packages folder found in this environment")
    notes: list[str] = []
    versions = {v for _, v, _ in site if v}
    version = None
    cfg_version = cfg.get("version_info") or cfg.get("version")
    if cfg_version:
        match = re.match(r"(\d+)\.(\d+)", cfg_version)
        version = f"{match.group(1)}.{match.group(2)}" if match else None
        notes.append(f"Python {cfg_version} from pyvenv.cfg")
    elif len(versions) == 1:
        version = versions.pop()
        notes.append(f"Python {version} from the lib/python{version} folder")
    dirs = [d for d, v, _ in site if version is None or v in (None, version)]
    implementation = next((impl for _, _, impl in site), "cpython")
    if cfg.get("include-system-site-packages", "false").lower() == "true" and cfg.get("home"):
        base = Path(cfg["home"]).parent
        base_dirs = [d for d, v, _ in _prefix_site_dirs(base) if v in (None, version)]
        dirs.extend(base_dirs)
        notes.append(f"includes the system site-packages of {base}")
    kind = "conda environment" if (prefix / "conda-meta").is_dir() else "environment"
    if cfg:
        kind = "virtual environment"
    return _Layout(
        site_dirs=tuple(dict.fromkeys(dirs)),
        python_version=version,
        implementation=implementation,
        windows=(prefix / "Lib" / "site-packages").is_dir() and (prefix / "Scripts").is_dir(),
        description=f"{kind} {prefix}",
        notes=tuple(notes),
    )


def _from_executable(executable: Path) -> _Layout:
    # bin/python -> the prefix is bin's parent; Scripts/python.exe on Windows likewise.
    if executable.parent.name not in ("bin", "Scripts"):
        # python.exe directly in the prefix (Windows base installs, conda on Windows).
        prefix = executable.parent
    else:
        prefix = executable.parent.parent
    if not os.access(executable, os.X_OK) and not executable.name.endswith(".exe"):
        raise InputError(f"{executable}: not a Python executable or an environment folder")
    if not _PYTHON_EXECUTABLE.match(executable.name):
        raise InputError(f"{executable}: not a Python executable or an environment folder")
    layout = _from_prefix(prefix)
    name_version = re.match(r"^(?:python|pypy)(\d+)\.(\d+)", executable.name)
    if name_version and layout.python_version is None:
        version = f"{name_version.group(1)}.{name_version.group(2)}"
        return _Layout(
            layout.site_dirs,
            version,
            layout.implementation,
            layout.windows,
            layout.description,
            (*layout.notes, f"Python {version} from the executable's name"),
        )
    return layout


def _from_site_dir(site_dir: Path) -> _Layout:
    parent = site_dir.resolve().parent
    match = _PYTHON_DIR.match(parent.name)
    notes: tuple[str, ...] = ()
    version = None
    implementation = "cpython"
    if match:
        version = f"{match.group(2)}.{match.group(3)}"
        implementation = "pypy" if match.group(1) == "pypy" else "cpython"
        notes = (f"Python {version} from the {parent.name} folder",)
    return _Layout(
        site_dirs=(site_dir,),
        python_version=version,
        implementation=implementation,
        windows=parent.name == "Lib",
        description=f"site-packages {site_dir}",
        notes=notes,
    )


def _marker_environment(layout: _Layout) -> tuple[dict[str, str], tuple[str, ...]]:
    """PEP 508 marker values for the target environment.

    What the environment's files do not say (the machine, the OS release) is taken from
    the machine trustmap runs on, and the report says so."""
    version = layout.python_version
    notes = list(layout.notes)
    if version is None:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        notes.append(
            f"the environment does not say its Python version; assumed {version} "
            "(the Python trustmap runs on)"
        )
    markers = marker_environment(version, host_platform(layout.windows), layout.implementation)
    return markers, tuple(notes)


# --- reading the distributions -----------------------------------------------------------


@dataclass
class _Dist:
    package: Package
    requires: tuple[PackagingRequirement, ...]
    provides_extra: frozenset[str]


def _read_distributions(site_dirs: Iterable[Path]) -> tuple[dict[str, _Dist], list[Problem]]:
    dists: dict[str, _Dist] = {}
    problems: list[Problem] = []
    for site_dir in site_dirs:
        try:
            entries = sorted(site_dir.iterdir())
        except OSError as exc:
            raise InputError(f"{site_dir}: cannot read: {exc.strerror}") from None
        for entry in entries:
            if not entry.name.endswith(".dist-info") or not entry.is_dir():
                continue
            dist, problem = _read_dist_info(entry)
            if problem:
                problems.append(problem)
            if dist is None:
                continue
            # The first site folder on the path wins, as at import time.
            if dist.package.name not in dists:
                dists[dist.package.name] = dist
    return dists, problems


def _name_from_folder(folder: Path) -> tuple[str, str]:
    stem = folder.name[: -len(".dist-info")]
    name, _, version = stem.partition("-")
    return name, version


def _read_dist_info(folder: Path) -> tuple[_Dist | None, Problem | None]:
    metadata_path = folder / "METADATA"
    folder_name, folder_version = _name_from_folder(folder)
    location = Location(str(folder))
    try:
        with metadata_path.open("rb") as fh:
            raw = fh.read(MAX_METADATA_BYTES)
    except OSError as exc:
        return _broken(folder_name, folder_version, location, f"cannot read METADATA: {exc}")
    try:
        headers = read_headers(raw)
    except ValueError as exc:
        return _broken(folder_name, folder_version, location, f"corrupt METADATA: {exc}")
    name = _first(headers, "name")
    version = _first(headers, "version")
    if not name or not version:
        return _broken(
            folder_name, folder_version, location, "corrupt METADATA: no Name or Version header"
        )
    notes: list[str] = []
    fatal = False
    if not is_project_name(name):
        # Kept, so that it is seen, but under no lookup: as a URL path it could fetch
        # another project's documents and borrow that project's trust.
        notes.append(f"METADATA Name {invalid_name_reason(name)}")
        fatal = True
    if not is_version(version):
        notes.append(f"METADATA Version {version[:100]!r} is not a valid version (PEP 440)")
    requires: list[PackagingRequirement] = []
    for line in headers.get("requires-dist", []):
        try:
            requires.append(PackagingRequirement(line))
        except InvalidRequirement:
            notes.append(f"unparsable Requires-Dist: {line[:200]!r}")
    direct_url, editable = _direct_url(folder)
    license_text = _first(headers, "license-expression") or _first(headers, "license")
    if not license_text:
        license_text = classifier_licence(headers.get("classifier", []))
    package = Package(
        name=canonicalize_name(name),
        version=version,
        display_name=name,
        summary=_first(headers, "summary")[:1000],
        license=license_text.strip()[:1000],
        requires_python=_first(headers, "requires-python"),
        origin=location,
        direct_url=direct_url,
        editable=editable,
        wheel_tags=_wheel_tags(folder),
        problems=tuple(notes),
    )
    problem = (
        Problem(
            "bad-metadata",
            f"{location.path}: {'; '.join(notes)}",
            package=package.name,
            location=location,
            fatal=fatal,
        )
        if notes
        else None
    )
    extras = frozenset(canonicalize_name(e) for e in headers.get("provides-extra", []))
    return _Dist(package, tuple(requires), extras), problem


def read_headers(raw: bytes) -> dict[str, list[str]]:
    """The header fields of a METADATA file (RFC 822 style, as core metadata 2.x writes
    it), by lower-case name. A plain line scan: the email-package parser behind
    packaging.metadata costs about 1.5 ms a file, a third of a warm scan's reading time."""
    text = raw.partition(b"\n\n")[0].decode("utf-8").replace("\r\n", "\n")
    if "\x00" in text:
        raise ValueError("NUL byte in the headers")
    headers: dict[str, list[str]] = {}
    values: list[str] | None = None
    for line in text.split("\n"):
        if line[:1] in (" ", "\t") and values:
            values[-1] += "\n" + line.strip()  # a folded continuation line
            continue
        field, colon, value = line.partition(":")
        if not colon or not field or " " in field.strip():
            if values is None:
                raise ValueError(f"not a header line: {line[:80]!r}")
            continue
        values = headers.setdefault(field.strip().lower(), [])
        values.append(value.strip())
    return headers


def _first(headers: dict[str, list[str]], field: str) -> str:
    values = headers.get(field)
    return values[0] if values else ""


def _broken(name: str, version: str, location: Location, why: str) -> tuple[_Dist, Problem]:
    """A dist-info folder whose METADATA cannot be read: keep the package, from its folder
    name, so that nothing is lost; its facts come from the index like any other (unless
    the folder name is no project name either: then it is never looked up)."""
    if not is_project_name(name):
        why = f"{why}; the folder name {invalid_name_reason(name)}"
    package = Package(
        name=canonicalize_name(name),
        version=version or "0",
        display_name=name,
        origin=location,
        problems=(why,),
    )
    problem = Problem(
        "bad-metadata", f"{location.path}: {why}", package=package.name, location=location
    )
    return _Dist(package, (), frozenset()), Problem(**{**problem.__dict__, "fatal": True})


def _direct_url(folder: Path) -> tuple[str | None, bool]:
    """PEP 610: a distribution installed from a URL, VCS checkout or local folder."""
    path = folder / "direct_url.json"
    if not path.is_file():
        return None, False
    try:
        data = json.loads(path.read_bytes()[:65536])
    except (OSError, ValueError):
        return None, False
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None, False
    editable = bool(isinstance(data.get("dir_info"), dict) and data["dir_info"].get("editable"))
    return data["url"], editable


def _wheel_tags(folder: Path) -> tuple[str, ...]:
    try:
        text = (folder / "WHEEL").read_text(encoding="utf-8", errors="replace")[:65536]
    except OSError:
        return ()
    return tuple(
        line.partition(":")[2].strip() for line in text.splitlines() if line.startswith("Tag:")
    )


# --- edges -------------------------------------------------------------------------------


def _marker_true(marker: Marker | None, markers: dict[str, str], extra: str) -> bool | None:
    if marker is None:
        return True
    try:
        return marker.evaluate({**markers, "extra": extra})
    except (UndefinedComparison, UndefinedEnvironmentName, InvalidMarker):
        return None


def _edges(
    dists: dict[str, _Dist], markers: dict[str, str]
) -> tuple[tuple[Edge, ...], tuple[Problem, ...]]:
    """One edge per requirement that applies in the environment.

    Extras: an extra is active when an installed parent asks for it, or, for packages
    that nothing asks an extra of (typically what the user installed with
    `pip install pkg[extra]`), when every requirement of the extra is installed. Repeated
    until nothing changes, because an active extra can activate others.
    """
    split = {name: _split_requirements(dist, markers) for name, dist in dists.items()}
    inferred = {name: _inferred_extras(dist, split[name], dists) for name, dist in dists.items()}
    active: dict[str, set[str]] = {name: set(extras) for name, extras in inferred.items()}
    requested: dict[str, set[str]] = {name: set() for name in dists}
    changed = True
    while changed:
        changed = False
        for name in dists:
            for req, _extra in _applicable(split[name], active[name]):
                child = canonicalize_name(req.name)
                wanted = {canonicalize_name(e) for e in req.extras}
                if child in dists and not wanted <= requested[child]:
                    requested[child] |= wanted
                    active[child] |= wanted
                    changed = True
    edges: list[Edge] = []
    problems: list[Problem] = []
    for name, dist in dists.items():
        for req, extra in _applicable(split[name], active[name], requested[name]):
            child = canonicalize_name(req.name)
            marker = str(req.marker) if req.marker else None
            where = dist.package.origin
            if child not in dists:
                problems.append(
                    Problem(
                        "missing-requirement",
                        f"{dist.package.label} requires {req}, which is not installed",
                        package=name,
                        location=where,
                    )
                )
                continue
            installed = dists[child].package.version
            satisfied = _satisfies(req, installed)
            if not satisfied:
                problems.append(
                    Problem(
                        "unsatisfied-requirement",
                        f"{dist.package.label} requires {req}, but "
                        f"{dists[child].package.label} is installed",
                        package=name,
                        location=where,
                    )
                )
            if child == name:
                continue  # a package that names itself in an extra (pkg[all] -> pkg[x])
            edges.append(
                Edge(
                    parent=name,
                    child=child,
                    specifier=str(req.specifier),
                    marker=marker,
                    extra=extra,
                    satisfied=satisfied,
                    extra_inferred=extra in inferred[name] and extra not in requested[name],
                )
            )
    unique = {(e.parent, e.child): e for e in edges}
    return tuple(unique[k] for k in sorted(unique)), tuple(problems)


_EXTRA_NAMED = re.compile(r"""\bextra\s*==\s*['"]([^'"]+)['"]""")


@dataclass(frozen=True)
class _Split:
    """A distribution's requirements for this environment: those that always apply, and
    for each extra those it adds. Each marker is evaluated once with no extra and once per
    extra it names (any other extra gives the no-extra answer), not once per extra the
    package offers: transformers offers about a hundred."""

    always: tuple[PackagingRequirement, ...]
    by_extra: dict[str, tuple[PackagingRequirement, ...]]


def _split_requirements(dist: _Dist, markers: dict[str, str]) -> _Split:
    always: list[PackagingRequirement] = []
    by_extra: dict[str, list[PackagingRequirement]] = {}
    for req in dist.requires:
        if _marker_true(req.marker, markers, "") is True:
            always.append(req)
            continue
        if req.marker is None:
            continue
        for named in dict.fromkeys(_EXTRA_NAMED.findall(str(req.marker))):
            extra = canonicalize_name(named)
            if _marker_true(req.marker, markers, extra) is True:
                by_extra.setdefault(extra, []).append(req)
    return _Split(tuple(always), {e: tuple(r) for e, r in by_extra.items()})


def _applicable(
    split: _Split, extras: set[str], preferred: frozenset[str] | set[str] = frozenset()
) -> Iterable[tuple[PackagingRequirement, str | None]]:
    """Requirements that apply here, with the extra that enabled each (or None); when
    several active extras enable one, a `preferred` (asked-for) extra is named."""
    for req in split.always:
        yield req, None
    seen: set[int] = set()
    for extra in sorted(extras, key=lambda e: (e not in preferred, e)):
        for req in split.by_extra.get(extra, ()):
            if id(req) not in seen:
                seen.add(id(req))
                yield req, extra


# Extras for a package's own development: people do not install these into the
# environments they work in, and inferring them would hang test tools under every package.
_DEVELOPMENT_EXTRAS = frozenset(
    {
        "test",
        "tests",
        "testing",
        "dev",
        "develop",
        "development",
        "doc",
        "docs",
        "lint",
        "linting",
        "typing",
        "type",
        "types",
        "mypy",
        "bench",
        "benchmark",
        "benchmarks",
        "check",
        "qa",
        "style",
        "coverage",
        "ci",
        "pytest",
    }
)


def _inferred_extras(dist: _Dist, split: _Split, dists: dict[str, _Dist]) -> set[str]:
    inferred = set()
    for extra in dist.provides_extra - _DEVELOPMENT_EXTRAS:
        reqs = split.by_extra.get(extra)
        if reqs and all(
            canonicalize_name(r.name) in dists
            and _satisfies(r, dists[canonicalize_name(r.name)].package.version)
            for r in reqs
        ):
            inferred.add(extra)
    return inferred


def _satisfies(req: PackagingRequirement, version: str) -> bool:
    if not req.specifier:
        return True
    try:
        return req.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False
