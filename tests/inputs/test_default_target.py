"""What `trustmap scan` with no target scans: what the person means."""

from __future__ import annotations

import sys
from pathlib import Path

from scanner.inputs.default_target import default_target


def test_activated_venv_comes_first(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (tmp_path / "requirements.txt").write_text("idna\n")
    chosen = default_target({"VIRTUAL_ENV": str(venv), "PATH": ""}, tmp_path)
    assert chosen.path == venv and "$VIRTUAL_ENV" in chosen.why


def test_a_stale_virtual_env_variable_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("idna\n")
    chosen = default_target({"VIRTUAL_ENV": str(tmp_path / "gone"), "PATH": ""}, tmp_path)
    assert chosen.path == tmp_path / "requirements.txt"


def test_the_project_here_prefers_its_lockfile(tmp_path: Path) -> None:
    for name in ("requirements.txt", "pyproject.toml", "uv.lock"):
        (tmp_path / name).write_text("")
    chosen = default_target({"PATH": ""}, tmp_path)
    assert chosen.path == tmp_path / "uv.lock" and "uv.lock" in chosen.why


def test_python3_on_path_is_found_without_running_it(tmp_path: Path) -> None:
    binary = Path(sys.executable).resolve()  # a real interpreter binary
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python3").symlink_to(binary)
    chosen = default_target({"PATH": str(folder)}, tmp_path / "empty")
    assert chosen.path == folder / "python3" and "python3 on PATH" in chosen.why


def test_a_script_called_python3_is_not_an_interpreter(tmp_path: Path) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "python3"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    chosen = default_target({"PATH": str(folder)}, tmp_path)
    assert chosen.path is None and "trustmap's own environment" in chosen.why


def test_pyenv_shim_is_followed_to_the_selected_version(tmp_path: Path) -> None:
    root = tmp_path / "pyenv"
    shims = root / "shims"
    shims.mkdir(parents=True)
    (shims / "python3").write_text("#!/bin/sh\nexec pyenv exec python3\n")
    (shims / "python3").chmod(0o755)
    python = root / "versions" / "3.12.1" / "bin" / "python3"
    python.parent.mkdir(parents=True)
    python.write_bytes(b"\x7fELF")
    project = tmp_path / "project"
    project.mkdir()
    (project / ".python-version").write_text("3.12.1\n")
    environ = {"PATH": str(shims), "PYENV_ROOT": str(root)}
    assert default_target(environ, project).path == python
    assert default_target({**environ, "PYENV_VERSION": "system"}, project).path is None
