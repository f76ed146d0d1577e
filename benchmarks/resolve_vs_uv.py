"""Resolver agreement and speed against uv, in one run (part of `make bench`).

For benchmarks/lab-requirements.txt (25 unpinned top-level requirements) and Python 3.11
on Linux, resolve with `uv pip compile` and with trustmap's resolver, each with a cold
cache (uv's own cache directory emptied; a new trustmap cache) and then warm. Print the
share of packages whose pinned version equals uv's, every difference, and the time
ratios trustmap/uv (targets: 100% agreement, cold <= 2x, warm <= 5x).

uv is installed from PyPI into benchmarks/.work/uv (a tool used for measuring, not a
dependency of trustmap).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
REQUIREMENTS = HERE / "lab-requirements.txt"
INDEX = "https://pypi.org/simple"
UV_VERSION = "0.13.9"
PYTHON_VERSION = "3.11"

# Runs trustmap's resolver alone (no facts, no report) in a fresh process.
_RESOLVE = """
import json, sys
from pathlib import Path
from scanner.inputs.requirements import parse_requirements_file
from scanner.inputs.target import target_environment
from scanner.resolve import resolve
from scanner.sources.http import Fetcher
from scanner.store import Store
store = Store(Path(sys.argv[2]) / "trustmap.db")
parsed = parse_requirements_file(sys.argv[1])
resolution = resolve(parsed.requirements, target_environment(sys.argv[3], "linux"),
                     lambda: Fetcher(store), sys.argv[4])
store.close()
print(json.dumps({p.name: p.version for p in resolution.packages}))
"""


def ensure_uv() -> Path:
    uv = WORK / "uv" / "bin" / "uv"
    if not uv.exists():
        subprocess.run([sys.executable, "-m", "venv", str(WORK / "uv")], check=True)
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
        subprocess.run(
            [str(WORK / "uv" / "bin" / "pip"), "install", "-q", f"uv=={UV_VERSION}"],
            check=True,
            env=env,
        )
    return uv


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command[:3])}...\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def uv_pins(output: str) -> dict[str, str]:
    pins = {}
    for line in output.splitlines():
        line = line.split("#")[0].strip()
        if "==" in line and not line.startswith("-"):
            name, _, version = line.partition("==")
            name = name.split("[")[0].strip().lower().replace("_", "-").replace(".", "-")
            pins[name] = version.split(";")[0].strip()
    return pins


def run_uv(uv: Path, cache: Path) -> tuple[float, dict[str, str]]:
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_NO_CONFIG": "1"}
    command = [str(uv), "pip", "compile", str(REQUIREMENTS), "--python-version",
               PYTHON_VERSION, "--python-platform", "x86_64-unknown-linux-gnu",
               "--index-url", INDEX, "--no-header", "--no-annotate", "-q"]  # fmt: skip
    elapsed, output = timed(command, env)
    return elapsed, uv_pins(output)


def run_trustmap(cache: Path) -> tuple[float, dict[str, str]]:
    env = {**os.environ, "TRUSTMAP_TOP_PACKAGES_URL": "off"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    command = [sys.executable, "-c", _RESOLVE, str(REQUIREMENTS), str(cache),
               PYTHON_VERSION, INDEX]  # fmt: skip
    elapsed, output = timed(command, env)
    return elapsed, json.loads(output)


def main(rounds: int = 3) -> dict:
    uv = ensure_uv()
    figures: dict[str, list[float]] = {"uv_cold": [], "uv_warm": [], "tm_cold": [], "tm_warm": []}
    uv_result: dict[str, str] = {}
    tm_result: dict[str, str] = {}
    for round_number in range(1, rounds + 1):
        with tempfile.TemporaryDirectory() as uv_cache, tempfile.TemporaryDirectory() as tm_cache:
            order = [("uv", Path(uv_cache)), ("tm", Path(tm_cache))]
            if round_number % 2 == 0:
                order.reverse()
            for tool, cache in order:
                shutil.rmtree(cache, ignore_errors=True)
                cache.mkdir()
                runner = run_uv if tool == "uv" else run_trustmap
                args = (uv, cache) if tool == "uv" else (cache,)
                cold, pins = runner(*args)
                warm, _ = runner(*args)
                figures[f"{tool}_cold"].append(cold)
                figures[f"{tool}_warm"].append(warm)
                if tool == "uv":
                    uv_result = pins
                else:
                    tm_result = pins
        print(
            f"round {round_number}/{rounds}: uv {figures['uv_cold'][-1]:.2f}/"
            f"{figures['uv_warm'][-1]:.2f} s, trustmap {figures['tm_cold'][-1]:.2f}/"
            f"{figures['tm_warm'][-1]:.2f} s (cold/warm)"
        )
    same = sorted(n for n in uv_result if tm_result.get(n) == uv_result[n])
    differ = sorted(n for n in uv_result if n in tm_result and tm_result[n] != uv_result[n])
    only_uv = sorted(set(uv_result) - set(tm_result))
    only_tm = sorted(set(tm_result) - set(uv_result))
    medians = {key: statistics.median(values) for key, values in figures.items()}
    agreement = len(same) / max(1, len(uv_result))
    print(f"\nuv pinned {len(uv_result)} packages, trustmap {len(tm_result)}")
    print(f"same version as uv: {len(same)}/{len(uv_result)} = {agreement:.1%} (target 100%)")
    for name in differ:
        print(f"  differs: {name}: uv {uv_result[name]}, trustmap {tm_result[name]}")
    for name in only_uv:
        print(f"  only uv: {name}=={uv_result[name]}")
    for name in only_tm:
        print(f"  only trustmap: {name}=={tm_result[name]}")
    cold_ratio = medians["tm_cold"] / medians["uv_cold"]
    warm_ratio = medians["tm_warm"] / medians["uv_warm"]
    print(
        f"cold: trustmap {medians['tm_cold']:.2f} s / uv {medians['uv_cold']:.2f} s = "
        f"{cold_ratio:.2f}x (target <= 2)\n"
        f"warm: trustmap {medians['tm_warm']:.2f} s / uv {medians['uv_warm']:.2f} s = "
        f"{warm_ratio:.2f}x (target <= 5)"
    )
    result = {
        "medians_s": medians,
        "runs_s": figures,
        "agreement": agreement,
        "differences": {n: [uv_result[n], tm_result[n]] for n in differ},
        "only_uv": only_uv,
        "only_trustmap": only_tm,
        "cold_ratio": cold_ratio,
        "warm_ratio": warm_ratio,
    }
    WORK.mkdir(exist_ok=True)
    (WORK / "resolve_vs_uv.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
