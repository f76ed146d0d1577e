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

from scanner.inputs.default_target import PROJECT_FILES, default_target
from scanner.inputs.environment import folder_pins, read_environment
from scanner.inputs.interface import (
    Contribution,
    DeclaredOptions,
    ReadContext,
    detect_file_kind,
    detect_path_kind,
    other_folder_kind,
)
from scanner.inputs.specs import parse_spec_arguments
from scanner.inputs.target import target_environment
from scanner.model import InputError, Problem, Requirement, Resolution, TargetEnvironment

__all__ = ["DeclaredOptions", "InputSet", "read_inputs"]

_LOOKS_LIKE_PATH = re.compile(r"[/\\]|\.(txt|toml|lock|json|in|cfg)$")


@dataclass(frozen=True)
class InputSet:
    """Everything the targets say, before anything is resolved. Frozen: it is what the
    inputs stage hands on; `_Collected` gathers it file by file."""

    pinned: tuple[Resolution, ...] = ()
    declared: tuple[Requirement, ...] = ()
    constraints: tuple[Requirement, ...] = ()
    index_url: str | None = None  # from a requirements file's --index-url
    sbom: dict[str, Any] | None = None  # an input SBOM, to annotate on output
    descriptions: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def source(self) -> str:
        return ", ".join(self.descriptions)


@dataclass
class _Collected:
    """What the targets read so far say: private to read_inputs, frozen into an InputSet
    once every target is read."""

    pinned: list[Resolution] = field(default_factory=list)
    declared: list[Requirement] = field(default_factory=list)
    constraints: list[Requirement] = field(default_factory=list)
    index_url: str | None = None
    sbom: dict[str, Any] | None = None
    descriptions: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(self, contribution: Contribution) -> None:
        """Take what one file contributes; the first index URL and SBOM given win."""
        self.pinned.extend(contribution.pinned)
        self.declared.extend(contribution.declared)
        self.constraints.extend(contribution.constraints)
        self.problems.extend(contribution.problems)
        if contribution.index_url and self.index_url is None:
            self.index_url = contribution.index_url
        if contribution.sbom is not None and self.sbom is None:
            self.sbom = contribution.sbom

    def frozen(self) -> InputSet:
        return InputSet(
            pinned=tuple(self.pinned),
            declared=tuple(self.declared),
            constraints=tuple(self.constraints),
            index_url=self.index_url,
            sbom=self.sbom,
            descriptions=tuple(self.descriptions),
            problems=tuple(self.problems),
        )


def read_inputs(
    targets: tuple[str, ...],
    options: DeclaredOptions,
    target: TargetEnvironment | None = None,
) -> InputSet:
    """Read every target. Lockfiles are read for `target` (default: this machine), as
    their installers would install them there."""
    context = ReadContext(options, target or target_environment())
    inputs = _Collected()
    if not targets:
        chosen = default_target(os.environ, Path.cwd())
        if chosen.path is None:
            inputs.pinned.append(read_environment(None))
            inputs.descriptions.append(inputs.pinned[-1].source)
        else:
            _read_path(chosen.path, context, inputs)
        inputs.descriptions[-1] += f" ({chosen.why})"
        if inputs.pinned:  # a pinned input names itself in the report header
            only = inputs.pinned[-1]
            inputs.pinned[-1] = replace(only, source=f"{only.source} ({chosen.why})")
        return inputs.frozen()
    specs: list[str] = []
    for argument in targets:
        path = Path(argument)
        if path.exists():
            _read_path(path, context, inputs)
        elif _LOOKS_LIKE_PATH.search(argument):
            raise InputError(f"{argument}: no such file or folder")
        else:
            specs.append(argument)
    if specs:
        inputs.declared.extend(parse_spec_arguments(specs))
        inputs.descriptions.append(" ".join(specs))
    return inputs.frozen()


def installed_pins(targets: tuple[str, ...]) -> list[tuple[str, str]]:
    """What the installed environments among `targets` hold, as (name, version) from
    their dist-info folder names: a guess made before anything is read, to start
    fetching early. Other targets (manifests, lockfiles, the default one) give none."""
    pins: list[tuple[str, str]] = []
    for argument in targets:
        path = Path(argument)
        kind = detect_path_kind(path) if path.exists() else None
        if kind is not None and kind.name == "environment":
            pins.extend(folder_pins(path))
    return pins


def _read_path(path: Path, context: ReadContext, inputs: _Collected) -> None:
    kind = detect_path_kind(path)
    if kind is None and path.is_dir():
        project_file = next((path / n for n in PROJECT_FILES if (path / n).is_file()), None)
        if project_file is not None:
            path, kind = project_file, detect_file_kind(project_file)
        else:
            kind = other_folder_kind()
    elif kind is None:
        kind = detect_file_kind(path)
    contribution = kind.read(path, context)
    inputs.descriptions.append(kind.describe(path, contribution))
    inputs.add(contribution)
