"""Build (once) and describe the benchmark's lab environment: a real virtual environment
of about 160 distributions installed with pip from PyPI, pinned by benchmarks/labenv.txt.

The environment is rebuilt only when labenv.txt changes (its hash is kept beside it).
pip runs with this machine's pip configuration switched off, so that every distribution
comes from PyPI itself and not from a local wheel folder or mirror.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
LABENV = WORK / "labenv"
REQUIREMENTS = HERE / "labenv.txt"
PYPI_SIMPLE = "https://pypi.org/simple"
# The enrichment services (OSV, GitHub, deps.dev, Scorecard, pypistats): none answers
# from this machine. A benchmark points them where it wants (off, or a port that refuses,
# as behind a mirror) and never at the real hosts.
ENRICHMENT_SOURCES = ("OSV", "GITHUB", "DEPSDEV", "SCORECARD", "PYPISTATS")


def enrichment_at(url: str) -> dict[str, str]:
    """The environment that points every enrichment service at `url` ("off" switches
    them off)."""
    return {f"TRUSTMAP_{name}_API_URL": url for name in ENRICHMENT_SOURCES}


_STAMP = ".trustmap-bench-stamp"


def _requirements_hash() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def _pip_environment() -> dict[str, str]:
    """The environment pip runs in: no configuration files, no extra indexes or wheel
    folders, nothing but PyPI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if "PIP_CERT" in os.environ:
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    if "PIP_DEFAULT_TIMEOUT" in os.environ:
        env["PIP_DEFAULT_TIMEOUT"] = os.environ["PIP_DEFAULT_TIMEOUT"]
    return env


def site_packages(env: Path = LABENV) -> Path:
    found = sorted(env.glob("lib/python3*/site-packages"))
    if not found:
        raise FileNotFoundError(f"{env}: no lib/python3*/site-packages")
    return found[0]


def ensure_labenv(log=print) -> tuple[Path, bool]:
    """The lab environment, built if it is missing or its pins changed. Returns its path
    and whether it was built now."""
    stamp = LABENV / _STAMP
    wanted = _requirements_hash()
    if stamp.is_file() and stamp.read_text().strip() == wanted:
        return LABENV, False
    if LABENV.exists():
        shutil.rmtree(LABENV)
    WORK.mkdir(parents=True, exist_ok=True)
    python = shutil.which("python3") or sys.executable
    log(f"building the lab environment in {LABENV} (once; a few minutes) ...")
    subprocess.run([python, "-m", "venv", str(LABENV)], check=True)
    subprocess.run(
        [
            str(LABENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--only-binary",
            ":all:",
            "--index-url",
            PYPI_SIMPLE,
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
        env=_pip_environment(),
    )
    stamp.write_text(wanted + "\n")
    return LABENV, True


_NAME = re.compile(r"^Name:\s*(\S.*?)\s*$", re.MULTILINE)


def canonical(name: str) -> str:
    """PEP 503 normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions(env: Path = LABENV) -> list[tuple[str, Path]]:
    """(canonical name, dist-info folder) of every installed distribution, read with a
    plain parse of METADATA's Name field."""
    found: list[tuple[str, Path]] = []
    for folder in sorted(site_packages(env).glob("*.dist-info")):
        metadata = folder / "METADATA"
        if not metadata.is_file():
            continue
        head = metadata.read_text(encoding="utf-8", errors="replace").split("\n\n", 1)[0]
        match = _NAME.search(head)
        if match:
            found.append((canonical(match.group(1)), folder))
    return found


if __name__ == "__main__":
    path, built = ensure_labenv()
    dists = distributions(path)
    print(f"{path}: {len(dists)} dist-info folders ({'built now' if built else 'reused'})")
