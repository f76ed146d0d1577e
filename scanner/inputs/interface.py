"""The interface of an input kind, and the registry that `select.py` loops over.

A kind (an installed environment, a lockfile format, a manifest, an SBOM) is a subclass of
`InputKind` decorated with `@register`, in its own module listed in `KIND_MODULES`. A
target path is first offered to every kind as a path (`matches_path`, in `priority`
order: a virtual environment's folder, a Python executable). A file no kind claims that
way has its kind found in two passes, so that detection never depends on the order modules
are imported in:

1. by file name alone (`matches_name`), before the file is read;
2. by content (`detect`), trying the kinds in `priority` order, lowest first, on one
   `Sniffed` view of the text that parses it at most once as JSON and once as TOML.

`read` then returns the kind's `Contribution`: what the target adds to the scan's inputs,
and `describe` how the report's source line names it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from scanner.inputs._common import input_error, load_json, load_toml, read_text
from scanner.model import InputError, Problem, Requirement, Resolution, TargetEnvironment

# The modules that register kinds; importing them fills the registry.
KIND_MODULES = (
    "scanner.inputs.environment",
    "scanner.inputs.cyclonedx_sbom",
    "scanner.inputs.lockfiles.pipfile",
    "scanner.inputs.lockfiles.pylock",
    "scanner.inputs.lockfiles.poetry",
    "scanner.inputs.lockfiles.uv",
    "scanner.inputs.pyproject",
    "scanner.inputs.lockfiles.pip_compile",
    "scanner.inputs.requirements",
)


@dataclass(frozen=True)
class DeclaredOptions:
    """The optional parts of a project the command line asks for."""

    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    all_groups: bool = False


@dataclass(frozen=True)
class ReadContext:
    """What a reader needs besides the file: the options asked for and the target a
    lockfile is read for, as its installer would install it there."""

    declared: DeclaredOptions
    target: TargetEnvironment


@dataclass(frozen=True)
class Contribution:
    """What one input file adds: pinned graphs (lockfiles, SBOMs), declared requirements
    and constraints to resolve (manifests), an index URL, an SBOM document to annotate on
    output, and problems found while reading."""

    pinned: tuple[Resolution, ...] = ()
    declared: tuple[Requirement, ...] = ()
    constraints: tuple[Requirement, ...] = ()
    index_url: str | None = None
    sbom: dict[str, Any] | None = None
    problems: tuple[Problem, ...] = ()


class Sniffed:
    """A file's text as detection sees it, parsed lazily and at most once per format.

    `format` is "json" when the text starts with "{" (which no other kind may claim),
    "toml" when it is a non-empty TOML document, else "text"."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.file_name = os.path.basename(path)
        self.json: Any = None
        self.toml: dict[str, Any] | None = None
        self._memo: dict[str, tuple[Any, InputError | None]] = {}
        if text.lstrip().startswith("{"):
            self.format = "json"
            self.json = load_json(text, path)  # invalid JSON is an error, not another kind
            return
        try:
            self.toml = load_toml(text, path) or None
        except InputError:
            self.toml = None
        self.format = "toml" if self.toml is not None else "text"

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """compute() once for all kinds that need it; its InputError, too, is kept and
        raised again to each."""
        if key not in self._memo:
            try:
                self._memo[key] = (compute(), None)
            except InputError as error:
                self._memo[key] = (None, error)
        value, error = self._memo[key]
        if error is not None:
            raise error
        return value


class InputKind:
    """One kind of input. Subclasses set `name` (the kind shown in the report's source
    line, such as "uv.lock" or "requirements") and `priority`, and override `read` and at
    least one of `matches_path`, `matches_name` and `detect`."""

    name: ClassVar[str]
    priority: ClassVar[int]  # detection order: lower is tried first
    is_lockfile: ClassVar[bool] = False
    # The kind a folder is read as when no kind claims it and it holds no project file
    # (at most one kind; its `read` says why when the folder is not one).
    reads_other_folders: ClassVar[bool] = False

    def matches_path(self, path: Path) -> bool:
        """Whether the path itself (a folder, an executable) is this kind, judged without
        reading it as a text file."""
        return False

    def matches_name(self, file_name: str) -> bool:
        """Whether the file name alone says it is this kind."""
        return False

    def detect(self, sniffed: Sniffed) -> bool:
        """Whether the content is this kind. May raise InputError when the content is
        recognisably something that cannot be read (the message says what to give)."""
        return False

    def read(self, path: Path, context: ReadContext) -> Contribution:
        raise NotImplementedError

    def describe(self, path: Path, contribution: Contribution) -> str:
        """How the report's source line names this input."""
        return f"{path} ({self.name})"


_REGISTRY: list[InputKind] = []
_loaded = False
KindClass = TypeVar("KindClass", bound=type[InputKind])


def register(kind_class: KindClass) -> KindClass:
    """Class decorator: add one instance of the kind to the registry."""
    if any(kind.name == kind_class.name for kind in _REGISTRY):
        raise ValueError(f"input kind {kind_class.name!r} is registered twice")
    _REGISTRY.append(kind_class())
    return kind_class


def registered_kinds() -> tuple[InputKind, ...]:
    """Every registered kind, in detection priority order."""
    global _loaded
    if not _loaded:
        for module in KIND_MODULES:
            importlib.import_module(module)
        _loaded = True
    return tuple(sorted(_REGISTRY, key=lambda kind: kind.priority))


def kind_named(name: str) -> InputKind:
    for kind in registered_kinds():
        if kind.name == name:
            return kind
    raise KeyError(name)


def detect_path_kind(path: Path) -> InputKind | None:
    """The kind that claims `path` as a path (a folder or an executable), if one does."""
    for kind in registered_kinds():
        if kind.matches_path(path):
            return kind
    return None


def other_folder_kind() -> InputKind:
    """The kind a folder that no kind claims, and that holds no project file, is read as."""
    for kind in registered_kinds():
        if kind.reads_other_folders:
            return kind
    raise LookupError("no input kind reads other folders")


def detect_file_kind(path: str | os.PathLike[str]) -> InputKind:
    """What kind of input a file is, from its name, else from its content."""
    shown = str(path)
    file_name = os.path.basename(shown)
    for kind in registered_kinds():
        if kind.matches_name(file_name):
            return kind
    return detect_text_kind(read_text(path, shown_as=shown), shown)


def detect_text_kind(text: str, path: str) -> InputKind:
    """The kind of `text` (read from `path`), judged by content alone."""
    if text.lstrip().startswith("<"):
        raise input_error(path, None, "XML input is not supported; give a CycloneDX JSON SBOM")
    sniffed = Sniffed(text, path)
    for kind in registered_kinds():
        if kind.detect(sniffed):
            return kind
    if sniffed.format == "json":
        raise input_error(path, None, "JSON that is neither a CycloneDX SBOM nor a Pipfile.lock")
    # The requirements kind takes any other text, or says why it is not requirements.
    raise InputError(f"cannot tell what kind of input {path} is")
