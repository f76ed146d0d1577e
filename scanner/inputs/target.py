"""The environment that declared requirements are resolved for: a Python version and a
platform, given on the command line or taken from the machine trustmap runs on."""

from __future__ import annotations

import sys

from scanner.inputs.markers import PLATFORMS, marker_environment, named_platform, this_platform
from scanner.model import InputError, TargetEnvironment


def target_environment(
    python_version: str | None = None, platform: str | None = None, all_platforms: bool = False
) -> TargetEnvironment:
    notes = []
    if python_version is None:
        # X.Y.Z: a requires-python such as ">=3.11.5" is judged as for this very Python.
        python_version = ".".join(map(str, sys.version_info[:3]))
        notes.append(f"Python {python_version}: the Python trustmap runs on (--python-version)")
    parts = python_version.split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise InputError(f"--python-version {python_version!r}: expected X.Y, such as 3.11")
    short = ".".join(parts[:2])
    if platform is None:
        platform = this_platform()
        notes.append(f"platform {platform}: the machine trustmap runs on (--platform)")
    if platform not in PLATFORMS:
        raise InputError(f"--platform {platform!r}: expected one of {', '.join(PLATFORMS)}")

    def markers(name: str) -> dict[str, str]:
        return marker_environment(python_version, named_platform(name))

    alternatives = tuple(markers(name) for name in PLATFORMS) if all_platforms else ()
    description = f"Python {short} on {'every platform' if all_platforms else platform}"
    if all_platforms:
        notes.append("all platforms: a requirement counts when its marker holds on any of them")
    return TargetEnvironment(
        markers=markers(platform), description=description, notes=tuple(notes),
        alternatives=alternatives,
    )  # fmt: skip
