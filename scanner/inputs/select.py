"""Which input each command-line target is, and what they declare together.

A target is an installed environment (a folder or a Python executable), a manifest
(requirements file, pyproject.toml), a lockfile, a CycloneDX SBOM, or a `name==version`
argument. Installed environments, lockfiles and SBOMs are already pinned; manifests and
arguments are resolved later, together, against the index.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scanner.inputs import lockfiles
from scanner.inputs._common import load_toml, read_text
from scanner.inputs.cyclonedx_sbom import read_cyclonedx_sbom
from scanner.inputs.default_target import PROJECT_FILES, default_target
from scanner.inputs.environment import read_environment
from scanner.inputs.pyproject import parse_pyproject
from scanner.inputs.requirements import parse_requirements_file
from scanner.inputs.specs import parse_spec_arguments
from scanner.inputs.target import target_environment
from scanner.model import InputError, Problem, Requirement, Resolution, TargetEnvironment

_LOOKS_LIKE_PATH = re.compile(r"[/\\]|\.(txt|toml|lock|json|in|cfg)$")


@dataclass(frozen=True)
class DeclaredOptions:
    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    all_groups: bool = False


@dataclass
class InputSet:
    """Everything the targets say, before anything is resolved."""

    pinned: list[Resolution] = field(default_factory=list)
    declared: list[Requirement] = field(default_factory=list)
    constraints: list[Requirement] = field(default_factory=list)
    index_url: str | None = None  # from a requirements file's --index-url
    sbom: dict[str, Any] | None = None  # an input SBOM, to annotate on output
    descriptions: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def source(self) -> str:
        return ", ".join(self.descriptions)


def read_inputs(
    targets: tuple[str, ...],
    options: DeclaredOptions,
    target: TargetEnvironment | None = None,
) -> InputSet:
    """Read every target. Lockfiles are read for `target` (default: this machine), as
    their installers would install them there."""
    target = target or target_environment()
    options = _WithTarget(options, target)
    inputs = InputSet()
    if not targets:
        chosen = default_target(os.environ, Path.cwd())
        if chosen.path is None:
            inputs.pinned.append(read_environment(None))
            inputs.descriptions.append(inputs.pinned[-1].source)
        else:
            _read_path(chosen.path, options, inputs)
        inputs.descriptions[-1] += f" ({chosen.why})"
        if inputs.pinned:  # a pinned input names itself in the report header
            only = inputs.pinned[-1]
            inputs.pinned[-1] = replace(only, source=f"{only.source} ({chosen.why})")
        return inputs
    specs: list[str] = []
    for argument in targets:
        path = Path(argument)
        if path.exists():
            _read_path(path, options, inputs)
        elif _LOOKS_LIKE_PATH.search(argument):
            raise InputError(f"{argument}: no such file or folder")
        else:
            specs.append(argument)
    if specs:
        inputs.declared.extend(parse_spec_arguments(specs))
        inputs.descriptions.append(" ".join(specs))
    return inputs


@dataclass(frozen=True)
class _WithTarget:
    declared: DeclaredOptions
    target: TargetEnvironment

    def lock_selection(self) -> lockfiles.Selection:
        return lockfiles.Selection.for_target(
            self.target,
            extras=self.declared.extras,
            all_extras=self.declared.all_extras,
            groups=self.declared.groups,
            all_groups=self.declared.all_groups,
        )


def _read_path(path: Path, options: _WithTarget, inputs: InputSet) -> None:
    if path.is_dir():
        if _is_environment(path):
            resolution = read_environment(path)
            inputs.pinned.append(resolution)
            inputs.descriptions.append(resolution.source)
            return
        for name in PROJECT_FILES:
            if (path / name).is_file():
                _read_file(path / name, options, inputs)
                return
        read_environment(path)  # raises the "not a Python environment" error
        return
    if _is_python_executable(path):
        resolution = read_environment(path)
        inputs.pinned.append(resolution)
        inputs.descriptions.append(resolution.source)
        return
    _read_file(path, options, inputs)


def _read_file(path: Path, options: _WithTarget, inputs: InputSet) -> None:
    kind = lockfiles.detect_input_kind(path)
    inputs.descriptions.append(f"{path} ({kind})")
    declared = options.declared
    if kind in lockfiles.LOCKFILE_KINDS:
        inputs.pinned.append(lockfiles.read_lockfile(path, kind, options.lock_selection()))
    elif kind == lockfiles.CYCLONEDX:
        sbom = read_cyclonedx_sbom(path)
        inputs.pinned.append(sbom.resolution)
        if inputs.sbom is None:
            inputs.sbom = sbom.document
    elif kind == lockfiles.PYPROJECT:
        groups = declared.groups
        if declared.all_groups:
            groups = (*groups, *pyproject_group_names(path))
        inputs.declared.extend(parse_pyproject(path, declared.extras, declared.all_extras, groups))
    elif kind == lockfiles.REQUIREMENTS:
        parsed = parse_requirements_file(path)
        inputs.declared.extend(parsed.requirements)
        inputs.constraints.extend(parsed.constraints)
        inputs.problems.extend(parsed.problems)
        if parsed.index_url and inputs.index_url is None:
            inputs.index_url = parsed.index_url
    else:
        raise InputError(f"{path}: cannot scan {kind} input")


def _is_environment(folder: Path) -> bool:
    if (folder / "pyvenv.cfg").is_file() or (folder / "conda-meta").is_dir():
        return True
    try:
        return any(p.name.endswith(".dist-info") for p in folder.iterdir())
    except OSError:
        return False


def _is_python_executable(path: Path) -> bool:
    return bool(re.match(r"^(python|pypy)[\d.]*(\.exe)?$", path.name, re.IGNORECASE)) and (
        os.access(path, os.X_OK) or path.name.lower().endswith(".exe")
    )


def pyproject_group_names(path: Path) -> tuple[str, ...]:
    """Every dependency group a pyproject.toml declares (PEP 735 and Poetry's), for
    --all-groups."""
    document = load_toml(read_text(path), str(path))
    names = list(document.get("dependency-groups") or {})
    tool = document.get("tool") if isinstance(document.get("tool"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    names.extend(poetry.get("group") or {} if isinstance(poetry.get("group"), dict) else {})
    return tuple(name for name in dict.fromkeys(names) if isinstance(name, str))
