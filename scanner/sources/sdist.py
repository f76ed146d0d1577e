"""The dependencies of a release that has only an sdist, read from the sdist's own
metadata without building it: `PKG-INFO`'s `Requires-Dist` where Metadata 2.2+ says it is
static, else setuptools' `*.egg-info/requires.txt`.

The archive is hostile input. It is never extracted to disk and nothing in it is run; a
.tar.gz is decompressed as a stream with caps on the bytes read (compressed and
unpacked), and reading stops as soon as the files needed are found. Members that are
links, absurdly large, or named with path tricks are skipped.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

MAX_COMPRESSED_BYTES = 32 * 1024 * 1024
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_MEMBER_BYTES = 4 * 1024 * 1024  # PKG-INFO or requires.txt larger than this is skipped
MAX_MEMBERS = 50_000
MAX_REQUIREMENTS = 500
_STATIC_SINCE = Version("2.2")  # PEP 643: fields not marked Dynamic are what wheels get
_EXTRA_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


class SdistUnreadable(ValueError):
    """The archive could not be read far enough (too large, corrupt, a bomb)."""


@dataclass
class SdistFiles:
    """What was found in an sdist: the raw bytes of the two files that matter."""

    pkg_info: bytes | None = None
    requires_txt: bytes | None = None
    requires_txt_name: str = ""
    egg_info_seen: bool = False  # the project's .egg-info folder has its PKG-INFO
    complete: bool = False  # every member was seen (the end of the archive was reached)
    skipped: tuple[str, ...] = ()  # members that looked wanted but were refused, and why


def member_role(name: str, project: str) -> str | None:
    """What a member is to us: "pkg-info" (the sdist's top-level PKG-INFO), "requires"
    (the project's egg-info requires.txt), "egg-info" (its egg-info PKG-INFO), or None.
    Names with path tricks match nothing."""
    if name.startswith("./"):
        name = name[2:]
    if name.startswith("/") or "\\" in name or "\x00" in name:
        return None
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    if len(parts) == 2 and parts[1] == "PKG-INFO":
        return "pkg-info"
    # <top>/<name>.egg-info/<file>, or the same under <top>/src/
    if len(parts) == 3 or (len(parts) == 4 and parts[1] == "src"):
        folder = parts[-2]
        if folder.endswith(".egg-info") and canonicalize_name(folder[:-9]) == project:
            if parts[-1] == "requires.txt":
                return "requires"
            if parts[-1] == "PKG-INFO":
                return "egg-info"
    return None


def has_static_requires(pkg_info: bytes | None) -> bool:
    """Metadata 2.2+ and Requires-Dist not marked Dynamic: PKG-INFO alone is enough."""
    if pkg_info is None:
        return False
    fields = _headers(pkg_info)
    version = _metadata_version(fields)
    dynamic = {str(d).strip().lower() for d in fields.get("dynamic", [])}
    return version is not None and version >= _STATIC_SINCE and "requires-dist" not in dynamic


def read_tar_gz(next_chunk: Callable[[], bytes], project: str) -> SdistFiles:
    """Walk a .tar.gz sdist given as a stream of compressed chunks (b"" at the end),
    stopping once PKG-INFO (and requires.txt, unless PKG-INFO's dependencies are static)
    are found. Raises SdistUnreadable when a cap is reached first or the archive is
    damaged."""
    import tarfile  # here: a warm scan reads no sdist, and tarfile is slow to import

    project = canonicalize_name(project)
    found = SdistFiles()
    skipped: list[str] = []
    stream = _GzipStream(next_chunk)
    try:
        archive = tarfile.open(fileobj=stream, mode="r|", tarinfo=_bounded_tar_info())
    except tarfile.TarError as exc:
        raise SdistUnreadable(f"not a tar archive ({exc})") from None
    try:
        seen = 0
        while True:
            try:
                member = archive.next()
            except tarfile.TarError as exc:
                raise SdistUnreadable(f"damaged tar archive ({exc})") from None
            if member is None:
                found.complete = True
                break
            seen += 1
            if seen > MAX_MEMBERS:
                raise SdistUnreadable(f"more than {MAX_MEMBERS} members")
            # The stream is read once, forwards: the list of members is not needed.
            archive.members.clear()
            role = member_role(member.name, project)
            if role is None:
                continue
            if role == "egg-info":
                found.egg_info_seen = True
                continue
            if not member.isreg():
                skipped.append(f"{member.name} (not a regular file)")
                continue
            if member.size > MAX_MEMBER_BYTES:
                skipped.append(f"{member.name} ({member.size} bytes)")
                continue
            handle = archive.extractfile(member)
            if handle is None:
                continue
            data = handle.read(MAX_MEMBER_BYTES + 1)
            if role == "pkg-info" and found.pkg_info is None:
                found.pkg_info = data
            elif role == "requires" and found.requires_txt is None:
                found.requires_txt, found.requires_txt_name = data, member.name
            if found.pkg_info is not None and (
                found.requires_txt is not None or has_static_requires(found.pkg_info)
            ):
                break
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise SdistUnreadable(f"damaged archive ({type(exc).__name__}: {exc})") from None
    finally:
        found.skipped = tuple(skipped)
        archive.close()
    return found


@functools.cache
def _bounded_tar_info() -> Any:
    """A TarInfo that refuses long-name and pax headers of absurd size before tarfile
    reads them whole into memory (member data, by contrast, is skipped as a stream)."""
    import tarfile

    name_header_types = (
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
    )

    class BoundedTarInfo(tarfile.TarInfo):
        def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
            if self.type in name_header_types and self.size > MAX_MEMBER_BYTES:
                raise SdistUnreadable(f"a {self.size}-byte tar header")
            return super()._proc_member(tarfile_)

    return BoundedTarInfo


class _GzipStream:
    """A read-only file over gzip-compressed chunks, decompressed as they are read, with
    caps on both sides: a gzip bomb or a huge sdist stops here, never in memory."""

    def __init__(self, next_chunk: Callable[[], bytes]) -> None:
        self._next_chunk = next_chunk
        self._decompressor = zlib.decompressobj(wbits=31)
        self._pending = b""  # compressed input not yet decompressed
        self._compressed = 0
        self._unpacked = 0
        self._ended = False

    def read(self, size: int = -1) -> bytes:
        wanted = size if size is not None and size >= 0 else MAX_MEMBER_BYTES
        out: list[bytes] = []
        have = 0
        while have < wanted and not self._ended:
            if not self._pending and not self._decompressor.unconsumed_tail:
                chunk = self._next_chunk()
                if not chunk:
                    self._ended = True
                    break
                self._compressed += len(chunk)
                if self._compressed > MAX_COMPRESSED_BYTES:
                    raise SdistUnreadable(
                        f"no metadata within the first {MAX_COMPRESSED_BYTES // 2**20} MiB"
                    )
                self._pending = chunk
            data = self._decompressor.unconsumed_tail + self._pending
            self._pending = b""
            # max_length bounds what one call may expand to (a bomb expands ~1000x).
            piece = self._decompressor.decompress(data, min(wanted - have, 1024 * 1024))
            if self._decompressor.eof:
                # A gzip file may hold several members one after another.
                rest = self._decompressor.unused_data
                self._decompressor = zlib.decompressobj(wbits=31)
                self._pending = rest
            self._unpacked += len(piece)
            if self._unpacked > MAX_UNPACKED_BYTES:
                raise SdistUnreadable(
                    f"no metadata within the first {MAX_UNPACKED_BYTES // 2**20} MiB unpacked"
                )
            out.append(piece)
            have += len(piece)
        return b"".join(out)


def dependencies(files: SdistFiles, filename: str) -> dict:
    """What the sdist says its dependencies are: {"requires_dist", "requires_python",
    "source"}, or {"unknown": why} when it does not say in a way that can be trusted."""
    fields = _headers(files.pkg_info) if files.pkg_info is not None else {}
    requires_python = str(fields.get("requires_python") or "")[:200]
    version = _metadata_version(fields)
    label = f"Metadata-Version {fields.get('metadata_version', '?')}"
    if has_static_requires(files.pkg_info):
        return _known(
            fields.get("requires_dist", []),
            requires_python,
            f"PKG-INFO of {filename} ({label}, Requires-Dist static)",
        )
    if files.requires_txt is not None:
        inner = files.requires_txt_name.partition("/")[2]
        return _known(
            requires_txt_to_pep508(files.requires_txt.decode("utf-8", "replace")),
            requires_python,
            f"{inner} inside {filename}",
        )
    dynamic = {str(d).strip().lower() for d in fields.get("dynamic", [])}
    if files.pkg_info is not None and "requires-dist" in dynamic:
        return {
            "unknown": f"{filename} marks Requires-Dist as Dynamic (only a build would say) "
            "and has no egg-info requires.txt"
        }
    if fields.get("requires_dist") and (version is None or version < _STATIC_SINCE):
        # Before Metadata 2.2 nothing promised these match a built wheel, yet tools that
        # wrote them (flit, poetry) take them from static pyproject.toml data.
        return _known(
            fields["requires_dist"],
            requires_python,
            f"PKG-INFO of {filename} ({label}, not guaranteed static)",
        )
    if files.egg_info_seen and files.complete:
        # setuptools writes requires.txt only when there are requirements.
        return _known(
            [], requires_python, f"the egg-info inside {filename} (no requires.txt: none)"
        )
    if files.pkg_info is None:
        why = f"{filename} has no readable top-level PKG-INFO and no egg-info requires.txt"
    else:
        why = (
            f"{filename} has no egg-info requires.txt, and its PKG-INFO ({label}) states "
            "no static Requires-Dist"
        )
    if files.skipped:
        why += f" (skipped: {', '.join(files.skipped)[:300]})"
    return {"unknown": why}


def requires_txt_to_pep508(text: str) -> list[str]:
    """setuptools' requires.txt as Requires-Dist lines: `[extra]`, `[:marker]` and
    `[extra:marker]` sections become markers. A line that cannot be made valid is kept
    as it is, so that the resolver reports it as bad metadata rather than lose it."""
    lines: list[str] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        lines.append(_with_section(line, section)[:500])
        if len(lines) >= MAX_REQUIREMENTS:
            break
    return lines


def _with_section(line: str, section: str) -> str:
    extra, _, marker = section.partition(":")
    extra, marker = extra.strip(), marker.strip()
    try:
        requirement = Requirement(line)
    except InvalidRequirement:
        return line
    if extra and not _EXTRA_NAME.match(extra):
        return f"{line} ; [{section}]"  # never valid: reported, not guessed at
    conditions = [f"({m})" for m in (requirement.marker, marker) if m]
    if extra:
        conditions.append(f'extra == "{extra}"')
    requirement.marker = None
    combined = str(requirement) + (f"; {' and '.join(conditions)}" if conditions else "")
    try:
        Requirement(combined)
    except InvalidRequirement:
        return f"{line} ; [{section}]"
    return combined


def _known(requires: list, requires_python: str, source: str) -> dict:
    return {
        "requires_dist": [str(r)[:500] for r in requires][:MAX_REQUIREMENTS],
        "requires_python": requires_python,
        "source": source,
    }


def _headers(pkg_info: bytes) -> dict:
    from packaging.metadata import parse_email  # an sdist's only: slow to import

    text = pkg_info[:MAX_MEMBER_BYTES].replace(b"\r\n", b"\n")
    parsed, _ = parse_email(text.partition(b"\n\n")[0])
    return parsed


def _metadata_version(fields: dict) -> Version | None:
    try:
        return Version(str(fields.get("metadata_version", "")))
    except InvalidVersion:
        return None
