"""trustmap's benchmark: a cold and a warm scan of a real ~160-distribution lab
environment, against the network floor, interleaved and repeated in one run.

    python benchmarks/run.py [--rounds N]          (make bench)

What is timed, each as a subprocess, wall clock, every round:
- start-up floor: `python -c pass` (the project venv's interpreter);
- `trustmap --version`;
- network floor: benchmarks/floor.py, bare httpx (24 connections in all, as trustmap)
  GETting the very URLs a cold scan sends (learnt from one traced, uncounted cold scan)
  and reading the bodies whole, in several shapes: one process, or as many processes as a
  cold scan forks, each with its own client and its share of the connections; HTTP/2 or
  HTTP/1.1. The fastest shape's median is the floor;
- trustmap cold: `trustmap scan LABENV -f json -o FILE --index-url https://pypi.org/simple`
  with a new, empty TRUSTMAP_CACHE_DIR;
- trustmap warm: the same command again on the cache the cold scan filled.

The usage dataset's URL points at a 127.0.0.1 port that is bound but not listening (as
behind a mirror that cannot reach it), so the cold scan pays for that failure as users
behind a mirror do; nothing but the index is contacted. The floor and the cold scan swap
places every round, and the traced scan warms the CDN and DNS first. Figures: median and
spread (min..max) over the rounds. Targets: cold/floor <= 1.3, warm < 1.0 s. The figures
are also written to benchmarks/.work/last.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from labenv import (  # benchmarks/ is on sys.path: run as a script
    PYPI_SIMPLE,
    WORK,
    distributions,
    enrichment_at,
    ensure_labenv,
)
from traced import read_log

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent  # make bench runs this with the project venv's python
PYTHON = BIN / "python"
TRUSTMAP = BIN / "trustmap"
CONCURRENCY = 24  # scanner.options.ScanOptions.concurrency
COLD_TARGET = 1.3
WARM_TARGET = 1.0
STARTUP_REPEATS = 5  # per round: these are short and noisy


# Set in main(): a 127.0.0.1 port bound without listening, so connecting is refused.
UNREACHABLE_USAGE_URL = "off"


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["TRUSTMAP_TOP_PACKAGES_URL"] = UNREACHABLE_USAGE_URL
    # The enrichment services are unreachable too, as behind a mirror: the same port.
    env.update(enrichment_at(UNREACHABLE_USAGE_URL.rsplit("/", 1)[0]))
    env.pop("PIP_INDEX_URL", None)
    env.pop("TRUSTMAP_DEBUG", None)
    # Some machines set PYTHONDONTWRITEBYTECODE, so that an editable install compiles
    # its own modules from source on every run (about 0.1 s here). A pip-installed
    # trustmap has its bytecode; keep it in a cache of our own, for every process timed.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall time, CPU time (user + system) and standard output of one process."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        command, env=env or _environment(), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(
            f"benchmark: {' '.join(command)} exited {done.returncode}\n{done.stderr[-3000:]}"
        )
    return elapsed, cpu, done.stdout


# (label, floor.py arguments): every shape the floor is tried in. PREFETCH_PROCESSES is
# how many processes a cold scan fetches with, and the concurrency is divided among them
# as the scan divides it (scanner.sources.http.Fetcher.prefetch): the same parallelism.
PREFETCH_PROCESSES = max(1, min(os.cpu_count() or 1, 4))
_SHARE = ["--processes", str(PREFETCH_PROCESSES), "--concurrency",
          str(max(1, CONCURRENCY // PREFETCH_PROCESSES))]  # fmt: skip
FLOOR_SHAPES = [
    ("1 process, HTTP/2", []),
    ("1 process, HTTP/1.1", ["--http1"]),
    (f"{PREFETCH_PROCESSES} processes, HTTP/2", _SHARE),
    (f"{PREFETCH_PROCESSES} processes, HTTP/1.1", [*_SHARE, "--http1"]),
]


def unreachable_port() -> socket.socket:
    """A socket bound to a 127.0.0.1 port and never listening: connections to it are
    refused at once, and no other process can take the port while it is held."""
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    return held


def traced_urls(labenv: Path, cache_dir: Path, report: Path, log: Path) -> list[str]:
    """The URLs a cold scan GETs from the index, from one traced scan (not counted)."""
    env = _environment()
    env["TRUSTMAP_CACHE_DIR"] = str(cache_dir)
    log.unlink(missing_ok=True)
    scan = ["scan", str(labenv), "-f", "json", "-o", str(report), "--index-url", PYPI_SIMPLE]
    command = [str(PYTHON), str(HERE / "traced.py"), str(log), "-m", "scanner.cli", *scan]
    _timed(command, env)
    return [url for _, _, url in read_log(str(log)) if not url.startswith("http://127.0.0.1")]


def run_floor(urls_file: Path, shape: list[str] = ()) -> dict:
    command = [str(PYTHON), str(HERE / "floor.py"), str(urls_file), "--concurrency",
               str(CONCURRENCY), *shape]  # fmt: skip
    wall, cpu, out = _timed(command)
    result = json.loads(out)
    result["wall_s"] = wall
    result["cpu_s"] = cpu
    return result


def run_scan(labenv: Path, cache_dir: Path, report: Path) -> dict:
    env = _environment()
    env["TRUSTMAP_CACHE_DIR"] = str(cache_dir)
    command = [
        str(TRUSTMAP),
        "scan",
        str(labenv),
        "-f",
        "json",
        "-o",
        str(report),
        "--index-url",
        PYPI_SIMPLE,
    ]
    wall, cpu, _ = _timed(command, env)
    document = json.loads(report.read_text(encoding="utf-8"))
    requests = None
    for note in document.get("notes", []):
        if note.startswith("requests sent:"):
            requests = int(note.split(":", 1)[1])
    packages = document.get("packages", [])
    unreadable = sum(
        1
        for p in packages
        if any("could not be read" in r for r in (p.get("unknown_facts") or {}).values())
    )
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "requests": requests,
        "packages": document.get("summary", {}).get("packages", len(packages)),
        "index_errors": unreadable,
    }


def _startup(command: list[str]) -> list[tuple[float, float]]:
    return [_timed(command)[:2] for _ in range(STARTUP_REPEATS)]


def _stats(values: list[float]) -> dict:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "samples": values,
    }


def _git_head() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


def _index_errors(cold_runs: list[dict]) -> int:
    return max(r["index_errors"] for r in cold_runs)


def main() -> int:
    global UNREACHABLE_USAGE_URL
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="repetitions (default 3)")
    args = parser.parse_args()
    if not TRUSTMAP.exists():
        raise SystemExit(f"benchmark: {TRUSTMAP} is missing; run `make install` first")

    bench_start = time.perf_counter()
    load_before = os.getloadavg()
    held = unreachable_port()
    UNREACHABLE_USAGE_URL = f"http://127.0.0.1:{held.getsockname()[1]}/top-pypi-packages.json"
    labenv, built = ensure_labenv()
    dists = distributions(labenv)
    print(
        f"lab environment: {labenv.relative_to(ROOT)}: {len(dists)} dist-info folders"
        f" ({'built now' if built else 'reused'})"
    )
    print(f"usage dataset URL (unreachable, as behind a mirror): {UNREACHABLE_USAGE_URL}")

    caches = WORK / "caches"
    shutil.rmtree(caches, ignore_errors=True)
    caches.mkdir(parents=True)
    report = WORK / "report.json"

    # Not counted: learns the URLs, warms the CDN, DNS and the bytecode cache.
    urls = traced_urls(labenv, caches / "traced", report, WORK / "traced.log")
    urls_file = WORK / "floor-urls.txt"
    urls_file.write_text("".join(f"{u}\n" for u in urls))
    warmup = run_floor(urls_file)
    print(
        f"documents a cold scan fetches: {len(urls)} URLs; warm-up floor run (not counted): "
        f"{warmup['wall_s']:.2f} s, {warmup['bytes'] / 1e6:.1f} MB, statuses {warmup['statuses']}"
    )

    keys = ("startup", "version", "cold", "warm", *(label for label, _ in FLOOR_SHAPES))
    wall: dict[str, list[float]] = {k: [] for k in keys}
    cpu: dict[str, list[float]] = {k: [] for k in keys}
    cold_runs: list[dict] = []
    warm_runs: list[dict] = []
    floor_runs: list[dict] = []
    for round_no in range(args.rounds):
        for key, command in (
            ("startup", [str(PYTHON), "-c", "pass"]),
            ("version", [str(TRUSTMAP), "--version"]),
        ):
            for elapsed, used in _startup(command):
                wall[key].append(elapsed)
                cpu[key].append(used)
        cache_dir = Path(tempfile.mkdtemp(prefix=f"round{round_no}-", dir=caches))
        # The floor shapes and the cold scan take turns going first.
        steps = [*(label for label, _ in FLOOR_SHAPES), "cold"]
        if round_no % 2:
            steps.reverse()
        for step in steps:
            if step == "cold":
                cold = run_scan(labenv, cache_dir, report)
                cold_runs.append(cold)
                wall["cold"].append(cold["wall_s"])
                cpu["cold"].append(cold["cpu_s"])
            else:
                floor = run_floor(urls_file, dict(FLOOR_SHAPES)[step])
                floor_runs.append(floor)
                wall[step].append(floor["wall_s"])
                cpu[step].append(floor["cpu_s"])
        for _ in range(2):
            warm = run_scan(labenv, cache_dir, report)
            warm_runs.append(warm)
            wall["warm"].append(warm["wall_s"])
            cpu["warm"].append(warm["cpu_s"])
        shutil.rmtree(cache_dir, ignore_errors=True)
        floors = ", ".join(f"{label} {wall[label][-1]:.2f}" for label, _ in FLOOR_SHAPES)
        print(
            f"round {round_no + 1}/{args.rounds}: cold {wall['cold'][-1]:.2f} s, warm "
            f"{wall['warm'][-2]:.2f}/{wall['warm'][-1]:.2f} s; floor: {floors} "
            f"(load {os.getloadavg()[0]:.2f})"
        )

    stats = {k: _stats(v) for k, v in wall.items()}
    cpu_stats = {k: _stats(v) for k, v in cpu.items() if v}
    floor_label = min((label for label, _ in FLOOR_SHAPES), key=lambda k: stats[k]["median"])
    floor_median = stats[floor_label]["median"]
    cold_ratio = stats["cold"]["median"] / floor_median
    ratios = [c / f for c, f in zip(wall["cold"], wall[floor_label], strict=True)]
    warm_median = stats["warm"]["median"]
    cold_requests = sorted({r["requests"] for r in cold_runs})
    warm_requests = sorted({r["requests"] for r in warm_runs})
    index_errors = _index_errors(cold_runs)
    load_after = os.getloadavg()
    held.close()

    rows = [
        ("start-up floor: python -c pass", "startup"),
        ("trustmap --version", "version"),
        *((f"network floor: {label}", label) for label, _ in FLOOR_SHAPES),
        ("trustmap cold scan", "cold"),
        ("trustmap warm scan", "warm"),
    ]
    print()
    print(f"{'wall clock, seconds':<44}{'median':>8}{'min':>8}{'max':>8}{'n':>4}{'cpu':>8}")
    for label, key in rows:
        s = stats[key]
        used = f"{cpu_stats[key]['median']:>8.3f}" if key in cpu_stats else f"{'':>8}"
        print(
            f"{label:<44}{s['median']:>8.3f}{s['min']:>8.3f}{s['max']:>8.3f}"
            f"{len(s['samples']):>4}{used}"
        )
    print("(cpu: median user + system time of the process and its children)")
    print()
    print(f"packages: {len(dists)} dist-info folders; trustmap counted {cold_runs[0]['packages']}")
    print(
        f"floor: {len(urls)} requests, {floor_runs[0]['bytes'] / 1e6:.1f} MB, "
        f"statuses {floor_runs[0]['statuses']}; fastest shape: {floor_label}"
    )
    print(
        f"trustmap requests sent: cold {'/'.join(map(str, cold_requests))}, "
        f"warm {'/'.join(map(str, warm_requests))}"
    )
    if index_errors:
        print(f"WARNING: {index_errors} packages had index errors in a cold scan")
    verdict_cold = "ok" if cold_ratio <= COLD_TARGET else "OVER TARGET"
    verdict_warm = "ok" if warm_median < WARM_TARGET else "OVER TARGET"
    print(
        f"cold / floor ({floor_label}): {cold_ratio:.2f} (per round {min(ratios):.2f}.."
        f"{max(ratios):.2f}; target <= {COLD_TARGET}) {verdict_cold}"
    )
    print(
        f"warm: {warm_median:.3f} s = {warm_median / stats['startup']['median']:.1f}x "
        f"python -c pass (target < {WARM_TARGET} s) {verdict_warm}"
    )
    total = time.perf_counter() - bench_start
    print(
        f"load average before/after: {load_before[0]:.2f}/{load_after[0]:.2f} on "
        f"{os.cpu_count()} CPUs; benchmark took {total:.0f} s"
    )

    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "trustmap_commit": _git_head(),
        "cpus": os.cpu_count(),
        "load_average_before_after": [load_before[0], load_after[0]],
        "rounds": args.rounds,
        "packages": len(dists),
        "trustmap_packages": cold_runs[0]["packages"],
        "floor_requests": len(urls),
        "floor_bytes": floor_runs[0]["bytes"],
        "floor_shape": floor_label,
        "trustmap_requests_cold": [r["requests"] for r in cold_runs],
        "trustmap_requests_warm": [r["requests"] for r in warm_runs],
        "cold_index_errors": index_errors,
        "wall_s": stats,
        "cpu_s": cpu_stats,
        "cold_over_floor": cold_ratio,
        "cold_over_floor_per_round": ratios,
        "warm_s": warm_median,
        "targets": {"cold_over_floor_max": COLD_TARGET, "warm_max_s": WARM_TARGET},
        "met": {"cold": cold_ratio <= COLD_TARGET, "warm": warm_median < WARM_TARGET},
        "benchmark_s": total,
    }
    (WORK / "last.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {(WORK / 'last.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
