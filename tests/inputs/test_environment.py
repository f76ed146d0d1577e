"""Reading installed environments from dist-info metadata, without running anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.inputs.environment import read_environment
from scanner.inputs.target import target_environment
from scanner.model import InputError
from scanner.names import is_project_name
from tests.conftest import LAB_DISTS, add_dist, build_venv, site_packages


def edges_of(resolution) -> dict[tuple[str, str], object]:
    return {(e.parent, e.child): e for e in resolution.edges}


def test_virtual_environment_is_read_with_its_python(lab_venv):
    resolution = read_environment(lab_venv)
    names = {p.name for p in resolution.packages}
    assert names == {
        "requests",
        "idna",
        "urllib3",
        "certifi",
        "charset-normalizer",
        "six",
        "rich",
        "pygments",
        "markdown-it-py",
        "mdurl",
        "dapy",
    }
    assert resolution.target.python_version == "3.11"
    assert "pyvenv.cfg" in resolution.target.notes[0]
    requests = next(p for p in resolution.packages if p.name == "requests")
    assert requests.version == "2.32.3" and requests.display_name == "requests"
    assert requests.wheel_tags == ("py3-none-any",)
    edges = edges_of(resolution)
    assert edges[("requests", "urllib3")].specifier == "<3,>=1.21.1"
    assert ("rich", "markdown-it-py") in edges


def test_site_packages_folder_and_python_executable_are_targets(lab_venv):
    from_site = read_environment(site_packages(lab_venv))
    assert from_site.target.python_version == "3.11"
    python = lab_venv / "bin" / "python3.11"
    python.write_text("#!/bin/sh\nexit 99\n")  # never run: a stand-in binary
    python.chmod(0o755)
    from_exe = read_environment(python)
    assert {p.name for p in from_exe.packages} == {p.name for p in from_site.packages}


def test_conda_environment_without_pyvenv_cfg(tmp_path):
    prefix = tmp_path / "conda"
    (prefix / "conda-meta").mkdir(parents=True)
    site = prefix / "lib" / "python3.10" / "site-packages"
    site.mkdir(parents=True)
    add_dist(site, "numpy", "1.26.4")
    resolution = read_environment(prefix)
    assert resolution.target.python_version == "3.10"
    assert "conda environment" in resolution.source


def test_markers_are_evaluated_for_the_environments_python(tmp_path):
    venv = build_venv(tmp_path / "old", [], python="3.8")
    site = site_packages(venv, "3.8")
    add_dist(
        site, "app", "1.0", ['backport; python_version < "3.9"', 'modern; python_version >= "3.9"']
    )
    add_dist(site, "backport", "1.0")
    add_dist(site, "modern", "1.0")
    resolution = read_environment(venv)
    edges = edges_of(resolution)
    assert ("app", "backport") in edges
    assert ("app", "modern") not in edges
    assert edges[("app", "backport")].marker == 'python_version < "3.9"'


@pytest.mark.parametrize("layout", ["venv", "windows site-packages"])
def test_an_environments_marker_values_come_in_the_order_of_any_other_targets(tmp_path, layout):
    """The JSON report's `target.markers` lists its keys in one order for every target."""
    if layout == "venv":
        folder = build_venv(tmp_path / "v", [])
    else:
        folder = tmp_path / "Python311" / "Lib" / "site-packages"
        folder.mkdir(parents=True)
    add_dist(site_packages(folder) if layout == "venv" else folder, "six", "1.16.0")
    environment = read_environment(folder).target.markers
    command_line = target_environment("3.11", "linux").markers
    assert list(environment) == list(command_line)
    assert environment["sys_platform"] == ("win32" if layout != "venv" else "linux")


def test_missing_and_unsatisfied_requirements_are_reported_not_dropped(tmp_path):
    venv = build_venv(tmp_path / "v", [])
    site = site_packages(venv)
    add_dist(site, "app", "1.0", ["absent>=1", "old>=2"])
    add_dist(site, "old", "1.5")
    resolution = read_environment(venv)
    kinds = {(p.kind, p.package) for p in resolution.problems}
    assert ("missing-requirement", "app") in kinds
    assert ("unsatisfied-requirement", "app") in kinds
    edge = edges_of(resolution)[("app", "old")]
    assert edge.satisfied is False


