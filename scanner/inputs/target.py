"""The environment that declared requirements are resolved for: a Python version and a
platform, given on the command line or taken from the machine trustmap runs on."""

from __future__ import annotations

import platform as platform_module
import sys

from scanner.model import InputError, TargetEnvironment

PLATFORMS = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
              "platform_machine": "x86_64"},
    "macos": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
              "platform_machine": "arm64"},
    "windows": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                "platform_machine": "AMD64"},
}  # fmt: skip


def _this_platform() -> str:
    return {"darwin": "macos", "win32": "windows"}.get(sys.platform, "linux")


def target_environment(
    python_version: str | None = None, platform: str | None = None, all_platforms: bool = False
) -> TargetEnvironment:
    notes = []
    if python_version is None:
        python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
        notes.append(f"Python {python_version}: the Python trustmap runs on (--python-version)")
    parts = python_version.split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise InputError(f"--python-version {python_version!r}: expected X.Y, such as 3.11")
    short = ".".join(parts[:2])
    full = python_version if len(parts) == 3 else f"{short}.0"
    if platform is None:
        platform = _this_platform()
        notes.append(f"platform {platform}: the machine trustmap runs on (--platform)")
    if platform not in PLATFORMS:
        raise InputError(f"--platform {platform!r}: expected one of {', '.join(PLATFORMS)}")

    def markers(name: str) -> dict[str, str]:
        system = dict(PLATFORMS[name])
        if name == _this_platform():
            system["platform_machine"] = platform_module.machine() or system["platform_machine"]
        return {
            "python_version": short,
            "python_full_version": full,
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "implementation_version": full,
            "platform_release": "",
            "platform_version": "",
            **system,
        }

    alternatives = tuple(markers(name) for name in PLATFORMS) if all_platforms else ()
    description = f"Python {short} on {'every platform' if all_platforms else platform}"
    if all_platforms:
        notes.append("all platforms: a requirement counts when its marker holds on any of them")
    return TargetEnvironment(
        markers=markers(platform), description=description, notes=tuple(notes),
        alternatives=alternatives,
    )  # fmt: skip
