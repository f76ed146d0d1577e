"""What unreachable enrichment hosts cost: a warm scan of 150 pinned requirements (the
first 150 pins of benchmarks/labenv.txt, about 210 packages with their dependencies) with
every enrichment source (OSV, GitHub, deps.dev) switched off, against the same scan with
every source pointed at a 127.0.0.1 port that is bound but not listening (connections
refused) and at a blackhole that accepts connections and never answers.

    python benchmarks/unreachable_sources.py [--rounds N]      (part of make bench)

The cache is filled once first (index only, from PyPI); the timed scans are warm, so
the difference is what the enrichment hosts cost. Each scan is a subprocess, wall clock,
interleaved per round; the figure is the median. Target: at most 2 s more than off.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from labenv import enrichment_at  # benchmarks/ is on sys.path: run as a script

HERE = Path(__file__).resolve().parent
TRUSTMAP = Path(sys.executable).parent / "trustmap"
PINS = 150
TARGET_EXTRA_SECONDS = 2.0


def requirements(folder: Path) -> Path:
    pins = [
        line.strip()
        for line in (HERE / "labenv.txt").read_text().splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    ][:PINS]
    path = folder / "requirements.txt"
    path.write_text("\n".join(pins) + "\n")
    return path


def blackhole() -> tuple[socket.socket, threading.Event]:
    """A port that accepts every connection and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return listener, stop


def scan(target: Path, cache: Path, base_url: str) -> float:
    env = {**os.environ, "TRUSTMAP_CACHE_DIR": str(cache), "TRUSTMAP_TOP_PACKAGES_URL": "off"}
    env.update(enrichment_at(base_url))
    started = time.perf_counter()
    subprocess.run(
        [str(TRUSTMAP), "scan", str(target), "-f", "json", "-o", os.devnull],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        target = requirements(work)
        cache = work / "cache"
        refused = socket.socket()
        refused.bind(("127.0.0.1", 0))  # bound, never listening
        hole, stop = blackhole()
        shapes = {
            "off": "off",
            "refused": f"http://127.0.0.1:{refused.getsockname()[1]}",
            "blackhole": f"http://127.0.0.1:{hole.getsockname()[1]}",
        }
        print(f"filling the cache for {PINS} pins (index only)...", flush=True)
        scan(target, cache, "off")
        times: dict[str, list[float]] = {shape: [] for shape in shapes}
        for _ in range(args.rounds):
            for shape, url in shapes.items():
                times[shape].append(scan(target, cache, url))
        stop.set()
        hole.close()
        refused.close()
    off = statistics.median(times["off"])
    print(f"warm scan of {PINS} pins, median of {args.rounds} rounds:")
    worst = 0.0
    for shape, seconds in times.items():
        median = statistics.median(seconds)
        extra = median - off
        worst = max(worst, extra)
        print(
            f"  {shape:>9}: {median:5.2f} s ({min(seconds):.2f}..{max(seconds):.2f})"
            + ("" if shape == "off" else f", {extra:+.2f} s")
        )
    ok = worst <= TARGET_EXTRA_SECONDS
    print(f"target: at most {TARGET_EXTRA_SECONDS:g} s more than off: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