def test_extras_asked_for_by_a_parent_bring_their_edges(tmp_path):
    venv = build_venv(tmp_path / "v", [])
    site = site_packages(venv)
    add_dist(site, "app", "1.0", ["lib[speed]>=1"])
    add_dist(
        site,
        "lib",
        "1.0",
        ['fast; extra == "speed"', 'pytest; extra == "test"'],
        provides_extra="speed",
    )
    add_dist(site, "fast", "1.0")
    add_dist(site, "pytest", "8.0")
    edges = edges_of(read_environment(venv))
    assert edges[("lib", "fast")].extra == "speed"
    assert edges[("lib", "fast")].extra_inferred is False
    assert ("lib", "pytest") not in edges  # "test" is not asked for, nor inferred


def test_an_extra_whose_requirements_are_all_installed_is_inferred(tmp_path):
    """`pip install httpx[http2]` leaves no record of the extra; h2 being installed is
    the evidence, and the edge says it was inferred."""
    venv = build_venv(tmp_path / "v", [])
    site = site_packages(venv)
    add_dist(site, "httpx", "0.28.1", ['h2<5,>=3; extra == "http2"'], provides_extra="http2")
    add_dist(site, "h2", "4.1.0")
    edge = edges_of(read_environment(venv))[("httpx", "h2")]
    assert edge.extra == "http2" and edge.extra_inferred is True


def test_editable_and_direct_url_installs_are_recorded(tmp_path):
    venv = build_venv(tmp_path / "v", [])
    folder = add_dist(site_packages(venv), "mytool", "0.1")
    (folder / "direct_url.json").write_text(
        '{"url": "file:///src/mytool", "dir_info": {"editable": true}}'
    )
    package = read_environment(venv).packages[0]
    assert package.direct_url == "file:///src/mytool" and package.editable is True


def test_first_site_folder_wins_like_at_import_time(tmp_path):
    """A venv that includes the system site-packages: the venv's own copy of a package
    is the one imported, so it is the one scanned, whichever folder sorts first."""
    base = tmp_path / "base"
    (base / "bin").mkdir(parents=True)
    base_site = base / "lib" / "python3.11" / "site-packages"
    base_site.mkdir(parents=True)
    add_dist(base_site, "requests", "2.0.0")
    add_dist(base_site, "only-in-base", "1.0")
    venv = build_venv(tmp_path / "v", LAB_DISTS[:1])
    (venv / "pyvenv.cfg").write_text(
        f"home = {base / 'bin'}\ninclude-system-site-packages = true\nversion = 3.11.7\n"
    )
    packages = {p.name: p.version for p in read_environment(venv).packages}
    assert packages == {"requests": "2.32.3", "only-in-base": "1.0"}


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00\x01", b"Name: only-a-name\n\n"])
def test_corrupt_metadata_is_a_fatal_problem_but_the_package_is_kept(tmp_path, content):
    venv = build_venv(tmp_path / "v", [])
    folder = site_packages(venv) / "broken-2.0.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_bytes(content)
    resolution = read_environment(venv)
    assert [(p.name, p.version) for p in resolution.packages] == [("broken", "2.0")]
    assert resolution.problems[0].fatal
    assert "broken-2.0.dist-info" in resolution.problems[0].message


@pytest.mark.parametrize("make", ["folder", "dangling-symlink"])
def test_unreadable_metadata_is_a_problem(tmp_path, make):
    """METADATA that cannot be opened (a folder, or a link to nothing: unreadable even to
    root, unlike a chmod): the package is kept, with a fatal problem naming it."""
    venv = build_venv(tmp_path / "v", [])
    folder = site_packages(venv) / "locked-1.0.dist-info"
    folder.mkdir()
    if make == "folder":
        (folder / "METADATA").mkdir()
    else:
        (folder / "METADATA").symlink_to(tmp_path / "nowhere")
    resolution = read_environment(venv)
    assert [(p.name, p.version) for p in resolution.packages] == [("locked", "1.0")]
    [problem] = resolution.problems
    assert problem.fatal
    assert "locked-1.0.dist-info" in problem.message and "cannot read METADATA" in problem.message


