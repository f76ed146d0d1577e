"""Record real simple-API pages (PEP 691 JSON) and PEP 658 metadata files from the live
index into fixtures/index/, for the resolver's offline tests.

    python tests/tools/record_index.py requests==2.32.3 rich==13.9.4 ...

Each NAME==VERSION records NAME's simple page and the `.metadata` of VERSION's first
wheel; pages are stored gzip-compressed and unchanged.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import httpx

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "index"
INDEX = "https://pypi.org/simple"


def record(spec: str, client: httpx.Client) -> None:
    name, _, version = spec.partition("==")
    page = client.get(f"{INDEX}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    page.raise_for_status()
    (FIXTURES / "simple").mkdir(parents=True, exist_ok=True)
    with (FIXTURES / "simple" / f"{name}.json.gz").open("wb") as out:
        with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as fh:
            fh.write(page.content)
    files = json.loads(page.content)["files"]
    wheels = [
        f for f in files if f["filename"].endswith(".whl") and f"-{version}-" in f["filename"]
    ]
    if not wheels:
        print(f"{name} {version}: no wheel", file=sys.stderr)
        return
    # The file the scanner reads metadata from: a pure-Python wheel first, then by name.
    wheel = min(wheels, key=lambda f: ("-none-any" not in f["filename"], f["filename"]))
    metadata = client.get(wheel["url"] + ".metadata")
    if metadata.status_code == 404:
        # The index serves no PEP 658 file for it: keep the (small) wheel itself, so the
        # tests can read its METADATA by range requests as the scanner does.
        body = client.get(wheel["url"])
        body.raise_for_status()
        (FIXTURES / "files").mkdir(parents=True, exist_ok=True)
        (FIXTURES / "files" / wheel["filename"]).write_bytes(body.content)
        return
    metadata.raise_for_status()
    (FIXTURES / "metadata").mkdir(parents=True, exist_ok=True)
    (FIXTURES / "metadata" / f"{wheel['filename']}.metadata").write_bytes(metadata.content)


def main() -> None:
    with httpx.Client(timeout=30) as client:
        for spec in sys.argv[1:]:
            record(spec, client)


if __name__ == "__main__":
    main()
