"""trustmap's gate benchmark: `trustmap gate` on a warm cache for a ~200-package project,
against a warm `trustmap scan` of the same file and `trustmap --version`, in one run.

    python benchmarks/gate.py [--rounds N]          (make bench)

The project is a temporary git repository holding one requirements file: the lab
environment's pins (benchmarks/labenv.txt, 210 pins). Its base commit lacks three packages
nothing else requires (nltk, openpyxl, sentencepiece) and pins two others lower (six
1.16.0, tqdm 4.67.1); the head commit is labenv.txt as it is. Both sides pin their whole
closure, as a pip-compile'd file does. What is timed, each as a subprocess, wall clock:

- `trustmap --version` (start-up);
- `trustmap scan requirements.txt -f json -o FILE` (one side: resolve, facts, rules);
- `trustmap gate requirements.txt --baseline git:HEAD~1 -f json -o FILE`: the head
  scanned, the base read with `git show` and scanned, both compared, the policy applied,
  the verdict rendered;
- the same gate rendered for a terminal (`-f table`, through a pipe) and as SARIF.

One uncounted run of each first fills the cache (both sides, both versions of the changed
packages) and the bytecode cache; every counted run then sends no request. The usage
dataset's refresh is switched off (TRUSTMAP_TOP_PACKAGES_URL=off), so only the cache is
read. Target: gate < 1.5 s (issue 10, point 8). Figures: median and spread over the rounds.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from labenv import PYPI_SIMPLE, enrichment_at  # benchmarks/ is on sys.path: run as a script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
BIN = Path(sys.executable).parent  # make bench runs this with the project venv's python
TRUSTMAP = BIN / "trustmap"
PINS = HERE / "labenv.txt"
GATE_TARGET = 1.5
# The base commit: these packages are what the change adds, and these pins what it moves.
ADDED = ("nltk", "openpyxl", "sentencepiece")
MOVED = {"six": "1.16.0", "tqdm": "4.67.1"}


def _environment(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PIP_INDEX_URL", "TRUSTMAP_DEBUG")}
    env["TRUSTMAP_TOP_PACKAGES_URL"] = "off"
    env.update(enrichment_at("off"))  # their cost behind a mirror: unreachable_sources.py
    env["TRUSTMAP_CACHE_DIR"] = str(cache)
    # As in run.py: bytecode in a cache of our own, whatever PYTHONDONTWRITEBYTECODE says.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    env["NO_COLOR"] = "1"
    return env


def _git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run(["git", *identity, "-C", str(repo), *args], check=True, capture_output=True)


def make_project(folder: Path) -> Path:
    """A git repository: the base commit (fewer packages, two older pins), then the head."""
    pins = [
        line
        for line in PINS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    base = []
    for line in pins:
        name = line.split("==")[0].strip().lower()
        if name in ADDED:
            continue
        base.append(f"{name}=={MOVED[name]}" if name in MOVED else line)
    repo = folder / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    manifest = repo / "requirements.txt"
    manifest.write_text("\n".join(base) + "\n", encoding="utf-8")
    _git(repo, "add", "requirements.txt")
    _git(repo, "commit", "-q", "-m", "base")
    manifest.write_text("\n".join(pins) + "\n", encoding="utf-8")
    _git(repo, "commit", "-q", "-a", "-m", "head: three packages added, two pins moved")
    return repo


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(
    command: list[str], repo: Path, env: dict[str, str], ok: tuple[int, ...]
) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one process. On a shared machine the CPU
    time is the steadier figure: what an idle machine's wall time would come to."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    if done.returncode not in ok:
        raise SystemExit(
            f"benchmark: {' '.join(command)} exited {done.returncode}\n{done.stderr[-3000:]}"
        )
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="repetitions (default 5)")
    args = parser.parse_args()
    if not TRUSTMAP.exists():
        raise SystemExit(f"benchmark: {TRUSTMAP} is missing; run `make install` first")
    WORK.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="gate-", dir=WORK))
    try:
        repo = make_project(folder)
        env = _environment(folder / "cache")
        index = ["--index-url", PYPI_SIMPLE]
        out = str(folder / "out")
        # The gate's own exit code is the verdict (0 pass, 1 fail, 3 incomplete): all
        # are a finished gate; 2 and 4 are not.
        verdicts = (0, 1, 3)
        scan = [str(TRUSTMAP), "scan", "requirements.txt", *index]
        gate = [str(TRUSTMAP), "gate", "requirements.txt", "--baseline", "git:HEAD~1", *index]
        commands = {
            "trustmap --version": ([str(TRUSTMAP), "--version"], (0,)),
            "scan (head only), -f json": ([*scan, "-f", "json", "-o", out], (0,)),
            "gate, -f json": ([*gate, "-f", "json", "-o", out], verdicts),
            "gate, -f table (piped)": (gate, verdicts),
            "gate, -f sarif": ([*gate, "-f", "sarif", "-o", out], verdicts),
        }
        started = time.perf_counter()
        for command, ok in commands.values():  # not counted: fills the caches
            _timed(command, repo, env, ok)
        print(f"cache filled (not counted) in {time.perf_counter() - started:.1f} s")
        wall: dict[str, list[float]] = {label: [] for label in commands}
        cpu: dict[str, list[float]] = {label: [] for label in commands}
        for round_no in range(args.rounds):
            for label, (command, ok) in commands.items():
                elapsed, used = _timed(command, repo, env, ok)
                wall[label].append(elapsed)
                cpu[label].append(used)
            print(
                f"round {round_no + 1}/{args.rounds}: gate {wall['gate, -f json'][-1]:.2f} s, "
                f"scan {wall['scan (head only), -f json'][-1]:.2f} s "
                f"(load {os.getloadavg()[0]:.2f})"
            )
        packages = sum(1 for line in (repo / "requirements.txt").read_text().splitlines())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load_after = os.getloadavg()

    print()
    print(f"{'wall clock, seconds':<36}{'median':>8}{'min':>8}{'max':>8}{'n':>4}{'cpu':>8}")
    for label, values in wall.items():
        print(
            f"{label:<36}{statistics.median(values):>8.3f}{min(values):>8.3f}"
            f"{max(values):>8.3f}{len(values):>4}{statistics.median(cpu[label]):>8.3f}"
        )
    print("(cpu: median user + system time of the process and its children)")
    gate = statistics.median(wall["gate, -f json"])
    scan = statistics.median(wall["scan (head only), -f json"])
    start_up = statistics.median(wall["trustmap --version"])
    gate_cpu = statistics.median(cpu["gate, -f json"])
    verdict = "ok" if gate < GATE_TARGET else "OVER TARGET"
    print()
    print(
        f"project: {packages} pins at head; base: {', '.join(ADDED)} absent, "
        + ", ".join(f"{name} {version}" for name, version in MOVED.items())
    )
    print(
        f"gate: {gate:.3f} s = {gate / scan:.2f}x a warm scan of one side, "
        f"{gate / start_up:.1f}x trustmap --version (target < {GATE_TARGET} s) {verdict}; "
        f"cpu {gate_cpu:.3f} s ({'under' if gate_cpu < GATE_TARGET else 'over'} the target "
        "on an idle machine)"
    )
    print(
        f"load average before/after: {load_before[0]:.2f}/{load_after[0]:.2f} on "
        f"{os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
