"""rouge-score 0.1.2, an sdist-only release, resolved against the live index: its four
dependencies come from the sdist's egg-info requires.txt. Skipped, with the reason, when
pypi.org cannot be reached."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.online

INDEX_URL = "https://pypi.org/simple"


def test_rouge_score_has_its_four_dependencies(tmp_path):
    import httpx

    try:
        probe = httpx.get(f"{INDEX_URL}/rouge-score/", timeout=5.0)
    except httpx.HTTPError as exc:
        pytest.skip(f"pypi.org is unreachable ({type(exc).__name__}: {exc})")
    if probe.status_code != 200:
        pytest.skip(f"pypi.org answered HTTP {probe.status_code} to a probe")
    command = [sys.executable, "-m", "scanner", "scan", "rouge-score==0.1.2", "-f", "json"]
    command += ["--index-url", INDEX_URL, "--cache", str(tmp_path / "cache.db")]
    env = {**os.environ, "TRUSTMAP_TOP_PACKAGES_URL": "off"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode in (0, 1, 3), done.stderr
    report = json.loads(done.stdout)
    children = {e["to"] for e in report["edges"] if e["from"] == "rouge-score"}
    assert children == {"absl-py", "nltk", "numpy", "six"}
    unknown = [p for p in report["problems"] if p.get("package") == "rouge-score"]
    assert not unknown
