"""The network floor: GET every URL listed in a file, concurrently, over one httpx
AsyncClient with HTTP/2 and the same concurrency limit trustmap uses, and read each body
whole. Nothing else: no parsing, no cache, no retries.

    python benchmarks/floor.py URLS_FILE [CONCURRENCY]

Prints one JSON object: the time spent fetching (after the imports), the bytes read, and
the status codes and HTTP versions seen. run.py times the whole process from outside, so
that the floor and a trustmap scan are compared the same way (interpreter start-up
included in both).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import httpx

# The same client settings as scanner/sources/http.py.
USER_AGENT = "trustmap-benchmark-floor (network floor of trustmap's cold scan)"


async def fetch_all(urls: list[str], concurrency: int) -> dict:
    semaphore = asyncio.Semaphore(concurrency)
    statuses: Counter[str] = Counter()
    versions: Counter[str] = Counter()
    total = 0

    async with httpx.AsyncClient(
        http2=True,
        timeout=httpx.Timeout(30.0, connect=10.0),
        limits=httpx.Limits(max_connections=concurrency),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
    ) as client:

        async def one(url: str) -> None:
            nonlocal total
            async with semaphore:
                headers = {"Accept": "application/json"}
                async with client.stream("GET", url, headers=headers) as response:
                    async for chunk in response.aiter_bytes():
                        total += len(chunk)
                    statuses[str(response.status_code)] += 1
                    versions[response.http_version] += 1

        start = time.perf_counter()
        await asyncio.gather(*(one(url) for url in urls))
        elapsed = time.perf_counter() - start
    return {
        "fetch_s": elapsed,
        "requests": len(urls),
        "bytes": total,
        "statuses": dict(statuses),
        "http_versions": dict(versions),
    }


def main() -> None:
    urls = [u for u in open(sys.argv[1], encoding="utf-8").read().split() if u]
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    print(json.dumps(asyncio.run(fetch_all(urls, concurrency))))


if __name__ == "__main__":
    main()
