"""Resolver agreement and speed against uv, in one run (part of `make bench`).

Two inputs, each for Python 3.11 on Linux: benchmarks/lab-requirements.txt (25 unpinned
top-level requirements) and benchmarks/llm-app/pyproject.toml (a wide LLM application:
about 90 direct dependencies with loose constraints). Each is resolved with
`uv pip compile` and with trustmap's resolver, with a cold cache (uv's own cache
directory emptied; a new trustmap cache) and then warm, interleaved over rounds. Printed:
the share of packages whose pinned version equals uv's, every difference, the time ratios
trustmap/uv (targets: 100% agreement, cold <= 2x, warm <= 1x), and the requests the
resolver sent, counted twice: by its fetchers' own counters and by wrapping httpx
(benchmarks/traced.py). A traced cold `trustmap scan pyproject.toml` then checks whether
the report's `requests sent` note counts the resolver's requests.

uv is installed from PyPI into benchmarks/.work/uv (a tool used for measuring, not a
dependency of trustmap).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from labenv import _pip_environment
from traced import read_log

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
INPUTS = {
    "lab-requirements.txt": HERE / "lab-requirements.txt",
    "llm-app/pyproject.toml": HERE / "llm-app" / "pyproject.toml",
}
INDEX = "https://pypi.org/simple"
UV_VERSION = "0.13.9"
PYTHON_VERSION = "3.11"

# Runs trustmap's resolver alone (no facts, no report) in a fresh process.
_RESOLVE = """
import json, sys
from pathlib import Path
from scanner.inputs.select import DeclaredOptions, read_inputs
from scanner.inputs.target import target_environment
from scanner.resolve import resolve
from scanner.sources.http import Fetcher
from scanner.store import Store
store = Store(Path(sys.argv[2]) / "trustmap.db")
target = target_environment(sys.argv[3], "linux")
inputs = read_inputs((sys.argv[1],), DeclaredOptions(), target)
made = []
def factory():
    made.append(Fetcher(store))
    return made[-1]
resolution = resolve(inputs.declared, target, factory, sys.argv[4],
                     constraints=inputs.constraints)
store.close()
print(json.dumps({"pins": {p.name: p.version for p in resolution.packages},
                  "requests": sum(f.requests_sent for f in made)}))
"""


def ensure_uv() -> Path:
    uv = WORK / "uv" / "bin" / "uv"
    if not uv.exists():
        subprocess.run([sys.executable, "-m", "venv", str(WORK / "uv")], check=True)
        command = [str(WORK / "uv" / "bin" / "pip"), "install", "-q", "--index-url", INDEX,
                   f"uv=={UV_VERSION}"]  # fmt: skip
        subprocess.run(command, check=True, env=_pip_environment())
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


def run_uv(uv: Path, cache: Path, manifest: Path) -> tuple[float, dict]:
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_NO_CONFIG": "1"}
    command = [str(uv), "pip", "compile", str(manifest), "--python-version",
               PYTHON_VERSION, "--python-platform", "x86_64-unknown-linux-gnu",
               "--index-url", INDEX, "--no-header", "--no-annotate", "-q"]  # fmt: skip
    elapsed, output = timed(command, env)
    return elapsed, {"pins": uv_pins(output), "requests": None}


def trustmap_environment() -> dict[str, str]:
    env = {**os.environ, "TRUSTMAP_TOP_PACKAGES_URL": "off"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return env


def run_trustmap(cache: Path, manifest: Path, log: Path | None = None) -> tuple[float, dict]:
    command = [sys.executable, "-c", _RESOLVE, str(manifest), str(cache),
               PYTHON_VERSION, INDEX]  # fmt: skip
    if log is not None:  # the same, with every HTTP request logged
        command = [sys.executable, str(HERE / "traced.py"), str(log), "-c", _RESOLVE,
                   *command[3:]]  # fmt: skip
    elapsed, output = timed(command, trustmap_environment())
    return elapsed, json.loads(output)


def check_scan_note(manifest: Path) -> dict:
    """A traced cold `trustmap scan MANIFEST`: the report's `requests sent` note against
    the requests httpx really sent (resolution and facts together). The usage URL is a
    127.0.0.1 port nobody listens on; its failed attempts are not counted."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    env = trustmap_environment()
    env["TRUSTMAP_TOP_PACKAGES_URL"] = f"http://127.0.0.1:{held.getsockname()[1]}/top.json"
    with tempfile.TemporaryDirectory() as folder:
        env["TRUSTMAP_CACHE_DIR"] = folder
        log, report = Path(folder) / "requests.log", Path(folder) / "report.json"
        command = [sys.executable, str(HERE / "traced.py"), str(log), "-m", "scanner.cli",
                   "scan", str(manifest), "--python-version", PYTHON_VERSION, "--platform",
                   "linux", "-f", "json", "-o", str(report), "--index-url", INDEX]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        held.close()
        if not report.exists():
            return {"error": done.stderr[-500:]}
        notes = json.loads(report.read_text())["notes"]
        noted = next(int(n.split(":")[1]) for n in notes if n.startswith("requests sent:"))
        sent = [row for row in read_log(str(log)) if "127.0.0.1" not in row[2]]
        return {"noted": noted, "sent": len(sent)}


