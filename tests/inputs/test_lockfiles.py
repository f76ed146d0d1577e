"""Lockfiles read as pinned graphs, from real tool output in fixtures/lockfiles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement as Pep508Requirement

from scanner.inputs import lockfiles
from scanner.inputs.lockfiles import (
    AS_LOCKED,
    Selection,
    detect_input_kind,
    detect_text_kind,
    read_lockfile,
    read_pip_compile_output,
    read_pipfile_lock,
    read_poetry_lock,
    read_pylock,
    read_uv_lock,
)
from scanner.inputs.target import target_environment
from scanner.model import Edge, InputError, Location

LOCKFILES = Path(__file__).resolve().parents[2] / "fixtures" / "lockfiles"
DIRECT = {"requests", "click", "rich"}
# What requests, click and rich pull in on any platform, as every tool locked it.
CLOSURE = DIRECT | {
    "certifi",
    "charset-normalizer",
    "idna",
    "urllib3",
    "markdown-it-py",
    "mdurl",
    "pygments",
}
TEST_GROUP = {"pytest", "iniconfig", "packaging", "pluggy", "colorama"}


def packages(resolution):
    return {package.name: package for package in resolution.packages}


def edge_pairs(resolution):
    return {(edge.parent, edge.child) for edge in resolution.edges}


def test_uv_lock():
    resolution = read_uv_lock(LOCKFILES / "uv" / "uv.lock", AS_LOCKED)
    found = packages(resolution)
    # The project itself (source virtual) is local code, not a dependency.
    assert set(found) == CLOSURE | TEST_GROUP | {"pyyaml"}
    assert "demo-lab" not in found
    assert set(resolution.roots) == DIRECT | {"pyyaml", "pytest"}
    requests = found["requests"]
    assert requests.version == "2.34.2"
    assert set(requests.hashes) == {
        "sha256:2a0d60c172f83ac6ab31e4554906c0f3b3588d37b5cb939b1c061f4907e278e0",
        "sha256:f288924cae4e29463698d6d60bc6a4da69c89185ad1e0bcc4104f584e960b9ed",
    }
    assert requests.origin == Location(str(LOCKFILES / "uv" / "uv.lock"), 366)
    assert {("requests", "urllib3"), ("rich", "pygments"), ("pytest", "pluggy")} <= edge_pairs(
        resolution
    )
    assert Edge("pytest", "colorama", marker="sys_platform == 'win32'") in resolution.edges
    assert resolution.target.description == "as locked"
    assert not resolution.problems


def test_poetry_lock():
    resolution = read_poetry_lock(LOCKFILES / "poetry" / "poetry.lock", AS_LOCKED)
    found = packages(resolution)
    assert set(found) == CLOSURE | TEST_GROUP | {"pyyaml", "pysocks"}
    assert resolution.roots is None  # poetry.lock does not record them
    assert found["requests"].summary == "Python HTTP for Humans."
    assert found["certifi"].hashes == (
        "sha256:1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2",
    )
    assert found["certifi"].origin.line == 4
    socks = [edge for edge in resolution.edges if edge.child == "pysocks"]
    assert socks == [
        Edge(
            "requests",
            "pysocks",
            specifier="!=1.5.7,>=1.5.6",
            marker='extra == "socks"',
            extra="socks",
        )
    ]
    assert ("requests", "urllib3") in edge_pairs(resolution)


def test_pipfile_lock():
    path = LOCKFILES / "pipenv" / "Pipfile.lock"
    resolution = read_pipfile_lock(path, AS_LOCKED)
    found = packages(resolution)
    assert set(found) == CLOSURE | (TEST_GROUP - {"colorama"})
    assert resolution.edges == ()
    assert found["requests"].version == "2.34.2"
    assert len(found["requests"].hashes) == 2
    line = found["pytest"].origin.line
    assert '"pytest": {' in path.read_text().splitlines()[line - 1]


@pytest.mark.parametrize("tool", ["uv", "pip"])
def test_pylock(tool):
    path = LOCKFILES / tool / "pylock.toml"
    resolution = read_pylock(path, AS_LOCKED)
    found = packages(resolution)
    assert CLOSURE <= set(found)
    assert found["urllib3"].hashes
    line = found["urllib3"].origin.line
    assert path.read_text().splitlines()[line - 1] == 'name = "urllib3"'
    assert any(note == f"created by {tool}" for note in resolution.target.notes)


def test_pylock_from_pip_keeps_the_local_project_as_a_directory():
    found = packages(read_pylock(LOCKFILES / "pip" / "pylock.toml"))
    assert found["demo-lab"].direct_url == "."


@pytest.mark.parametrize(
    ("folder", "file_name", "roots"),
    [
        ("pip-tools", "requirements.txt", DIRECT),
        ("uv-pip-compile", "requirements-dev.txt", DIRECT | {"pytest"}),
    ],
)
def test_pip_compile_output(folder, file_name, roots):
    resolution = read_pip_compile_output(LOCKFILES / folder / file_name)
    assert set(resolution.roots) == roots
    assert {("requests", "certifi"), ("rich", "markdown-it-py")} <= edge_pairs(resolution)
    assert all(package.hashes for package in resolution.packages)


def test_multi_line_via_block_gives_every_parent():
    resolution = read_pip_compile_output(LOCKFILES / "uv-pip-compile" / "requirements-dev.txt")
    assert {("pytest", "pygments"), ("rich", "pygments")} <= edge_pairs(resolution)


def test_line_style_annotations(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text(
        "click==8.1.7  # via -r requirements.in, rich\n"
        "rich==13.7.0  # via -r requirements.in\n"
        "mdurl==0.1.2  # via markdown-it-py\n"
        "markdown-it-py==3.0.0  # via rich\n"
    )
    resolution = read_pip_compile_output(path)
    assert set(resolution.roots) == {"click", "rich"}
    assert edge_pairs(resolution) == {
        ("rich", "click"),
        ("markdown-it-py", "mdurl"),
        ("rich", "markdown-it-py"),
    }


def test_unpinned_line_in_compiled_output_is_an_error(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("click==8.1.7\n    # via -r requirements.in\nrich>=13\n")
    with pytest.raises(InputError, match=r"requirements.txt:3: rich>=13 is not pinned"):
        read_pip_compile_output(path)


UV_TWO_VERSIONS = """\
version = 1
requires-python = ">=3.9"
resolution-markers = ["python_version < '3.10'", "python_version >= '3.10'"]

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "numpy", version = "1.26.4", source = { registry = "x" } },
    { name = "tool" },
]

