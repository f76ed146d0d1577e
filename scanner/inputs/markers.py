"""PEP 508 marker environments: the values markers are evaluated against.

One place builds them, for a target given on the command line (`target.py`), for an
installed environment (`environment.py`), and one place evaluates a marker for a target,
on each of its platforms in the all-platforms mode (lockfile readers and `resolve.py`).
"""

from __future__ import annotations

import platform as platform_module
import sys
from collections.abc import Iterable, Mapping

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

from scanner.model import TargetEnvironment

# The platforms a target may name (--platform), with a typical machine for each.
PLATFORMS = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
              "platform_machine": "x86_64"},
    "macos": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
              "platform_machine": "arm64"},
    "windows": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                "platform_machine": "AMD64"},
}  # fmt: skip


def this_platform() -> str:
    """The name in PLATFORMS of the machine trustmap runs on."""
    return {"darwin": "macos", "win32": "windows"}.get(sys.platform, "linux")


def named_platform(name: str) -> dict[str, str]:
    """The platform values of one of PLATFORMS; this machine's own architecture when it
    is the platform trustmap runs on."""
    values = dict(PLATFORMS[name])
    if name == this_platform():
        values["platform_machine"] = platform_module.machine() or values["platform_machine"]
    return values


def host_platform(windows: bool) -> dict[str, str]:
    """The platform values of an installed environment: Windows when its layout says so,
    else the POSIX system trustmap runs on (Linux when trustmap itself runs on Windows)."""
    if windows:
        system = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"}
    else:
        system = {
            "sys_platform": sys.platform if sys.platform != "win32" else "linux",
            "platform_system": platform_module.system() if sys.platform != "win32" else "Linux",
            "os_name": "posix",
        }
    return {**system, "platform_machine": platform_module.machine()}


def marker_environment(
    python_version: str, platform_values: Mapping[str, str], implementation: str = "cpython"
) -> dict[str, str]:
    """The PEP 508 marker environment for a Python (X.Y or X.Y.Z; X.Y means X.Y.0) of an
    implementation ("cpython" or "pypy") on a platform (sys_platform, platform_system,
    os_name, platform_machine). What no input says (the OS release) is left empty."""
    parts = python_version.split(".")
    short = ".".join(parts[:2])
    full = python_version if len(parts) >= 3 else f"{short}.0"
    return {
        "python_version": short,
        "python_full_version": full,
        "implementation_name": implementation,
        "platform_python_implementation": "PyPy" if implementation == "pypy" else "CPython",
        "implementation_version": full,
        "platform_release": "",
        "platform_version": "",
        **platform_values,
    }


def marker_holds(
    marker: Marker,
    target: TargetEnvironment,
    extras: Iterable[str] = ("",),
    more: Mapping[str, object] | None = None,
    context: str = "metadata",
) -> bool:
    """Whether `marker` holds for the target (for any of its platforms in the
    all-platforms mode) with `extra` set to one of `extras`; `more` adds values such as
    PEP 751's `extras` and `dependency_groups`. A comparison the marker cannot make
    (an undefined name, a non-version compared as one) counts as not holding there."""
    extras = tuple(extras)
    for environment in target.alternatives or (target.markers,):
        for extra in extras:
            values = {**environment, **(more or {}), "extra": extra}
            try:
                if marker.evaluate(values, context=context):  # type: ignore[arg-type]
                    return True
            except (UndefinedComparison, UndefinedEnvironmentName, InvalidMarker):
                continue
    return False
