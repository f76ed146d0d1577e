"""The network floor: GET every URL listed in a file, concurrently, with bare httpx, and
read each body whole. Nothing else: no parsing, no cache, no retries.

    python benchmarks/floor.py URLS_FILE [--concurrency N] [--processes P] [--http1]

With --processes P the URLs are split over P forked processes, each with a client of its
own (as a cold trustmap scan splits its prefetch over workers), and the concurrency limit
applies per process: run.py gives each its share of 24, as a scan divides its own. run.py
tries several shapes (one process or several, HTTP/2 or HTTP/1.1) and takes the fastest
as the floor, so that the floor has the parallelism trustmap has.

Prints one JSON object: the time spent fetching (after the imports), the bytes read, and
the status codes and HTTP versions seen. run.py times the whole process from outside, so
that the floor and a trustmap scan are compared the same way (interpreter start-up
included in both).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
from collections import Counter

import httpx

from scanner.sources.http import resolve_each_host_once

USER_AGENT = "trustmap-benchmark-floor (network floor of trustmap's cold scan)"


async def fetch_all(urls: list[str], concurrency: int, http2: bool) -> dict:
    semaphore = asyncio.Semaphore(concurrency)
    statuses: Counter[str] = Counter()
    versions: Counter[str] = Counter()
    total = 0

    # The same client settings as scanner/sources/http.py.
    async with httpx.AsyncClient(
        http2=http2,
        timeout=httpx.Timeout(30.0, connect=10.0),
        limits=httpx.Limits(max_connections=concurrency),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
    ) as client:
        # Each host looked up once, as trustmap does (this machine's resolver drops
        # bursts of lookups: without it, 48 connections wait 5 s for some of theirs).
        resolve_each_host_once(client)

        async def one(url: str) -> None:
            nonlocal total
            async with semaphore:
                headers = {"Accept": "application/json"}
                async with client.stream("GET", url, headers=headers) as response:
                    async for chunk in response.aiter_bytes():
                        total += len(chunk)
                    statuses[str(response.status_code)] += 1
                    versions[response.http_version] += 1

        await asyncio.gather(*(one(url) for url in urls))
    return {"bytes": total, "statuses": dict(statuses), "http_versions": dict(versions)}


def _in_process(job: tuple[list[str], int, bool]) -> dict:
    return asyncio.run(fetch_all(*job))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls_file")
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--http1", action="store_true")
    args = parser.parse_args()
    urls = [u for u in open(args.urls_file, encoding="utf-8").read().split() if u]
    http2 = not args.http1
    start = time.perf_counter()
    if args.processes <= 1:
        parts = [_in_process((urls, args.concurrency, http2))]
    else:
        jobs = [(urls[i :: args.processes], args.concurrency, http2) for i in range(args.processes)]
        with multiprocessing.get_context("fork").Pool(args.processes) as pool:
            parts = pool.map(_in_process, jobs)
    elapsed = time.perf_counter() - start
    statuses: Counter[str] = Counter()
    versions: Counter[str] = Counter()
    for part in parts:
        statuses.update(part["statuses"])
        versions.update(part["http_versions"])
    print(
        json.dumps(
            {
                "fetch_s": elapsed,
                "requests": len(urls),
                "bytes": sum(p["bytes"] for p in parts),
                "statuses": dict(statuses),
                "http_versions": dict(versions),
            }
        )
    )


if __name__ == "__main__":
    main()
