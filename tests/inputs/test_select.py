"""Which input each command-line target is, and the input-kind registry behind it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scanner.inputs import interface
from scanner.inputs.interface import (
    Contribution,
    InputKind,
    detect_file_kind,
    detect_text_kind,
    register,
    registered_kinds,
)
from scanner.inputs.select import DeclaredOptions, read_inputs
from scanner.inputs.target import target_environment
from scanner.model import InputError, Requirement
from tests.conftest import FIXTURES

LOCKFILES = FIXTURES / "lockfiles"
LINUX = target_environment("3.11", "linux")

# One real file of each registered kind: a kind added without a fixture fails below.
KIND_FIXTURES = {
    "cyclonedx": FIXTURES / "sbom" / "poetry-project.cdx.json",
    "Pipfile.lock": LOCKFILES / "pipenv" / "Pipfile.lock",
    "pylock": LOCKFILES / "uv" / "pylock.toml",
    "poetry.lock": LOCKFILES / "poetry" / "poetry.lock",
    "uv.lock": LOCKFILES / "uv" / "uv.lock",
    "pyproject": LOCKFILES / "uv" / "pyproject.toml",
    "pip-compile": LOCKFILES / "pip-tools" / "requirements.txt",
    "requirements": FIXTURES / "requirements" / "requirements.txt",
}
# Kinds that claim a path (a folder, an executable) rather than a file's text: their
# fixtures are built per test (see the environment tests below).
PATH_KINDS = {"environment"}


def names(requirements: list[Requirement]) -> set[str]:
    return {requirement.name for requirement in requirements}


def read(*targets: str | Path, options: DeclaredOptions | None = None):
    return read_inputs(tuple(str(t) for t in targets), options or DeclaredOptions(), LINUX)


# -- the registry ---------------------------------------------------------------------------


def test_every_kind_has_a_name_a_unique_priority_and_a_fixture():
    kinds = registered_kinds()
    assert [kind.name for kind in kinds] and all(kind.name for kind in kinds)
    assert len({kind.name for kind in kinds}) == len(kinds)
    assert len({kind.priority for kind in kinds}) == len(kinds)
    assert [kind.priority for kind in kinds] == sorted(kind.priority for kind in kinds)
    assert {kind.name for kind in kinds} == set(KIND_FIXTURES) | PATH_KINDS


@pytest.mark.parametrize("kind_name", sorted(KIND_FIXTURES))
def test_every_kind_is_detected_for_its_fixture_by_name_and_by_content(kind_name, tmp_path):
    fixture = KIND_FIXTURES[kind_name]
    assert detect_file_kind(fixture).name == kind_name
    # Under a name that says nothing, the content alone tells (beside the original's
    # neighbours, which a requirements file's relative references point to).
    renamed = fixture.with_name("input.dat")
    assert detect_text_kind(fixture.read_text(), str(renamed)).name == kind_name


@pytest.mark.parametrize("kind_name", sorted(KIND_FIXTURES))
def test_every_kind_is_read_as_a_target_and_named_in_the_source(kind_name):
    fixture = KIND_FIXTURES[kind_name]
    inputs = read(fixture)
    assert inputs.source == f"{fixture} ({kind_name})"
    assert inputs.pinned or inputs.declared
    kind = next(kind for kind in registered_kinds() if kind.name == kind_name)
    if kind.is_lockfile or kind_name == "cyclonedx":
        assert len(inputs.pinned) == 1 and not inputs.declared
        assert inputs.pinned[0].packages
    else:
        assert not inputs.pinned and inputs.declared


def test_a_new_kind_is_one_registered_class(tmp_path, monkeypatch):
    registered_kinds()  # load the shipped kinds before the registry is swapped
    monkeypatch.setattr(interface, "_REGISTRY", list(interface._REGISTRY))

    @register
    class Names(InputKind):
        name = "names"
        priority = 75

        def matches_name(self, file_name: str) -> bool:
            return file_name.endswith(".names")

        def read(self, path: Path, context: interface.ReadContext) -> Contribution:
            lines = path.read_text().split()
            return Contribution(declared=tuple(Requirement(name=line) for line in lines))

    listed = tmp_path / "wanted.names"
    listed.write_text("idna\nsix\n")
    inputs = read(listed)
    assert names(inputs.declared) == {"idna", "six"}
    assert inputs.source == f"{listed} (names)"
    with pytest.raises(ValueError, match="registered twice"):
        register(Names)


def test_the_environment_kind_claims_environment_folders_and_python_executables(lab_venv, tmp_path):
    from tests.conftest import site_packages

    environment = interface.kind_named("environment")
    python = lab_venv / "bin" / "python3.11"
    python.write_text("#!/bin/sh\nexit 99\n")  # never run
    python.chmod(0o755)
    conda = tmp_path / "conda"
    (conda / "conda-meta").mkdir(parents=True)
    for path in (lab_venv, site_packages(lab_venv), conda, python):
        assert interface.detect_path_kind(path) is environment, path
    not_executable = tmp_path / "python3"
    not_executable.write_text("")
    for path in (tmp_path, not_executable, KIND_FIXTURES["uv.lock"]):
        assert interface.detect_path_kind(path) is None, path
    assert interface.other_folder_kind() is environment
    # Never offered a file's text: only the path says it is an environment.
    assert not environment.matches_name("pyvenv.cfg")


def test_a_new_path_kind_is_read_by_select_without_editing_it(tmp_path, monkeypatch):
    registered_kinds()
    monkeypatch.setattr(interface, "_REGISTRY", list(interface._REGISTRY))

    @register
    class Wheelhouse(InputKind):
        name = "wheelhouse"
        priority = -1

        def matches_path(self, path: Path) -> bool:
            return path.is_dir() and (path / "WHEELHOUSE").is_file()

        def read(self, path: Path, context: interface.ReadContext) -> Contribution:
            wanted = (path / "WHEELHOUSE").read_text().split()
            return Contribution(declared=tuple(Requirement(name=n) for n in wanted))

        def describe(self, path: Path, contribution: Contribution) -> str:
            return f"wheelhouse {path}"

    (tmp_path / "WHEELHOUSE").write_text("idna\n")
    (tmp_path / "requirements.txt").write_text("six\n")  # the claimed folder wins
    inputs = read(tmp_path)
    assert names(inputs.declared) == {"idna"}
    assert inputs.source == f"wheelhouse {tmp_path}"


# -- what each target is --------------------------------------------------------------------


def test_a_name_version_argument_is_declared(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inputs = read("idna==3.10", "six")
    assert names(inputs.declared) == {"idna", "six"}
    assert inputs.source == "idna==3.10 six"
    assert not inputs.pinned


@pytest.mark.parametrize("argument", ["missing/requirements.txt", "requirements.txt", "x.lock"])
def test_a_path_looking_argument_that_does_not_exist_is_an_error(tmp_path, monkeypatch, argument):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="no such file or folder"):
        read(argument)


def test_a_file_of_no_known_kind_is_an_error(tmp_path):
    unknown = tmp_path / "notes.dat"
    unknown.write_text("this is not ! a requirement\n")
    with pytest.raises(InputError, match="cannot tell what kind of input"):
        read(unknown)
    xml = tmp_path / "bom.xml"
    xml.write_text("<bom/>")
    with pytest.raises(InputError, match="XML input is not supported"):
        read(xml)


def test_a_folder_with_a_lockfile_reads_the_lockfile(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(LOCKFILES / "uv", project)
    (project / "requirements.txt").write_text("six\n")
    inputs = read(project)
    assert inputs.source == f"{project / 'uv.lock'} (uv.lock)"
    assert len(inputs.pinned) == 1 and not inputs.declared


def test_a_folder_with_a_pyproject_reads_its_requirements(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(LOCKFILES / "uv" / "pyproject.toml", project)
    (project / "requirements.txt").write_text("six\n")
    inputs = read(project)
    assert inputs.source == f"{project / 'pyproject.toml'} (pyproject)"
    assert {"requests", "click", "rich"} <= names(inputs.declared)
    assert "six" not in names(inputs.declared)


def test_a_folder_with_requirements_reads_them_with_index_and_constraints(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "constraints.txt").write_text("idna<4\n")
    (project / "requirements.txt").write_text(
        "--index-url https://mirror.example.org/simple\n-c constraints.txt\nrequests\n"
    )
    inputs = read(project)
    assert inputs.source == f"{project / 'requirements.txt'} (requirements)"
    assert names(inputs.declared) == {"requests"}
    assert names(inputs.constraints) == {"idna"}
    assert inputs.index_url == "https://mirror.example.org/simple"


def test_the_first_index_url_and_sbom_given_win(tmp_path):
    first = tmp_path / "first.txt"
    first.write_text("--index-url https://one.example.org/simple\nidna\n")
    second = tmp_path / "second.txt"
    second.write_text("--index-url https://two.example.org/simple\nsix\n")
    sboms = [
        FIXTURES / "sbom" / name for name in ("poetry-project.cdx.json", "pip-compile.cdx-1.4.json")
    ]
    inputs = read(first, second, *sboms)
    assert inputs.index_url == "https://one.example.org/simple"
    assert names(inputs.declared) == {"idna", "six"}
    assert len(inputs.pinned) == 2
    assert inputs.sbom is not None
    assert inputs.sbom == json.loads(sboms[0].read_text())


def test_all_groups_reads_every_group_of_a_pyproject(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "demo"\nversion = "1"\ndependencies = ["idna"]\n'
        '[dependency-groups]\ndev = ["pytest"]\ndocs = ["sphinx"]\n'
    )
    assert names(read(pyproject).declared) == {"idna"}
    every_group = read(pyproject, options=DeclaredOptions(all_groups=True))
    assert names(every_group.declared) == {"idna", "pytest", "sphinx"}


def test_a_lockfile_is_read_for_the_options_asked(tmp_path):
    poetry = LOCKFILES / "targets" / "poetry"
    default = read(poetry)
    every_group = read(poetry, options=DeclaredOptions(all_groups=True))
    assert {p.name for p in default.pinned[0].packages} < {
        p.name for p in every_group.pinned[0].packages
    }


def test_a_virtual_environment_and_a_python_executable(lab_venv):
    from_folder = read(lab_venv)
    assert len(from_folder.pinned) == 1 and "requests" in {
        p.name for p in from_folder.pinned[0].packages
    }
    python = lab_venv / "bin" / "python3.11"
    python.write_text("#!/bin/sh\nexit 99\n")  # never run: a stand-in binary
    python.chmod(0o755)
    from_python = read(python)
    assert {p.name for p in from_python.pinned[0].packages} == {
        p.name for p in from_folder.pinned[0].packages
    }
    assert from_python.source == from_python.pinned[0].source


def test_a_folder_that_is_neither_environment_nor_project_is_an_error(tmp_path):
    (tmp_path / "notes.md").write_text("nothing to scan\n")
    with pytest.raises(InputError, match="Python environment"):
        read(tmp_path)


# -- no target: the default ------------------------------------------------------------------


def test_no_target_reads_the_project_here_and_says_why(tmp_path, monkeypatch):
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.setenv("PATH", "")
    shutil.copy(LOCKFILES / "uv" / "uv.lock", tmp_path)
    monkeypatch.chdir(tmp_path)
    inputs = read()
    why = "(no target given; the project in the current folder (uv.lock))"
    assert inputs.source.endswith(why)
    assert inputs.pinned[0].source.endswith(why)


def test_no_target_reads_declared_requirements_here(tmp_path, monkeypatch):
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.setenv("PATH", "")
    (tmp_path / "requirements.txt").write_text("idna\n")
    monkeypatch.chdir(tmp_path)
    inputs = read()
    assert names(inputs.declared) == {"idna"} and not inputs.pinned
    here = Path.cwd() / "requirements.txt"
    why = "no target given; the project in the current folder (requirements.txt)"
    assert inputs.source == f"{here} (requirements) ({why})"


def test_no_target_reads_the_activated_virtual_environment(lab_venv, tmp_path, monkeypatch):
    monkeypatch.setenv("VIRTUAL_ENV", str(lab_venv))
    (tmp_path / "requirements.txt").write_text("idna\n")
    monkeypatch.chdir(tmp_path)
    inputs = read()
    assert not inputs.declared and len(inputs.pinned) == 1
    assert "$VIRTUAL_ENV" in inputs.source and "$VIRTUAL_ENV" in inputs.pinned[0].source


def test_no_target_and_nothing_here_reads_trustmaps_own_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.setenv("PATH", "")
    monkeypatch.chdir(tmp_path)
    inputs = read()
    assert len(inputs.pinned) == 1 and "trustmap's own environment" in inputs.source
    assert "packaging" in {p.name for p in inputs.pinned[0].packages}
