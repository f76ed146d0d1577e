"""What a change is compared with (`trustmap gate --baseline`, `trustmap diff`), as the
inputs stage reads it:

- a saved trustmap output (the JSON report, or a CycloneDX SBOM trustmap annotated) is read
  back into a Snapshot, with no scan: `saved_snapshot`;
- `git:REF` is the same manifest files as they are at REF, read with `git show` into a
  private folder (no checkout, the working tree is not touched), to be scanned like any
  target: `files_at_ref`;
- anything else (a lockfile, a requirements file, a plain SBOM) is a target, scanned.

Nothing here scans or decides; scanner.gate wires it to the scan and the policy stage."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from scanner.inputs.default_target import PROJECT_FILES
from scanner.inputs.saved_result import (
    MAX_SAVED_BYTES,
    is_trustmap_report,
    load_saved,
    object_list,
    project_name,
)
from scanner.model import InputError, Publishers, Snapshot

GIT_PREFIX = "git:"
MAX_BASELINE_BYTES = MAX_SAVED_BYTES
# Files copied out of REF: the manifests and what they may include (`-r base.txt`,
# `-c constraints.txt`, a requirements/ folder), never the whole tree.
_MANIFEST_SUFFIXES = (".txt", ".in", ".toml", ".lock", ".cfg", ".json")
_MANIFEST_NAMES = frozenset(PROJECT_FILES) | {"Pipfile", "trustmap.toml"}
MAX_FILES_AT_REF = 500
MAX_BYTES_AT_REF = 64 * 1024 * 1024
GIT_TIMEOUT = 60.0
_PREFIX = "trustmap:"


def is_git_spec(spec: str) -> bool:
    return spec.startswith(GIT_PREFIX)


# --- saved trustmap outputs ---------------------------------------------------------------


def saved_snapshot(path: Path) -> Snapshot | None:
    """The Snapshot a saved trustmap JSON report or trustmap-annotated CycloneDX JSON holds;
    None when `path` is neither (it is then a target to scan). A file that claims to be
    one of them and is malformed is an InputError naming what is wrong."""
    if path.is_dir() or path.suffix.lower() != ".json":
        return None
    data = load_saved(path, "baseline")
    if data is None or not isinstance(data, dict):
        return None  # not JSON at all: let the input kinds say what it is
    if is_trustmap_report(data):
        return _from_json_report(data, path)
    if data.get("bomFormat") == "CycloneDX" and _annotated_by_trustmap(data):
        return _from_cyclonedx(data, path)
    return None


def _from_json_report(data: Mapping[str, Any], path: Path) -> Snapshot:
    packages: dict[str, str] = {}
    findings: set[tuple[str, str]] = set()
    undetermined: set[tuple[str, str]] = set()
    publishers: dict[str, Publishers] = {}
    titles: dict[tuple[str, str], str] = {}
    severities: dict[tuple[str, str], Any] = {}
    entries = data.get("packages")
    if not isinstance(entries, list):
        raise InputError(f"{path}: packages: not a list: not a trustmap JSON report")
    for index, entry in enumerate(entries):
        where = f"{path}: packages[{index}]"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: not an object")
        name = project_name(entry.get("name"), where)
        version = entry.get("version") or ""
        packages[name] = str(version)
        for finding in object_list(entry.get("findings"), f"{where}.findings"):
            key = (name, str(finding.get("rule", "")))
            findings.add(key)
            titles[key] = str(finding.get("title", ""))
            severities[key] = str(finding.get("severity", ""))
        for check in object_list(entry.get("undetermined"), f"{where}.undetermined"):
            undetermined.add((name, str(check.get("rule", ""))))
        owner = entry.get("publishers")
        if (
            isinstance(owner, dict)
            and owner.get("known")
            and isinstance(owner.get("accounts"), list)
        ):
            publishers[name] = Publishers(
                frozenset(str(a) for a in owner["accounts"]), str(owner.get("organization") or "")
            )
    return Snapshot(
        source=str(path),
        packages=packages,
        findings=frozenset(findings),
        undetermined=frozenset(undetermined),
        publishers=publishers,
        titles=titles,
        severities=severities,
    )


def _annotated_by_trustmap(data: Mapping[str, Any]) -> bool:
    return any(
        str(p.get("name", "")).startswith(_PREFIX)
        for component in _components(data.get("components"))
        for p in _properties(component)
    )


def _properties(component: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A component's properties that are objects (anything else in the list, or a
    `properties` that is no list, is not trustmap's and is passed over)."""
    value = component.get("properties")
    return [p for p in value if isinstance(p, dict)] if isinstance(value, list) else []


