"""What `trustmap scan` with no target means: what the person at the prompt is working in,
not the environment trustmap happens to be installed in (with pipx or `uv tool install`
that is trustmap's own isolated venv, which nobody means).

In order: the activated virtual environment ($VIRTUAL_ENV), else the project in the
current folder (its lockfile, else pyproject.toml, else requirements.txt), else the
environment of the `python3` on PATH (read, never run), else trustmap's own."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Files that make the current folder a project, in the order they are read.
PROJECT_FILES = (
    "uv.lock", "pylock.toml", "poetry.lock", "Pipfile.lock", "pyproject.toml", "requirements.txt",
)  # fmt: skip
_ELF_OR_MACHO = (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


@dataclass(frozen=True)
class DefaultTarget:
    """`path` is None for trustmap's own environment. `why` is said in the report header."""

    path: Path | None
    why: str


def default_target(environ: Mapping[str, str], cwd: Path) -> DefaultTarget:
    """What to scan when no target is given, and why."""
    venv = environ.get("VIRTUAL_ENV", "")
    if venv and Path(venv).is_dir():
        return DefaultTarget(Path(venv), "no target given; $VIRTUAL_ENV names this environment")
    for name in PROJECT_FILES:
        if (cwd / name).is_file():
            return DefaultTarget(
                cwd / name, f"no target given; the project in the current folder ({name})"
            )
    python = _python_on_path(environ, cwd)
    if python is not None:
        return DefaultTarget(
            python, f"no target given; the environment of python3 on PATH ({python})"
        )
    return DefaultTarget(
        None, "no target given, no project here and no python3 on PATH; trustmap's own environment"
    )


def _python_on_path(environ: Mapping[str, str], cwd: Path) -> Path | None:
    """The interpreter `python3` would start, found without running anything: a real
    executable on PATH, with pyenv's shims followed to the version they select."""
    found = shutil.which("python3", path=environ.get("PATH", os.defpath))
    if found is None:
        return None
    path = Path(found)
    if "shims" in path.parts:
        return _pyenv_python(environ, cwd)
    resolved = path.resolve()
    return path if _is_binary(resolved) else None


def _pyenv_python(environ: Mapping[str, str], cwd: Path) -> Path | None:
    """pyenv's choice, as pyenv makes it: $PYENV_VERSION, else the nearest
    .python-version, else the global version file."""
    root = Path(environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    version = environ.get("PYENV_VERSION", "").split(":")[0]
    files = [folder / ".python-version" for folder in (cwd, *cwd.parents)] + [root / "version"]
    for file in files if not version else ():
        try:
            version = file.read_text(encoding="utf-8").split()[0]
            break
        except (OSError, IndexError):
            continue
    if not version:
        return None
    if version == "system":
        return None
    candidate = root / "versions" / version / "bin" / "python3"
    return candidate if candidate.exists() else None


def _is_binary(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) in _ELF_OR_MACHO
    except OSError:
        return False
