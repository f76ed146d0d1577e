"""Lockfiles read as graphs that are already pinned: nothing is resolved or fetched.

uv.lock, poetry.lock, Pipfile.lock, pylock.toml (PEP 751) and pip-compile output (from
pip-tools or `uv pip compile`), one module each, sharing `_shared.py`. Each reader returns
a `Resolution` whose packages carry the locked version, the archive hashes the lockfile
lists and the line of their entry; edges come from whatever dependency information the
format records. This package also keeps the kind names and string-returning detection
that callers used before the input-kind registry (`scanner.inputs.interface`).
"""

from __future__ import annotations

import os

from ...model import Resolution
from .._common import input_error
from ..cyclonedx_sbom import CycloneDxKind
from ..interface import detect_file_kind, registered_kinds
from ..interface import detect_text_kind as _detect_text_kind
from ..pyproject import PyprojectKind
from ..requirements import RequirementsKind
from ._shared import AS_LOCKED, LockfileKind, Selection
from .pip_compile import PipCompileOutput, read_pip_compile_output
from .pipfile import PipfileLock, read_pipfile_lock
from .poetry import PoetryLock, read_poetry_lock
from .pylock import Pylock, read_pylock
from .uv import UvLock, read_uv_lock

__all__ = [
    "AS_LOCKED",
    "CYCLONEDX",
    "LOCKFILE_KINDS",
    "PIPFILE_LOCK",
    "PIP_COMPILE",
    "POETRY_LOCK",
    "PYLOCK",
    "PYPROJECT",
    "REQUIREMENTS",
    "UV_LOCK",
    "Selection",
    "detect_input_kind",
    "detect_text_kind",
    "read_lockfile",
    "read_pip_compile_output",
    "read_pipfile_lock",
    "read_poetry_lock",
    "read_pylock",
    "read_uv_lock",
]

# The kind names detect_input_kind() returns.
REQUIREMENTS = RequirementsKind.name
PIP_COMPILE = PipCompileOutput.name
PYPROJECT = PyprojectKind.name
UV_LOCK = UvLock.name
POETRY_LOCK = PoetryLock.name
PIPFILE_LOCK = PipfileLock.name
PYLOCK = Pylock.name
CYCLONEDX = CycloneDxKind.name

LOCKFILE_KINDS = (UV_LOCK, POETRY_LOCK, PIPFILE_LOCK, PYLOCK, PIP_COMPILE)


def detect_input_kind(path: str | os.PathLike[str]) -> str:
    """The name of the kind of input a file is, from its name and its content."""
    return detect_file_kind(path).name


def detect_text_kind(text: str, path: str) -> str:
    """The name of the input kind of `text`, judged by content alone."""
    return _detect_text_kind(text, path).name


def read_lockfile(
    path: str | os.PathLike[str], kind: str | None = None, selection: Selection | None = None
) -> Resolution:
    """Read any supported lockfile for `selection` (default: this machine, the tool's
    default groups, no extras), detecting its kind unless given."""
    kind = kind or detect_input_kind(path)
    lockfile_kinds = {k.name: k for k in registered_kinds() if isinstance(k, LockfileKind)}
    if kind not in lockfile_kinds:
        raise input_error(path, None, f"not a lockfile (it looks like {kind} input)")
    return lockfile_kinds[kind].read_lock(path, selection)
