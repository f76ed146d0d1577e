"""`trustmap report RESULT.json`: any output rendered from a saved JSON result, without
scanning again, the same as the scan itself would have written it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.test_cli import run

# What differs from one scan to the next: a CycloneDX document's serial number, and the
# moment each scan saw the facts (timestamps).
_CHANGING = re.compile(r'"serialNumber": ?"[^"]*"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00')


@pytest.fixture
def saved(lab_venv, fixture_index, tmp_path) -> tuple[Path, list[str]]:
    """A saved result of a warm scan, and the arguments that scan again the same way (warm
    too, so that its notes count the same requests)."""
    scan = ["scan", str(lab_venv), "--index-url", fixture_index.simple_url]
    code, _, err = run(*scan, "-f", "json", "-o", str(tmp_path / "cold.json"))
    assert code == 0, err
    path = tmp_path / "result.json"
    code, _, err = run(*scan, "-f", "json", "-o", str(path))
    assert code == 0, err
    return path, scan


@pytest.mark.parametrize("output_format", ["table", "markdown", "sarif", "cyclonedx-json", "html"])
def test_a_saved_result_renders_as_the_scan_does(saved, output_format, tmp_path):
    path, scan = saved
    code, _, err = run(*scan, "-f", output_format, "-o", str(tmp_path / "scanned"))
    assert code == 0, err
    code, _, err = run("report", str(path), "-f", output_format, "-o", str(tmp_path / "rendered"))
    assert code == 0, err
    scanned = (tmp_path / "scanned").read_text()
    rendered = (tmp_path / "rendered").read_text()
    assert _CHANGING.sub("", rendered) == _CHANGING.sub("", scanned)


def test_the_saved_result_holds_what_outputs_need(saved):
    document = json.loads(saved[0].read_text())
    rules = {rule["id"] for rule in document["rules"]}
    assert "solo-maintainer" in rules
    requests = next(p for p in document["packages"] if p["name"] == "requests")
    assert requests["summary"] == "Python HTTP for Humans."
    assert all("severity" in u for p in document["packages"] for u in p["undetermined"])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{", "not JSON: not a saved trustmap result"),
        ('{"bomFormat": "CycloneDX", "components": []}', "not a saved trustmap JSON result"),
        ("[1, 2]", "not a saved trustmap JSON result"),
        (
            '{"tool": {"name": "trustmap"}, "packages": [{"name": "a", "findings": "x"}]}',
            "packages[0].findings: not a list of objects",
        ),
        (
            '{"tool": {"name": "trustmap"}, "packages": [{"name": "a", "findings": '
            '[{"rule": "r", "severity": "dire"}]}]}',
            "packages[0].findings[0].severity: 'dire' is not a severity",
        ),
    ],
)
def test_bad_or_foreign_json_is_one_line_and_exit_2(tmp_path, content, expected):
    path = tmp_path / "result.json"
    path.write_text(content)
    code, out, err = run("report", str(path), "-f", "markdown")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and expected in err and str(path) in err, err
    assert "Traceback" not in err


def test_a_missing_file_is_one_line_and_exit_2(tmp_path):
    code, _, err = run("report", str(tmp_path / "absent.json"))
    assert code == 2 and err.count("\n") == 1 and "absent.json" in err