def _components(value: Any, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    if not isinstance(value, list) or depth > 20:
        return
    for component in value:
        if isinstance(component, dict):
            yield component
            yield from _components(component.get("components"), depth + 1)


def _from_cyclonedx(data: Mapping[str, Any], path: Path) -> Snapshot:
    packages: dict[str, str] = {}
    findings: set[tuple[str, str]] = set()
    undetermined: set[tuple[str, str]] = set()
    publishers: dict[str, Publishers] = {}
    titles: dict[tuple[str, str], str] = {}
    severities: dict[tuple[str, str], Any] = {}
    for index, component in enumerate(_components(data.get("components"))):
        properties = _properties(component)
        if not any(str(p.get("name", "")).startswith(_PREFIX) for p in properties):
            continue  # not a package trustmap scanned (the input SBOM's own components)
        name = project_name(component.get("name"), f"{path}: components[{index}].name")
        packages[name] = str(component.get("version") or "")
        accounts: set[str] = set()
        organization = ""
        known = True
        for prop in properties:
            key, value = str(prop.get("name", "")), str(prop.get("value", ""))
            if key.startswith(_PREFIX + "finding:") and not key.endswith(":evidence"):
                finding = (name, key.removeprefix(_PREFIX + "finding:"))
                findings.add(finding)
                severity, _, title = value.partition(": ")
                severities[finding], titles[finding] = severity, title
            elif key.startswith(_PREFIX + "undetermined:"):
                undetermined.add((name, key.removeprefix(_PREFIX + "undetermined:")))
            elif key == _PREFIX + "publisher":
                accounts.add(value)
            elif key == _PREFIX + "organization":
                organization = value
            elif key == _PREFIX + "publishers" and value.startswith("unknown"):
                known = False
        if known and any(p.get("name") == _PREFIX + "publishers" for p in properties):
            publishers[name] = Publishers(frozenset(accounts), organization)
    return Snapshot(
        source=str(path),
        packages=packages,
        findings=frozenset(findings),
        undetermined=frozenset(undetermined),
        publishers=publishers,
        titles=titles,
        severities=severities,
    )


# --- git:REF ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FilesAtRef:
    """The targets as they are at `ref`, copied under `folder`: `targets` are the paths to
    scan (in the order given); `missing` the targets that do not exist at `ref` (a new
    manifest: everything it brings is new)."""

    ref: str
    folder: Path
    targets: tuple[str, ...]
    missing: tuple[str, ...]


def _git(args: list[str], cwd: Path, what: str) -> bytes:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise InputError(f"{what}: git is not installed") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"{what}: git took longer than {GIT_TIMEOUT:g} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"{what}: {message[-1] if message else 'git failed'}")
    return done.stdout


def check_ref(ref: str, cwd: Path) -> str:
    """The commit `ref` names, or an InputError saying why it names none."""
    what = f"{GIT_PREFIX}{ref}"
    if not ref or ref.startswith("-") or any(c.isspace() or ord(c) < 32 for c in ref):
        raise InputError(f"{what}: not a git revision")
    _git(["rev-parse", "--show-toplevel"], cwd, f"{what}: {cwd} is not in a git repository")
    out = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
               cwd, f"{what}: no such commit")  # fmt: skip
    return out.decode().strip()


def show_at_ref(ref: str, path: Path, cwd: Path) -> bytes | None:
    """The content of `path` (a file of the working tree) at `ref`; None when it did not
    exist there."""
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd, f"{GIT_PREFIX}{ref}").decode().strip())
    relative = _relative_to(path, cwd, top)
    if relative is None:
        return None
    listed = _git(["ls-tree", "--full-name", "--name-only", "-z", ref, "--", str(relative)],
                  top, f"{GIT_PREFIX}{ref}")  # fmt: skip
    if not listed.strip(b"\0"):
        return None
    return _blob(ref, str(relative), top)