def test_metadata_is_read_without_its_long_description(tmp_path):
    venv = build_venv(tmp_path / "v", [])
    folder = add_dist(site_packages(venv), "big", "1.0", ["small"])
    with (folder / "METADATA").open("ab") as fh:
        fh.write(b"Requires-Dist: not-a-header-in-the-body\n" * 100_000)
    package = read_environment(venv)
    assert [e.child for e in package.edges] == []
    assert {p.kind for p in package.problems} == {"missing-requirement"}


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_not_an_environment_is_an_input_error(tmp_path, make):
    target: Path = tmp_path / "target"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("hello")
    with pytest.raises(InputError) as error:
        read_environment(target)
    assert str(target) in str(error.value)


def test_running_environment_is_the_default():
    resolution = read_environment(None)
    assert any(p.name == "trustmap" for p in resolution.packages)
    assert "running environment" in resolution.source


def _with_metadata(venv: Path, folder_name: str, name: str, version: str) -> Path:
    folder = site_packages(venv) / folder_name
    folder.mkdir()
    text = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
    (folder / "METADATA").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "name",
    ["requests/json#", "requests?x", "../requests", "r\u00e9quests", "\u212aiwi", "-a", "a b"],
)
def test_a_name_that_is_no_project_name_is_kept_and_a_fatal_problem(tmp_path, name):
    venv = build_venv(tmp_path / "v", [])
    _with_metadata(venv, "evil-1.0.dist-info", name, "1.0")
    resolution = read_environment(venv)
    (package,) = resolution.packages
    assert package.display_name == name
    (problem,) = resolution.problems
    assert problem.fatal and problem.kind == "bad-metadata"
    assert "evil-1.0.dist-info" in problem.message and repr(name) in problem.message


def test_corrupt_metadata_in_a_folder_whose_name_is_no_project_name(tmp_path):
    venv = build_venv(tmp_path / "v", [])
    folder = site_packages(venv) / "requests#x-1.0.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_bytes(b"")
    resolution = read_environment(venv)
    (problem,) = resolution.problems
    assert problem.fatal and "'requests#x' is not a valid project name" in problem.message


@pytest.mark.parametrize("version", ["not a version", "1.0/../../x", "2004d-legacy"])
def test_a_version_that_is_no_version_is_reported_not_fatal(tmp_path, version):
    venv = build_venv(tmp_path / "v", [])
    _with_metadata(venv, "odd-1.0.dist-info", "odd", version)
    add_dist(site_packages(venv), "user", "1.0", ["odd>=1"])
    resolution = read_environment(venv)
    assert [p.version for p in resolution.packages if p.name == "odd"] == [version]
    bad = [p for p in resolution.problems if p.kind == "bad-metadata"]
    assert len(bad) == 1 and not bad[0].fatal
    assert "is not a valid version (PEP 440)" in bad[0].message
    # The requirement on it cannot be checked against such a version: not satisfied.
    assert any(p.kind == "unsatisfied-requirement" for p in resolution.problems)


_NAME_PIECES = st.sampled_from(["requests", "json", "a", "1", "/", "#", "?", "..", "-", "_", ".",
                                " ", "\u00e9", "\u212a", "%2F"])  # fmt: skip
_STRUCTURED_METADATA = st.tuples(
    st.lists(_NAME_PIECES, min_size=1, max_size=6).map("".join) | st.text(max_size=10),
    st.sampled_from(["1.0", "../../x", "not a version", "2.0/json#"]) | st.text(max_size=6),
).map(lambda nv: f"Metadata-Version: 2.1\nName: {nv[0]}\nVersion: {nv[1]}\n\n".encode())


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    _STRUCTURED_METADATA | st.binary(max_size=200),
    st.sampled_from(["evil-1.0.dist-info", "requests#x-1.0.dist-info", "x.dist-info"]),
)
def test_any_metadata_gives_packages_with_project_names_or_a_fatal_problem(
    tmp_path_factory, metadata, folder_name
):
    venv = build_venv(tmp_path_factory.mktemp("fuzz") / "v", [])
    folder = site_packages(venv) / folder_name
    folder.mkdir()
    (folder / "METADATA").write_bytes(metadata)
    try:
        resolution = read_environment(venv)
    except InputError as error:
        assert "\n" not in str(error)
        return
    fatal = {p.package for p in resolution.problems if p.fatal}
    for package in resolution.packages:
        assert is_project_name(package.name) or package.name in fatal, package
