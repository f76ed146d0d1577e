"""The part of a PyPI project document (`/pypi/<name>/json`) that the extraction
(scanner.sources.pypi.project_of) reads, as msgspec Structs: decoding builds these fields
only and skips the rest unbuilt (file URLs, sizes, other digests: most of the bytes).
Structs, not dicts: building them is about half the decoding time of a dict shape, since
they are not tracked by the cyclic garbage collector, whose passes over the documents'
millions of small dicts were most of that time. A field added to the extraction is
added here too.

Imported only where documents are decoded: msgspec takes a tenth of a second to import,
which a warm scan never pays.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Digests(msgspec.Struct, gc=False):
    sha256: Any = None


class File(msgspec.Struct, gc=False):
    filename: Any = None
    digests: Digests | None = None
    packagetype: Any = None
    upload_time: Any = None
    upload_time_iso_8601: Any = None
    yanked: Any = None
    yanked_reason: Any = None


class Info(msgspec.Struct, gc=False):
    name: Any = ""  # as `.get("name", "")` gave: "" when absent, None when null
    summary: Any = None
    license: Any = None
    license_expression: Any = None
    classifiers: Any = None
    home_page: Any = None
    project_urls: Any = None
    version: Any = None
    yanked: Any = None


class ProjectDocument(msgspec.Struct, gc=False):
    info: Info
    releases: dict[str, list[File]] | None = None
    urls: list[File] | None = None
    ownership: Any = None
    vulnerabilities: Any = None


def as_document(document: Any) -> ProjectDocument:
    """A document decoded whole (a dict, as json gives it) in the Struct shape; ValueError
    when it does not fit (info missing or no object, a file entry that is no object).
    A release whose value is no list is left out, as the extraction always has."""
    if isinstance(document, ProjectDocument):
        return document
    if isinstance(document, dict) and isinstance(document.get("releases"), dict):
        releases = {k: v for k, v in document["releases"].items() if isinstance(v, list)}
        document = {**document, "releases": releases}
    try:
        return msgspec.convert(document, ProjectDocument)
    except msgspec.ValidationError as exc:
        raise ValueError(f"unexpected project document: {exc}") from None
