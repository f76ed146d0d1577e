"""trustmap against the tools people would pick instead, on the same input, in one run
(part of `make bench`).

The input is the benchmark's lab environment (benchmarks/.work/labenv, about 210
distributions, built by labenv.py) and, for the tools that read a requirements file, its
pins (benchmarks/labenv.txt, the same closure). Each peer is installed from PyPI, pinned,
into a virtual environment of its own under benchmarks/.work/peers/.

Compared, wall clock of the whole process, interleaved over rounds:
- pip-audit (`--path SITE-PACKAGES --vulnerability-service pypi`, a new cache each run)
  against a cold trustmap scan (a new cache each run): both ask the index about every
  installed distribution. OSV is not reachable here, hence the PyPI service.
- cyclonedx-py (`environment LABENV/bin/python` and `requirements labenv.txt`): SBOMs
  from local metadata, no network; against a warm `trustmap scan LABENV -f cyclonedx-json`
  (target: at most 0.2x cyclonedx-py's time).
- guarddog (`pypi verify labenv.txt`, once: it downloads and unpacks every package),
  against the cold scan. Its rules that contact hosts other than the index (WHOIS on
  maintainers' e-mail domains, fetching project home pages) are excluded, and its
  top-packages list is served from a fresh local copy so that it does not refresh it
  from GitHub: this machine may reach the package index only.

Every run gets TRUSTMAP_TOP_PACKAGES_URL at a 127.0.0.1 port nobody listens on.
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

from labenv import PYPI_SIMPLE, WORK, _pip_environment, enrichment_at, ensure_labenv, site_packages

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
TRUSTMAP = BIN / "trustmap"
PEERS = WORK / "peers"
PINS = HERE / "labenv.txt"
PEER_VERSIONS = {"pip-audit": "2.10.1", "cyclonedx-bom": "7.5.0", "guarddog": "3.2.0"}
SBOM_TARGET = 0.2
GUARDDOG_TIMEOUT = 600.0
# guarddog rules that reach hosts other than the package index.
GUARDDOG_OFF_INDEX_RULES = (
    "potentially_compromised_email_domain",  # WHOIS
    "unclaimed_maintainer_email_domain",  # WHOIS
    "repository_integrity_mismatch",  # GETs the project's home page
)


def ensure_peer(name: str) -> tuple[Path | None, str]:
    """The peer's venv bin folder, or None and why it did not install."""
    venv = PEERS / name
    stamp = venv / ".installed"
    wanted = f"{name}=={PEER_VERSIONS[name]}"
    if stamp.is_file() and stamp.read_text().strip() == wanted:
        return venv / "bin", ""
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--index-url", PYPI_SIMPLE, wanted],
        env=_pip_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return None, (done.stderr.strip().splitlines() or ["pip failed"])[-1][:300]
    stamp.write_text(wanted + "\n")
    return venv / "bin", ""


def timed(command: list[str], env: dict[str, str], timeout: float | None = None) -> dict:
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"wall_s": time.perf_counter() - start, "rc": None, "stdout": "", "stderr": ""}
    return {
        "wall_s": time.perf_counter() - start,
        "rc": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
    }