[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "numpy"
version = "2.1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "tool"
version = "1.0"
source = { git = "https://github.com/example/tool?rev=v1#0123abcd" }
"""


def test_uv_lock_with_two_versions_and_a_git_source(tmp_path):
    path = tmp_path / "uv.lock"
    path.write_text(UV_TWO_VERSIONS)
    resolution = read_uv_lock(path, AS_LOCKED)
    found = packages(resolution)
    # The edge names the version it means: the other numpy is not installed.
    assert found["numpy"].version == "1.26.4"
    assert not resolution.problems
    assert found["tool"].direct_url == "git+https://github.com/example/tool?rev=v1#0123abcd"
    assert resolution.roots == ("numpy", "tool")
    assert any("Python >=3.9" in note for note in resolution.target.notes)


def test_pylock_dependencies_give_edges_and_unknown_major_version_is_refused(tmp_path):
    path = tmp_path / "pylock.toml"
    path.write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\n'
        '[[packages]]\nname = "a"\nversion = "1"\ndependencies = [{name = "b"}]\n'
        '[[packages]]\nname = "b"\nversion = "2"\n'
        '[packages.archive]\nurl = "https://example.org/b-2.tar.gz"\n'
        'hashes = {sha256 = "' + "AB" * 32 + '"}\n'
    )
    resolution = read_pylock(path)
    assert resolution.edges == (Edge("a", "b"),)
    assert packages(resolution)["b"].hashes == ("sha256:" + "ab" * 32,)
    path.write_text('lock-version = "2.0"\n')
    with pytest.raises(InputError, match=r"lock-version 2\.0 is not supported"):
        read_pylock(path)


# -- detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("uv/uv.lock", "uv.lock"),
        ("poetry/poetry.lock", "poetry.lock"),
        ("pipenv/Pipfile.lock", "Pipfile.lock"),
        ("uv/pylock.toml", "pylock"),
        ("pip/pylock.toml", "pylock"),
        ("pip-tools/requirements.txt", "pip-compile"),
        ("uv-pip-compile/requirements-dev.txt", "pip-compile"),
        ("pip-tools/requirements.in", "requirements"),
        ("uv/pyproject.toml", "pyproject"),
        ("poetry/pyproject.toml", "pyproject"),
    ],
)
def test_detect_by_name_and_by_content(tmp_path, source, expected):
    assert detect_input_kind(LOCKFILES / source) == expected
    # The same content under a name that says nothing.
    renamed = tmp_path / "input.dat"
    shutil.copy(LOCKFILES / source, renamed)
    assert detect_input_kind(renamed) == expected


def test_detect_named_pylock_and_cyclonedx(tmp_path):
    assert detect_input_kind(tmp_path / "pylock.gpu.toml") == "pylock"
    sbom = tmp_path / "bom.json"
    sbom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5"}))
    assert detect_input_kind(sbom) == "cyclonedx"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<bom/>", "XML input is not supported"),
        ('{"a": 1}', "neither a CycloneDX SBOM nor a Pipfile.lock"),
        ("!!! not anything", "cannot tell what kind of input"),
        ('[[source]]\nurl = "x"\n[packages]\nfoo = "*"\n', "a Pipfile is not read directly"),
    ],
)
def test_detect_refuses_what_it_cannot_read(text, message):
    with pytest.raises(InputError, match=message):
        detect_text_kind(text, "input.dat")


def test_read_lockfile_dispatches_and_refuses_manifests():
    assert read_lockfile(LOCKFILES / "uv" / "uv.lock").roots
    with pytest.raises(InputError, match="not a lockfile"):
        read_lockfile(LOCKFILES / "uv" / "pyproject.toml")


@pytest.mark.parametrize(
    ("reader", "file_name", "text", "message"),
    [
        (read_uv_lock, "uv.lock", "version = 2\n", "uv.lock version 2 is not supported"),
        (read_uv_lock, "uv.lock", "package = 1\nversion = 1\n", "[[package]] must be an array"),
        (read_uv_lock, "uv.lock", 'version = 1\n[[package]]\nname = "a b"\n', "uv.lock:3:"),
        (read_poetry_lock, "poetry.lock", "[[package]]\nversion = '1'\n", "package name must"),
        (read_pipfile_lock, "Pipfile.lock", '{"default": {}}', "no '_meta' section"),
        (read_pipfile_lock, "Pipfile.lock", "[1, 2]", "must be a table"),
        (read_pylock, "pylock.toml", "packages = []\n", "no 'lock-version' string"),
    ],
)
def test_malformed_lockfiles(tmp_path, reader, file_name, text, message):
    path = tmp_path / file_name
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        reader(path)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


# -- robustness: only InputError ever comes out ----------------------------------------------

READERS = [
    read_uv_lock,
    read_poetry_lock,
    read_pipfile_lock,
    read_pylock,
    read_pip_compile_output,
    read_lockfile,
]


def _mutations(source: str) -> st.SearchStrategy[str]:
    """The real fixture with a slice cut out, or arbitrary text spliced in."""
    text = (LOCKFILES / source).read_text()[:6000]
    return st.tuples(st.integers(0, len(text)), st.integers(0, 200), st.text(max_size=20)).map(
        lambda cut: text[: cut[0]] + cut[2] + text[cut[0] + cut[1] :]
    )


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(),
        _mutations("uv/uv.lock"),
        _mutations("poetry/poetry.lock"),
        _mutations("pipenv/Pipfile.lock"),
        _mutations("uv/pylock.toml"),
        _mutations("pip-tools/requirements.txt"),
    ),
    st.sampled_from(READERS),
)
def test_any_text_gives_a_result_or_input_error(tmp_path, text, reader):
    path = tmp_path / "input.lock"
    path.write_text(text)
    try:
        reader(path)
    except InputError as error:
        assert "\n" not in str(error)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_detection_gives_a_kind_or_input_error(text):
    try:
        assert detect_text_kind(text, "input.dat") in {
            lockfiles.REQUIREMENTS,
            lockfiles.PIP_COMPILE,
            lockfiles.PYPROJECT,
            *lockfiles.LOCKFILE_KINDS,
            lockfiles.CYCLONEDX,
        }
    except InputError as error:
        assert "\n" not in str(error)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "name",
                        "version",
                        "source",
                        "dependencies",
                        "hashes",
                        "_meta",
                        "default",
                        "develop",
                        "package",
                        "packages",
                        "git",
                        "markers",
                        "extras",
                        "optional",
                        "wheels",
                        "sdist",
                        "hash",
                        "lock-version",
                    ]
                ),
                children,
                max_size=4,
            )
        ),
        max_leaves=20,
    ),
    st.sampled_from([read_pipfile_lock, read_uv_lock, read_poetry_lock, read_pylock]),
)
def test_any_structure_gives_a_result_or_input_error(tmp_path, document, reader):
    """Well-formed files with the wrong shapes inside: JSON for Pipfile.lock, and the same
    values as TOML (via JSON-compatible inline tables) for the TOML lockfiles."""
    path = tmp_path / "input.lock"
    if reader is read_pipfile_lock:
        path.write_text(json.dumps(document))
    else:
        if not isinstance(document, dict):
            document = {"package": document, "packages": document}
        path.write_text(_to_toml(document))
    try:
        reader(path)
    except InputError as error:
        assert "\n" not in str(error)


def _to_toml(document: dict) -> str:
    lines = ["version = 1", 'lock-version = "1.0"']
    for key, value in document.items():
        if key in ("version", "lock-version"):
            continue
        rendered = _toml_value(value)
        if rendered is not None:
            lines.append(f'"{key}" = {rendered}')
    return "\n".join(lines) + "\n"


def _toml_value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        items = [_toml_value(item) for item in value]
        return "[" + ", ".join(item for item in items if item is not None) + "]"
    items = [(key, _toml_value(item)) for key, item in value.items()]
    return "{" + ", ".join(f'"{k}" = {v}' for k, v in items if v is not None) + "}"


# -- read for the target, compared with what the real tools install ---------------------------
# fixtures/lockfiles/targets: one project locked by uv, Poetry and pipenv, with a numpy fork
# at Python 3.12, Windows-only packages, an extra, a default and an optional group. The
# reference sets are the tools' own output (see the README there).

TARGETS = LOCKFILES / "targets"


def _selection(python, platform, **options):
    return Selection.for_target(target_environment(python, platform), **options)


def _pins(resolution):
    return {f"{package.name}=={package.version}" for package in resolution.packages}


def _listed(path):
    """name==version lines, as `uv sync --dry-run` and `poetry install --dry-run` list them."""
    return {line.strip() for line in path.read_text().splitlines() if "==" in line}


def _exported(path, python, platform):
    """What a requirements export (`poetry export`, `pipenv requirements`) installs on the
    target: its lines whose markers hold there, as pip evaluates them."""
    environment = target_environment(python, platform).markers
    pins, unpinned = set(), set()
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith(("-", "#")):
            continue
        requirement = Pep508Requirement(line)
        if requirement.marker and not requirement.marker.evaluate(dict(environment)):
            continue
        if str(requirement.specifier).startswith("=="):
            pins.add(f"{requirement.name}{requirement.specifier}")
        else:
            unpinned.add(requirement.name)
    return pins, unpinned


@pytest.mark.parametrize(
    ("python", "platform", "options", "reference"),
    [
        ("3.11", "linux", {}, "sync-linux-3.11.txt"),
        ("3.13", "windows", {}, "sync-windows-3.13.txt"),
        ("3.12", "macos", {"extras": ["yaml"], "groups": ["docs"]},
         "sync-macos-3.12-extra-yaml-group-docs.txt"),
        ("3.10", "linux", {"all_extras": True, "all_groups": True}, "sync-linux-3.10-all.txt"),
    ],
)  # fmt: skip
def test_uv_lock_for_a_target_is_what_uv_sync_installs(python, platform, options, reference):
    resolution = read_uv_lock(TARGETS / "uv" / "uv.lock", _selection(python, platform, **options))
    assert _pins(resolution) == _listed(TARGETS / "uv" / reference)
    assert resolution.target.description == f"Python {python} on {platform}, as the " \
        "lockfile's installer installs it"  # fmt: skip
    assert not resolution.problems


def test_uv_lock_default_groups_of_the_project_replace_dev():
    resolution = read_uv_lock(
        TARGETS / "uv-default-groups" / "uv.lock", _selection("3.13", "linux")
    )
    assert _pins(resolution) == _listed(TARGETS / "uv-default-groups" / "sync-linux-3.13.txt")
    assert "groups: docs (--group, --all-groups)" in resolution.target.notes


def test_uv_lock_edges_pick_the_fork_of_the_target():
    resolution = read_uv_lock(TARGETS / "uv" / "uv.lock", _selection("3.13", "windows"))
    assert packages(resolution)["numpy"].version == "2.5.5"
    assert Edge("fork-lab", "numpy") not in resolution.edges  # the project is not a package
    assert Edge("pytest", "colorama", marker="sys_platform == 'win32'") in resolution.edges
    assert set(resolution.roots) == {"requests", "numpy", "colorama", "pywin32", "pytest"}


@pytest.mark.parametrize(
    ("python", "platform"), [("3.11", "linux"), ("3.13", "windows")]
)  # fmt: skip
def test_pylock_from_uv_for_a_target_is_what_uv_sync_installs(python, platform):
    resolution = read_pylock(TARGETS / "uv" / "pylock.toml", _selection(python, platform))
    assert _pins(resolution) == _listed(TARGETS / "uv" / f"sync-{platform}-{python}.txt")


def test_poetry_lock_for_this_machine_is_what_poetry_install_installs():
    # Poetry installs the main group and every group not marked optional (dev here).
    resolution = read_poetry_lock(TARGETS / "poetry" / "poetry.lock", _selection("3.11", "linux"))
    assert _pins(resolution) == _listed(TARGETS / "poetry" / "install-linux-3.11.txt")
    assert "groups: main, dev (--group, --all-groups)" in resolution.target.notes


@pytest.mark.parametrize(
    ("python", "platform", "options", "reference"),
    [
        ("3.13", "windows", {}, "export-with-dev.txt"),
        ("3.11", "linux", {}, "export-with-dev.txt"),
        ("3.10", "linux", {"groups": ["docs"], "extras": ["yaml"]}, "export-all.txt"),
        ("3.12", "windows", {"all_groups": True, "all_extras": True}, "export-all.txt"),
    ],
)  # fmt: skip
def test_poetry_lock_for_a_target_is_what_poetry_export_gives(python, platform, options, reference):
    path = TARGETS / "poetry" / "poetry.lock"
    resolution = read_poetry_lock(path, _selection(python, platform, **options))
    expected, unpinned = _exported(TARGETS / "poetry" / reference, python, platform)
    assert _pins(resolution) == expected
    assert not unpinned


@pytest.mark.parametrize(
    ("python", "platform", "options", "reference"),
    [
        ("3.11", "linux", {}, "requirements-default.txt"),
        ("3.13", "macos", {}, "requirements-default.txt"),
        ("3.11", "linux", {"groups": ["dev"]}, "requirements-dev.txt"),
        ("3.11", "macos", {"groups": ["docs"]}, "requirements-default-docs.txt"),
    ],
)  # fmt: skip
def test_pipfile_lock_for_a_target_is_what_pipenv_requirements_gives(
    python, platform, options, reference
):
    path = TARGETS / "pipenv" / "Pipfile.lock"
    resolution = read_pipfile_lock(path, _selection(python, platform, **options))
    expected, unpinned = _exported(TARGETS / "pipenv" / reference, python, platform)
    assert _pins(resolution) == expected
    assert not unpinned
    assert [p.kind for p in resolution.problems] == (
        ["target-outside-lock"] if python != "3.11" else []
    )


def test_pipfile_lock_entry_left_unpinned_for_the_target_is_a_fatal_problem():
    # pipenv locked on Linux: the Windows-only packages are "*", which it would install
    # at whatever version the index has.
    path = TARGETS / "pipenv" / "Pipfile.lock"
    resolution = read_pipfile_lock(path, _selection("3.11", "windows"))
    expected, unpinned = _exported(
        TARGETS / "pipenv" / "requirements-default.txt", "3.11", "windows"
    )
    assert _pins(resolution) == expected
    assert unpinned == {"colorama", "pywin32"}
    problems = {p.package: p for p in resolution.problems}
    assert set(problems) == unpinned and all(p.fatal for p in problems.values())
    line = problems["colorama"].location.line
    assert '"colorama": {' in path.read_text().splitlines()[line - 1]
    assert problems["colorama"].message.startswith(f"{path}:{line}: colorama is not pinned")


@pytest.mark.parametrize(
    ("reader", "file_name", "options", "message"),
    [
        (read_uv_lock, "uv/uv.lock", {"groups": ["nope"]}, "no dependency group named 'nope'"),
        (read_uv_lock, "uv/uv.lock", {"extras": ["nope"]}, "no extra named 'nope'"),
        (read_poetry_lock, "poetry/poetry.lock", {"groups": ["nope"]},
         "no dependency group named 'nope'"),
        (read_poetry_lock, "poetry/poetry.lock", {"extras": ["nope"]}, "no extra named 'nope'"),
        (read_pipfile_lock, "pipenv/Pipfile.lock", {"groups": ["nope"]},
         "no category named 'nope'"),
    ],
)  # fmt: skip
def test_asking_for_a_group_or_extra_the_lock_lacks_is_an_error(
    reader, file_name, options, message
):
    with pytest.raises(InputError, match=message):
        reader(TARGETS / file_name, _selection("3.11", "linux", **options))


PYLOCK_WITH_GROUPS = """\
lock-version = "1.0"
created-by = "hand"
extras = ["gpu"]
dependency-groups = ["dev", "docs"]
default-groups = ["dev"]

[[packages]]
name = "base"
version = "1.0"

[[packages]]
name = "pytest"
version = "9.0"
marker = "'dev' in dependency_groups"

[[packages]]
name = "sphinx"
version = "8.0"
marker = "'docs' in dependency_groups"

[[packages]]
name = "cupy"
version = "13.0"
marker = "'gpu' in extras and sys_platform == 'linux'"
"""


@pytest.mark.parametrize(
    ("platform", "options", "expected"),
    [
        ("linux", {}, {"base", "pytest"}),
        ("linux", {"groups": ["docs"], "extras": ["gpu"]}, {"base", "pytest", "sphinx", "cupy"}),
        ("windows", {"all_groups": True, "all_extras": True}, {"base", "pytest", "sphinx"}),
    ],
)  # fmt: skip
def test_pylock_markers_see_the_selected_extras_and_groups(tmp_path, platform, options, expected):
    path = tmp_path / "pylock.toml"
    path.write_text(PYLOCK_WITH_GROUPS)
    resolution = read_pylock(path, _selection("3.12", platform, **options))
    assert set(packages(resolution)) == expected


# -- malformed entries: one line naming the file and line ------------------------------------

_UV_HEAD = 'version = 1\nrequires-python = ">=3.10"\n'
_REGISTRY = 'source = { registry = "https://pypi.org/simple" }\n'
_POETRY_TAIL = '\n[metadata]\nlock-version = "2.1"\npython-versions = ">=3.10"\n'
_PYLOCK_HEAD = 'lock-version = "1.0"\n'
_PIPFILE = (
    '{{"_meta": {{"requires": {{}}}},\n "default": {{\n'
    '  "{name}": {{"version": "{version}"}}\n }}\n}}\n'
)


_BAD_VERSION = 'version = "not a version!!"\n'
_BAD_NAME = 'name = "requests/json#"\nversion = "1"\n'
_IDNA = 'name = "idna"\n'


@pytest.mark.parametrize(
    ("reader", "file_name", "text", "expected"),
    [
        (read_uv_lock, "uv.lock", _UV_HEAD + "[[package]]\n" + _IDNA + _REGISTRY,
         "uv.lock:4: idna has no version"),
        (read_uv_lock, "uv.lock", _UV_HEAD + "[[package]]\n" + _IDNA + _BAD_VERSION + _REGISTRY,
         "uv.lock:4: idna: invalid version 'not a version!!'"),
        (read_uv_lock, "uv.lock", _UV_HEAD + "[[package]]\n" + _BAD_NAME,
         "uv.lock:4: invalid package name 'requests/json#'"),
        (read_poetry_lock, "poetry.lock",
         "[[package]]\n" + _IDNA + 'groups = ["main"]\n' + _POETRY_TAIL,
         "poetry.lock:2: idna has no version"),
        (read_poetry_lock, "poetry.lock",
         "[[package]]\n" + _IDNA + _BAD_VERSION + 'groups = ["main"]\n' + _POETRY_TAIL,
         "poetry.lock:2: idna: invalid version 'not a version!!'"),
        (read_poetry_lock, "poetry.lock", "[[package]]\n" + _BAD_NAME + _POETRY_TAIL,
         "poetry.lock:2: invalid package name 'requests/json#'"),
        (read_pylock, "pylock.toml", _PYLOCK_HEAD + "[[packages]]\n" + _IDNA,
         "pylock.toml:3: idna has no version"),
        (read_pylock, "pylock.toml", _PYLOCK_HEAD + "[[packages]]\n" + _IDNA + _BAD_VERSION,
         "pylock.toml:3: idna: invalid version 'not a version!!'"),
        (read_pylock, "pylock.toml",
         _PYLOCK_HEAD + "[[packages]]\n" + _IDNA + 'version = "3.10"\n'
         'marker = "python_version >>> 3"\n',
         "pylock.toml:5: invalid marker 'python_version >>> 3'"),
        (read_pylock, "pylock.toml", _PYLOCK_HEAD + "[[packages]]\n" + _BAD_NAME,
         "pylock.toml:3: invalid package name 'requests/json#'"),
        (read_pipfile_lock, "Pipfile.lock",
         _PIPFILE.format(name="idna", version="==not a version!!"),
         "Pipfile.lock:3: idna: invalid version 'not a version!!'"),
        (read_pipfile_lock, "Pipfile.lock", _PIPFILE.format(name="requests/json#", version="==1"),
         "Pipfile.lock:3: invalid package name 'requests/json#'"),
    ],
)  # fmt: skip
def test_malformed_entry_is_one_line_naming_file_and_line(
    tmp_path, reader, file_name, text, expected
):
    path = tmp_path / file_name
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        reader(path, AS_LOCKED)
    assert str(raised.value).startswith(f"{path.parent}/{expected}")
    assert "\n" not in str(raised.value)


def test_a_package_from_a_checkout_may_omit_its_version(tmp_path):
    path = tmp_path / "pylock.toml"
    path.write_text(
        _PYLOCK_HEAD + '[[packages]]\nname = "tool"\n'
        '[packages.vcs]\ntype = "git"\nurl = "https://example.org/tool.git"\ncommit-id = "ab12"\n'
    )
    assert packages(read_pylock(path, AS_LOCKED))["tool"].version == ""


# -- packages from other indexes ------------------------------------------------------------

TORCH_INDEX = "https://download.pytorch.org/whl/cpu"


def test_uv_lock_package_from_another_index_keeps_its_local_version_and_names_the_index():
    found = packages(read_uv_lock(LOCKFILES / "other-index" / "uv.lock", AS_LOCKED))
    assert (found["torch"].version, found["torch"].index_url) == ("2.9.1+cpu", TORCH_INDEX)
    assert found["requests"].index_url is None  # PyPI is not "another index"


def test_poetry_pipenv_and_pylock_name_another_index(tmp_path):
    poetry = tmp_path / "poetry.lock"
    poetry.write_text(
        '[[package]]\nname = "torch"\nversion = "2.9.1+cpu"\ngroups = ["main"]\n'
        f'[package.source]\ntype = "legacy"\nurl = "{TORCH_INDEX}/"\nreference = "torch-cpu"\n'
        '[[package]]\nname = "idna"\nversion = "3.10"\ngroups = ["main"]\n'
        '[package.source]\ntype = "legacy"\nurl = "https://pypi.org/simple/"\nreference = "p"\n'
        '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.11"\n'
    )
    found = packages(read_poetry_lock(poetry, AS_LOCKED))
    assert (found["torch"].index_url, found["idna"].index_url) == (TORCH_INDEX, None)
    pipfile = tmp_path / "Pipfile.lock"
    pipfile.write_text(
        json.dumps(
            {
                "_meta": {
                    "sources": [
                        {"name": "pypi", "url": "https://pypi.org/simple"},
                        {"name": "torch", "url": TORCH_INDEX},
                    ]
                },
                "default": {
                    "torch": {"version": "==2.9.1+cpu", "index": "torch"},
                    "idna": {"version": "==3.10", "index": "pypi"},
                },
            }
        )
    )
    found = packages(read_pipfile_lock(pipfile, AS_LOCKED))
    assert (found["torch"].index_url, found["idna"].index_url) == (TORCH_INDEX, None)
    pylock = tmp_path / "pylock.toml"
    pylock.write_text(
        f'lock-version = "1.0"\n[[packages]]\nname = "torch"\nversion = "2.9.1+cpu"\n'
        f'index = "{TORCH_INDEX}"\n'
    )
    assert packages(read_pylock(pylock, AS_LOCKED))["torch"].index_url == TORCH_INDEX


def test_credentials_in_a_locked_index_url_never_reach_the_package(tmp_path):
    from scanner.inputs.lockfiles._shared import other_index

    assert other_index("https://alice:s3cret@download.example.org/whl/cpu/") == (
        "https://download.example.org/whl/cpu"
    )
    assert other_index("https://pypi.org/simple") is None
    assert "s3cret" not in (other_index("https://alice:s3cret@[::1/whl") or "")