def compare(name: str, manifest: Path, uv: Path, rounds: int) -> dict:
    print(f"== {name}")
    figures: dict[str, list[float]] = {"uv_cold": [], "uv_warm": [], "tm_cold": [], "tm_warm": []}
    results: dict[str, dict] = {}
    requests = {"tm_cold": [], "tm_warm": []}
    for round_number in range(1, rounds + 1):
        with tempfile.TemporaryDirectory() as uv_cache, tempfile.TemporaryDirectory() as tm_cache:
            order = [("uv", Path(uv_cache)), ("tm", Path(tm_cache))]
            if round_number % 2 == 0:
                order.reverse()
            for tool, cache in order:
                shutil.rmtree(cache, ignore_errors=True)
                cache.mkdir()
                runner = run_uv if tool == "uv" else run_trustmap
                args = (uv, cache, manifest) if tool == "uv" else (cache, manifest)
                cold, result = runner(*args)
                warm, warm_result = runner(*args)
                figures[f"{tool}_cold"].append(cold)
                figures[f"{tool}_warm"].append(warm)
                results[tool] = result
                if tool == "tm":
                    requests["tm_cold"].append(result["requests"])
                    requests["tm_warm"].append(warm_result["requests"])
        print(
            f"round {round_number}/{rounds}: uv {figures['uv_cold'][-1]:.2f}/"
            f"{figures['uv_warm'][-1]:.2f} s, trustmap {figures['tm_cold'][-1]:.2f}/"
            f"{figures['tm_warm'][-1]:.2f} s (cold/warm; load {os.getloadavg()[0]:.2f})"
        )
    uv_result, tm_result = results["uv"]["pins"], results["tm"]["pins"]
    same = sorted(n for n in uv_result if tm_result.get(n) == uv_result[n])
    differ = sorted(n for n in uv_result if n in tm_result and tm_result[n] != uv_result[n])
    only_uv = sorted(set(uv_result) - set(tm_result))
    only_tm = sorted(set(tm_result) - set(uv_result))
    medians = {key: statistics.median(values) for key, values in figures.items()}
    agreement = len(same) / max(1, len(uv_result))
    print(f"uv pinned {len(uv_result)} packages, trustmap {len(tm_result)}")
    print(f"same version as uv: {len(same)}/{len(uv_result)} = {agreement:.1%} (target 100%)")
    for n in differ:
        print(f"  differs: {n}: uv {uv_result[n]}, trustmap {tm_result[n]}")
    for n in only_uv:
        print(f"  only uv: {n}=={uv_result[n]}")
    for n in only_tm:
        print(f"  only trustmap: {n}=={tm_result[n]}")
    cold_ratio = medians["tm_cold"] / medians["uv_cold"]
    warm_ratio = medians["tm_warm"] / medians["uv_warm"]
    print(
        f"cold: trustmap {medians['tm_cold']:.2f} s / uv {medians['uv_cold']:.2f} s = "
        f"{cold_ratio:.2f}x (target <= 2) {'ok' if cold_ratio <= 2 else 'NOT MET'}\n"
        f"warm: trustmap {medians['tm_warm']:.2f} s / uv {medians['uv_warm']:.2f} s = "
        f"{warm_ratio:.2f}x (target <= 1) {'ok' if warm_ratio <= 1 else 'NOT MET'}"
    )
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "requests.log"
        run_trustmap(Path(cache), manifest, log)
        traced = len(read_log(str(log)))
    print(
        f"resolver requests, cold: {sorted(set(requests['tm_cold']))} by its counters, "
        f"{traced} by httpx (one traced run); warm: {sorted(set(requests['tm_warm']))}"
    )
    return {
        "medians_s": medians,
        "runs_s": figures,
        "agreement": agreement,
        "packages": {"uv": len(uv_result), "trustmap": len(tm_result)},
        "differences": {n: [uv_result[n], tm_result[n]] for n in differ},
        "only_uv": only_uv,
        "only_trustmap": only_tm,
        "cold_ratio": cold_ratio,
        "warm_ratio": warm_ratio,
        "resolver_requests": {**requests, "traced_cold": traced},
    }


def main(rounds: int = 3) -> dict:
    uv = ensure_uv()
    result = {name: compare(name, path, uv, rounds) for name, path in INPUTS.items()}
    note = check_scan_note(INPUTS["llm-app/pyproject.toml"])
    if "error" in note:
        print(f"scan of llm-app/pyproject.toml failed: {note['error']}")
    else:
        verdict = "counts" if note["noted"] >= note["sent"] else "does NOT count"
        print(
            f"`requests sent` note of a cold scan of llm-app/pyproject.toml: {note['noted']}; "
            f"httpx sent {note['sent']}: the note {verdict} the resolver's requests"
        )
    result["scan_note"] = note
    WORK.mkdir(exist_ok=True)
    (WORK / "resolve_vs_uv.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