def _blob(ref: str, relative: str, top: Path) -> bytes:
    what = f"{GIT_PREFIX}{ref}:{relative}"
    size = int(_git(["cat-file", "-s", f"{ref}:{relative}"], top, what).decode().strip() or 0)
    if size > MAX_BASELINE_BYTES:
        raise InputError(f"{what}: {size} bytes is too large for a manifest")
    return _git(["cat-file", "blob", f"{ref}:{relative}"], top, what)


def _relative_to(path: Path, cwd: Path, top: Path) -> PurePosixPath | None:
    absolute = (cwd / path).resolve()
    try:
        return PurePosixPath(absolute.relative_to(top.resolve()).as_posix())
    except ValueError:
        return None


def files_at_ref(ref: str, targets: tuple[str, ...], cwd: Path, folder: Path) -> FilesAtRef:
    """Copy what each target reads, as it is at `ref`, into `folder`. A target that is a
    manifest file brings the manifests of its own folder (the files it may include); a
    project folder brings its manifests. `name==version` arguments are kept as they are;
    an installed environment cannot be read from git (an InputError says so)."""
    check_ref(ref, cwd)
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd, f"{GIT_PREFIX}{ref}").decode().strip())
    chosen: list[str] = []
    missing: list[str] = []
    copied: set[str] = set()
    budget = [MAX_FILES_AT_REF, MAX_BYTES_AT_REF]
    for target in targets:
        path = cwd / target
        if not path.exists() and not ("/" in target or target.endswith(_MANIFEST_SUFFIXES)):
            chosen.append(target)  # a requirement such as name==1.0: the same on both sides
            continue
        if path.is_dir() and not any((path / name).is_file() for name in PROJECT_FILES):
            raise InputError(
                f"{GIT_PREFIX}{ref}: {target} is not a project folder (a git baseline reads "
                "manifests and lockfiles, not an installed environment)"
            )
        relative = _relative_to(path, cwd, top)
        if relative is None:
            raise InputError(f"{GIT_PREFIX}{ref}: {target} is outside the git repository {top}")
        base = relative if path.is_dir() else relative.parent
        for name in _listed(ref, base, top):
            if name in copied:
                continue
            if not _wanted(PurePosixPath(name), base):
                continue
            if budget[0] <= 0:
                raise InputError(f"{GIT_PREFIX}{ref}: more than {MAX_FILES_AT_REF} manifests")
            content = _blob(ref, name, top)
            budget[0] -= 1
            budget[1] -= len(content)
            if budget[1] < 0:
                raise InputError(
                    f"{GIT_PREFIX}{ref}: manifests larger than {MAX_BYTES_AT_REF} bytes"
                )
            destination = folder / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(content)
            copied.add(name)
        at_ref = folder / relative
        if at_ref.exists() and (at_ref.is_file() or path.is_dir()):
            chosen.append(str(at_ref))
        else:
            missing.append(target)
    return FilesAtRef(ref, folder, tuple(chosen), tuple(missing))


def _listed(ref: str, base: PurePosixPath, top: Path) -> list[str]:
    spec = str(base) if str(base) not in ("", ".") else "."
    out = _git(["ls-tree", "-r", "--full-name", "--name-only", "-z", ref, "--", spec],
               top, f"{GIT_PREFIX}{ref}")  # fmt: skip
    return [n for n in out.decode("utf-8", "surrogateescape").split("\0") if n]


def _wanted(name: PurePosixPath, base: PurePosixPath) -> bool:
    """A manifest-like file at most two folders below the target's own folder."""
    try:
        depth = len(name.relative_to(base).parts) if str(base) not in ("", ".") else len(name.parts)
    except ValueError:
        return False
    if depth > 3:
        return False
    return name.name in _MANIFEST_NAMES or name.suffix.lower() in _MANIFEST_SUFFIXES