def base_environment(usage_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["TRUSTMAP_TOP_PACKAGES_URL"] = usage_url
    env.update(enrichment_at(usage_url.rsplit("/", 1)[0]))  # unreachable, as behind a mirror
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return env


def trustmap_scan(labenv: Path, cache: Path, fmt: str, out: Path, env: dict) -> dict:
    env = {**env, "TRUSTMAP_CACHE_DIR": str(cache)}
    command = [str(TRUSTMAP), "scan", str(labenv), "-f", fmt, "-o", str(out),
               "--index-url", PYPI_SIMPLE]  # fmt: skip
    result = timed(command, env)
    if result["rc"] not in (0, 1, 3):  # 1 and 3 are verdicts, not failures
        raise SystemExit(f"trustmap scan failed ({result['rc']}): {result['stderr'][-2000:]}")
    return result


def pip_audit(bin_dir: Path, labenv: Path, cache: Path, env: dict) -> dict:
    command = [str(bin_dir / "pip-audit"), "--path", str(site_packages(labenv)),
               "--vulnerability-service", "pypi", "--cache-dir", str(cache), "-f", "json",
               "--progress-spinner", "off"]  # fmt: skip
    result = timed(command, env)
    if result["rc"] not in (0, 1):  # 1: vulnerabilities found
        raise SystemExit(f"pip-audit failed ({result['rc']}): {result['stderr'][-1000:]}")
    try:
        document = json.loads(result["stdout"])
        dependencies = document.get("dependencies", [])
    except ValueError:
        dependencies = []
    skipped = [d for d in dependencies if d.get("skip_reason")]
    result["audited"] = len(dependencies) - len(skipped)
    result["skipped"] = len(skipped)
    # "Dependency not found on PyPI and could not be audited: NAME (VERSION)": by kind.
    result["skip_reasons"] = sorted({d["skip_reason"].split(":")[0] for d in skipped})
    result["says"] = result["stderr"].strip().splitlines()[-1:] or [""]
    return result


def cyclonedx(bin_dir: Path, mode: str, labenv: Path, out: Path, env: dict) -> dict:
    source = str(labenv / "bin" / "python") if mode == "environment" else str(PINS)
    command = [str(bin_dir / "cyclonedx-py"), mode, source, "-o", str(out)]
    result = timed(command, env)
    if result["rc"] != 0:
        raise SystemExit(f"cyclonedx-py {mode} failed: {result['stderr'][-2000:]}")
    result["components"] = len(json.loads(out.read_text()).get("components", []))
    return result


def guarddog(bin_dir: Path, env: dict) -> dict:
    resources = WORK / "guarddog-resources"
    _fresh_guarddog_resources(bin_dir, resources)
    env = {**env, "GUARDDOG_TOP_PACKAGES_CACHE_LOCATION": str(resources)}
    requirements = WORK / "guarddog-requirements.txt"
    requirements.write_text("".join(f"{line}\n" for line in _pins()))
    command = [str(bin_dir / "guarddog"), "pypi", "verify", str(requirements),
               "--output-format", "json"]  # fmt: skip
    for rule in GUARDDOG_OFF_INDEX_RULES:
        command += ["--exclude-rules", rule]
    result = timed(command, env, timeout=GUARDDOG_TIMEOUT)
    try:
        rows = json.loads(result["stdout"])
    except ValueError:
        rows = []
    errors = [r for r in rows if (r.get("result") or {}).get("errors")]
    result["packages"] = len(rows)
    result["with_errors"] = len(errors)
    reasons: dict[str, list] = {}  # error kind -> [count, first message]
    for row in errors:
        for key, message in row["result"]["errors"].items():
            reasons.setdefault(key, [0, message[:70]])[0] += 1
    result["error_kinds"] = reasons
    return result


def _fresh_guarddog_resources(bin_dir: Path, target: Path) -> None:
    """guarddog's bundled top-packages lists, stamped as downloaded now, so that it does
    not try to refresh them from hosts outside the package index."""
    found = sorted(bin_dir.parent.glob("lib/python3*/site-packages/guarddog"))
    source = found[0] / "analyzer" / "metadata" / "resources"
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.suffix == ".json":
            document = json.loads(path.read_text())
            if isinstance(document, dict) and "downloaded_timestamp" in document:
                document["downloaded_timestamp"] = int(time.time())
            (target / path.name).write_text(json.dumps(document))
        elif path.is_file():
            shutil.copy(path, target / path.name)


def _pins() -> list[str]:
    return [line.strip() for line in PINS.read_text().splitlines() if "==" in line]


def main(rounds: int = 3) -> dict:
    load_before = os.getloadavg()
    labenv, _ = ensure_labenv()
    held = socket.socket()
    held.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    env = base_environment(f"http://127.0.0.1:{held.getsockname()[1]}/top-pypi-packages.json")
    peers = {name: ensure_peer(name) for name in PEER_VERSIONS}
    for name, (bin_dir, why) in peers.items():
        state = f"{name} {PEER_VERSIONS[name]}" if bin_dir else f"{name}: not installed: {why}"
        print(f"peer: {state}")
    out = Path(tempfile.mkdtemp(prefix="peers-", dir=WORK))
    keys = ["tm_cold", "tm_warm_sbom", "pip_audit", "cdx_env", "cdx_req"]
    wall: dict[str, list[float]] = {k: [] for k in keys}
    last: dict[str, dict] = {}
    warm_cache = out / "warm-cache"
    trustmap_scan(labenv, warm_cache, "json", out / "fill.json", env)  # fills it; not counted
    for round_no in range(rounds):
        steps = list(keys)
        if round_no % 2:
            steps.reverse()
        for step in steps:
            cache = Path(tempfile.mkdtemp(dir=out))
            if step == "tm_cold":
                result = trustmap_scan(labenv, cache, "json", out / "cold.json", env)
            elif step == "tm_warm_sbom":
                result = trustmap_scan(labenv, warm_cache, "cyclonedx-json", out / "tm.cdx", env)
            elif step == "pip_audit" and peers["pip-audit"][0]:
                result = pip_audit(peers["pip-audit"][0], labenv, cache, env)
            elif step.startswith("cdx_") and peers["cyclonedx-bom"][0]:
                mode = "environment" if step == "cdx_env" else "requirements"
                result = cyclonedx(peers["cyclonedx-bom"][0], mode, labenv, out / "p.cdx", env)
            else:
                continue
            shutil.rmtree(cache, ignore_errors=True)
            wall[step].append(result["wall_s"])
            last[step] = result
        print(
            f"round {round_no + 1}/{rounds}: "
            + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in wall.items() if v)
            + f" (load {os.getloadavg()[0]:.2f})"
        )
    gd = None
    if peers["guarddog"][0]:
        print(f"guarddog: one run over {len(_pins())} pins (timeout {GUARDDOG_TIMEOUT:.0f} s) ...")
        gd = guarddog(peers["guarddog"][0], env)
    held.close()
    medians = {k: statistics.median(v) for k, v in wall.items() if v}

    def ratio(a: str, b: str) -> float | None:
        return medians[a] / medians[b] if a in medians and b in medians else None

    print(f"\n{'wall clock, seconds (median of ' + str(rounds) + ')':<52}{'median':>8}{'min':>8}")
    labels = {
        "tm_cold": "trustmap scan, cold cache",
        "tm_warm_sbom": "trustmap scan -f cyclonedx-json, warm cache",
        "pip_audit": "pip-audit --vulnerability-service pypi, cold",
        "cdx_env": "cyclonedx-py environment",
        "cdx_req": "cyclonedx-py requirements",
    }
    for key, label in labels.items():
        if wall[key]:
            print(f"{label:<52}{medians[key]:>8.2f}{min(wall[key]):>8.2f}")
    if gd is not None:
        shown = "timed out" if gd["rc"] is None else f"exit {gd['rc']}"
        print(f"{'guarddog pypi verify (one run, ' + shown + ')':<52}{gd['wall_s']:>8.2f}")
    print()
    if "pip_audit" in last:
        pa = last["pip_audit"]
        print(
            f"pip-audit: {pa['audited']} audited, {pa['skipped']} skipped "
            f"({'; '.join(pa['skip_reasons']) or 'none'}); it says: {pa['says'][0]!r}"
        )
        r = ratio("tm_cold", "pip_audit")
        print(f"trustmap cold / pip-audit: {r:.2f}x (target < 1) {'ok' if r < 1 else 'NOT MET'}")
    for key, name in (("cdx_env", "environment"), ("cdx_req", "requirements")):
        r = ratio("tm_warm_sbom", key)
        if r is not None:
            verdict = "ok" if r <= SBOM_TARGET else "NOT MET"
            print(
                f"trustmap warm SBOM / cyclonedx-py {name} ({last[key]['components']} "
                f"components): {r:.2f}x (target <= {SBOM_TARGET}) {verdict}"
            )
    if gd is not None:
        r = medians["tm_cold"] / gd["wall_s"]
        print(
            f"guarddog: {gd['packages']} packages reported, {gd['with_errors']} with errors "
            f"{gd['error_kinds']}"
        )
        print(f"trustmap cold / guarddog: {r:.3f}x (target < 1) {'ok' if r < 1 else 'NOT MET'}")
    elif not peers["guarddog"][0]:
        print(f"guarddog did not install: {peers['guarddog'][1]}")
    load_after = os.getloadavg()
    print(f"load average before/after: {load_before[0]:.2f}/{load_after[0]:.2f}")
    shutil.rmtree(out, ignore_errors=True)
    figures = {
        "medians_s": medians,
        "runs_s": wall,
        "guarddog": {k: v for k, v in (gd or {}).items() if k not in ("stdout", "stderr")},
        "pip_audit": {k: v for k, v in last.get("pip_audit", {}).items() if k != "stdout"},
        "load_average_before_after": [load_before[0], load_after[0]],
    }
    figures["pip_audit"].pop("stderr", None)
    (WORK / "peers.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return figures


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
