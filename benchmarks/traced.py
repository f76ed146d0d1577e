"""Run a command of trustmap's with every HTTP request it sends written to a log, to learn
which documents a scan fetches (the network floor fetches the same) and to count the
requests independently of trustmap's own `requests sent` note.

    python benchmarks/traced.py LOG -m scanner.cli scan ...   (trustmap's CLI)
    python benchmarks/traced.py LOG -c CODE ARGS...           (a snippet)

httpx.AsyncClient.send is wrapped before trustmap imports httpx; forked workers inherit
the wrapper. Each request is one line `METHOD STATUS URL`, appended with one write(2) on
a file opened O_APPEND, so lines from several processes do not interleave.
"""

from __future__ import annotations

import os
import runpy
import sys

import httpx


def _install(log_path: str) -> None:
    original = httpx.AsyncClient.send

    async def send(self, request, *args, **kwargs):
        status = "ERR"
        try:
            response = await original(self, request, *args, **kwargs)
            status = str(response.status_code)
            return response
        finally:
            line = f"{request.method} {status} {request.url}\n".encode()
            descriptor = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line)
            finally:
                os.close(descriptor)

    httpx.AsyncClient.send = send


def read_log(log_path: str) -> list[tuple[str, str, str]]:
    """(method, status, URL) of every request logged."""
    rows = []
    with open(log_path, encoding="utf-8") as handle:
        for line in handle:
            method, status, url = line.rstrip("\n").split(" ", 2)
            rows.append((method, status, url))
    return rows


def main() -> None:
    log_path, mode, target, *rest = sys.argv[1:]
    _install(log_path)
    if mode == "-m":
        sys.argv = [target, *rest]
        if target == "scanner.cli":
            from scanner.cli import entry

            sys.exit(entry())
        runpy.run_module(target, run_name="__main__")
    elif mode == "-c":
        sys.argv = ["-c", *rest]
        exec(compile(target, "<traced>", "exec"), {"__name__": "__main__"})  # noqa: S102
    else:
        raise SystemExit(f"traced.py: unknown mode {mode}")


if __name__ == "__main__":
    main()
