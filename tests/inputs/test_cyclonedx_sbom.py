"""CycloneDX JSON SBOMs from other tools (fixtures made by cyclonedx-py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.inputs.cyclonedx_sbom import read_cyclonedx_sbom, read_cyclonedx_text
from scanner.model import Edge, InputError
from scanner.names import is_project_name

SBOMS = Path(__file__).resolve().parents[2] / "fixtures" / "sbom"


def test_poetry_project_sbom_spec_1_6():
    path = SBOMS / "poetry-project.cdx.json"
    resolution, document = read_cyclonedx_sbom(path)
    found = {package.name: package for package in resolution.packages}
    assert {"requests", "click", "rich", "urllib3", "pysocks"} <= set(found)
    assert "demo-lab" not in found  # the metadata component is the project, not a package
    assert {"requests", "click", "rich"} <= set(resolution.roots)
    assert Edge("click", "colorama") in resolution.edges
    certifi = found["certifi"]
    assert certifi.hashes == (
        "sha256:1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2",
    )
    assert certifi.summary == "Python package for providing Mozilla's CA Bundle."
    assert (
        path.read_text()
        .splitlines()[certifi.origin.line - 1]
        .strip()
        .startswith('"bom-ref": "certifi@')
    )
    # The raw document is handed back untouched, for outputs that annotate it.
    assert document == json.loads(path.read_text())


def test_requirements_sbom_spec_1_4_without_graph():
    resolution, _document = read_cyclonedx_sbom(SBOMS / "pip-compile.cdx-1.4.json")
    assert len(resolution.packages) == 10
    assert all(package.version for package in resolution.packages)


def test_components_without_purl_nested_and_foreign():
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "metadata": {"component": {"bom-ref": "app", "name": "app", "type": "application"}},
        "components": [
            {
                "bom-ref": "a",
                "name": "Alpha_Pkg",
                "version": "1.0",
                "type": "library",
                "licenses": [{"license": {"id": "MIT"}}],
                "hashes": [
                    {"alg": "SHA-256", "content": "AA" * 32},
                    {"alg": "MD5", "content": "x"},
                ],
                "components": [{"bom-ref": "b", "purl": "pkg:pypi/beta@2.0"}],
            },
            {"bom-ref": "n", "purl": "pkg:npm/left-pad@1.3.0", "name": "left-pad"},
        ],
        "dependencies": [
            {"ref": "app", "dependsOn": ["a"]},
            {"ref": "a", "dependsOn": ["b", "n"]},
        ],
    }
    resolution, _ = read_cyclonedx_text(json.dumps(document, indent=2), "bom.json")
    found = {package.name: package for package in resolution.packages}
    assert set(found) == {"alpha-pkg", "beta"}
    assert found["alpha-pkg"].license == "MIT"
    assert found["alpha-pkg"].hashes == ("sha256:" + "aa" * 32,)
    assert found["beta"].version == "2.0"
    assert resolution.edges == (Edge("alpha-pkg", "beta"),)
    assert resolution.roots == ("alpha-pkg",)
    assert [problem.kind for problem in resolution.problems] == ["non-python-components"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"bomFormat": "SPDX"}', "not a CycloneDX JSON SBOM"),
        ("{", "bom.json:1: invalid JSON"),
        ('{"bomFormat": "CycloneDX"}', "without a specVersion"),
        ('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {}}', "must be an array"),
        (
            '{"bomFormat": "CycloneDX", "specVersion": "1.6",\n'
            ' "components": [{"purl": "pkg:pypi"}]}',
            "bom.json:2: invalid purl",
        ),
        (
            '{"bomFormat": "CycloneDX", "specVersion": "1.6",\n'
            ' "components": [{"purl": "pkg:pypi/requests%2Fjson%23@1.0"}]}',
            "bom.json:2: invalid Python package name 'requests/json#'",
        ),
        (
            '{"bomFormat": "CycloneDX", "specVersion": "1.6",\n'
            ' "components": [{"name": "r\u00e9quests", "version": "1.0"}]}',
            "bom.json:2: invalid Python package name",
        ),
    ],
)
def test_errors(text, message):
    with pytest.raises(InputError) as raised:
        read_cyclonedx_text(text, "bom.json")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=10)
    | st.sampled_from(["pkg:pypi/a@1", "pkg:npm/b@2", "pkg:pypi", "a", "1.0", "SHA-256"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "components",
                    "dependencies",
                    "ref",
                    "dependsOn",
                    "bom-ref",
                    "purl",
                    "name",
                    "version",
                    "hashes",
                    "alg",
                    "content",
                    "licenses",
                    "license",
                    "metadata",
                    "component",
                    "externalReferences",
                    "type",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_any_structure_gives_a_result_or_input_error(body):
    document = {"bomFormat": "CycloneDX", "specVersion": "1.6"}
    if isinstance(body, dict):
        document.update(body)
    try:
        sbom = read_cyclonedx_text(json.dumps(document), "fuzz.json")
    except InputError as error:
        assert "\n" not in str(error)
        return
    assert all(is_project_name(p.name) for p in sbom.resolution.packages)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_gives_a_result_or_input_error(text):
    try:
        read_cyclonedx_text(text, "fuzz.json")
    except InputError as error:
        assert "\n" not in str(error)


@pytest.mark.parametrize("version", ["../../requests/2.0", "not a version", ""])
def test_a_version_that_is_no_version_is_reported_and_kept(version):
    component = (
        {"purl": "pkg:pypi/six", "version": version} if version else {"purl": "pkg:pypi/six"}
    )
    text = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [component]})
    resolution = read_cyclonedx_text(text, "bom.json").resolution
    assert [(p.name, p.version) for p in resolution.packages] == [("six", version)]
    (problem,) = resolution.problems
    assert problem.kind == "invalid-version" and not problem.fatal
