"""Project configuration: the file found, read and its settings typed. Nothing here
knows the stages; scanner.configured checks the settings against them (rule ids and
params, the policy) and builds the scan options.

Where it is read from, first found wins (files are not merged):
  1. `--config FILE` (a pyproject.toml is read for its `[tool.trustmap]` table; any other
     file is read whole, as a trustmap.toml);
  2. `./trustmap.toml`;
  3. `[tool.trustmap]` in `./pyproject.toml` (a pyproject.toml without that table is no
     configuration).

Keys (in trustmap.toml at the top level; in pyproject.toml under `[tool.trustmap]`):

    index-url = "https://mirror.example/simple"    # --index-url wins over it
    internal-packages = ["acme-*", "lab-tools"]    # glob patterns of internal names
    request-timeout = 30                           # seconds per request, body included
    scan-timeout = 600                             # seconds of network work per scan
    other-indexes = true                           # ask indexes a lockfile names
    sources = { osv = false, github = "https://ghe.example/api/v3" }  # off, or a base URL
    rules = ["policy/rules"]                       # extra rule folders, or as a table:

    [tool.trustmap.rules]
    folders = ["policy/rules"]                     # relative to the config file
    [tool.trustmap.rules.low-usage]
    enabled = false
    [tool.trustmap.rules.solo-maintainer]
    severity = "low"
    params = { ... }

(TOML cannot hold `rules` as both a list and a table, hence `folders` in the table form.)
Anything else, or a value of the wrong type, is rejected with one line naming the file and
the key. `--rules DIR` adds folders after the configured ones; a later rule file with the
same id replaces an earlier one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scanner.endpoints import PUBLIC_URLS
from scanner.model import SEVERITIES, InputError
from scanner.urls import index_url_problem, without_credentials

CONFIG_FILE = "trustmap.toml"
PYPROJECT = "pyproject.toml"
KEYS = (
    "index-url",
    "internal-packages",
    "request-timeout",
    "scan-timeout",
    "other-indexes",
    "sources",
    "rules",
    "policy",
    "allowlist",
)
RULE_SETTINGS = ("enabled", "severity", "params")


class ConfigError(InputError):
    """The configuration file cannot be used as written (exit code 2)."""


@dataclass(frozen=True)
class Config:
    path: Path | None = None  # None: no configuration file was found
    rules_dirs: tuple[str, ...] = ()  # absolute, or relative to the working folder
    rule_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    internal_patterns: tuple[str, ...] = ()
    index_url: str | None = None
    request_timeout: float | None = None  # seconds; None: the default
    scan_timeout: float | None = None
    other_indexes: bool | None = None  # None: the default (asked)
    sources: Mapping[str, bool | str] = field(default_factory=dict)  # enrichment sources
    # The `policy` table as written (checked by `configured.gate_policy`, which knows the rules),
    # and the file's text, for the line numbers of its exceptions.
    policy_table: Any = None
    text: str = ""
    allowlist_path: Path | None = None  # `allowlist`, relative to the file


def find_config(explicit: str | Path | None = None, cwd: Path | None = None) -> Path | None:
    """The configuration file to read, by the precedence above; None when there is none."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: configuration file not found")
        return path
    folder = cwd or Path.cwd()
    if (folder / CONFIG_FILE).is_file():
        return folder / CONFIG_FILE
    pyproject = folder / PYPROJECT
    if pyproject.is_file() and _has_table(_read(pyproject)):
        return pyproject
    return None


def _has_table(pyproject: dict[str, Any]) -> bool:
    tool = pyproject.get("tool")
    return isinstance(tool, dict) and "trustmap" in tool


def holds_config(text: str, path: Path) -> bool:
    """Whether a pyproject.toml's `text` configures trustmap (has a [tool.trustmap]
    table): one without it is no configuration, as `find_config` reads the folder."""
    return _has_table(_parse_toml(text, path))


def load_config(explicit: str | Path | None = None, cwd: Path | None = None) -> Config:
    path = find_config(explicit, cwd)
    if path is None:
        return Config()
    return config_from_text(_text(path), path)


def config_from_text(text: str, path: Path) -> Config:
    """The configuration `text` holds, as if read from `path` (a baseline's configuration
    comes from `git show`, not from the file on disk)."""
    data = _parse_toml(text, path)
    if path.name == PYPROJECT:
        tool = data.get("tool")
        table = tool.get("trustmap") if isinstance(tool, dict) else None
        if table is None:
            raise ConfigError(f"{path}: no [tool.trustmap] table")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: tool.trustmap must be a table")
        return replace(parse_config(table, path, "tool.trustmap."), text=text)
    return replace(parse_config(data, path, ""), text=text)


def _read(path: Path) -> dict[str, Any]:
    return _parse_toml(_text(path), path)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def parse_config(data: Mapping[str, Any], path: Path, prefix: str = "") -> Config:
    """`data` (the trustmap table) checked key by key. `prefix` names the table in messages."""

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{path}: {prefix}{key}: {problem}")

    unknown = [key for key in data if key not in KEYS]
    if unknown:
        raise fail(unknown[0], f"unknown key (known keys: {', '.join(KEYS)})")
    base = path.resolve().parent

    index_url = data.get("index-url")
    if index_url is not None and (not isinstance(index_url, str) or not index_url.strip()):
        raise fail("index-url", f"must be a non-empty string, got {index_url!r}")
    if index_url is not None:
        index_url = index_url.strip()
        problem = index_url_problem(index_url)
        if problem:
            raise fail("index-url", f"{without_credentials(index_url)!r} {problem}")

    timeouts = {}
    for key in ("request-timeout", "scan-timeout"):
        value = data.get(key)
        if value is not None and not positive_seconds(value):
            raise fail(key, f"must be a number of seconds above 0, got {value!r}")
        timeouts[key] = float(value) if value is not None else None

    other_indexes = data.get("other-indexes")
    if other_indexes is not None and not isinstance(other_indexes, bool):
        raise fail("other-indexes", "must be true or false")

    sources = data.get("sources", {})
    if not isinstance(sources, dict):
        raise fail("sources", "must be a table of source = true, false or a base URL")
    for name, setting in sources.items():
        if name not in PUBLIC_URLS:
            raise fail(f"sources.{name}", f"unknown source (known: {', '.join(PUBLIC_URLS)})")
        if not isinstance(setting, bool) and not (
            isinstance(setting, str) and setting.startswith(("https://", "http://"))
        ):
            raise fail(f"sources.{name}", f"must be true, false or an http(s) URL, got {setting!r}")

    patterns = data.get("internal-packages", [])
    if not _is_string_list(patterns) or any(not p.strip() for p in patterns):
        raise fail("internal-packages", "must be a list of non-empty glob patterns")

    allowlist = data.get("allowlist")
    if allowlist is not None and (not isinstance(allowlist, str) or not allowlist.strip()):
        raise fail("allowlist", "must be the path of the allowlist file")

    folders: list[str] = []
    overrides: dict[str, dict[str, Any]] = {}
    rules = data.get("rules", [])
    if isinstance(rules, list):
        folders = _folders(rules, "rules", fail)
    elif isinstance(rules, dict):
        for rule_id, settings in rules.items():
            if rule_id == "folders":
                folders = _folders(settings, "rules.folders", fail)
                continue
            key = f"rules.{rule_id}"
            if not isinstance(settings, dict):
                raise fail(key, "must be a table of enabled, severity and params")
            for setting in settings:
                if setting not in RULE_SETTINGS:
                    raise fail(
                        f"{key}.{setting}", f"unknown setting (known: {', '.join(RULE_SETTINGS)})"
                    )
            if "enabled" in settings and not isinstance(settings["enabled"], bool):
                raise fail(f"{key}.enabled", "must be true or false")
            if "severity" in settings and settings["severity"] not in SEVERITIES:
                raise fail(f"{key}.severity", f"must be one of {', '.join(SEVERITIES)}")
            if "params" in settings and not isinstance(settings["params"], dict):
                raise fail(f"{key}.params", "must be a table")
            overrides[rule_id] = dict(settings)
    else:
        raise fail("rules", "must be a list of folders or a table")

    return Config(
        path=path,
        rules_dirs=tuple(str(base / folder) for folder in folders),
        rule_overrides=overrides,
        internal_patterns=tuple(patterns),
        index_url=index_url or None,
        request_timeout=timeouts["request-timeout"],
        scan_timeout=timeouts["scan-timeout"],
        other_indexes=other_indexes,
        sources=dict(sources),
        policy_table=data.get("policy"),
        allowlist_path=base / allowlist.strip() if allowlist else None,
    )


def positive_seconds(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e7


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _folders(value: Any, key: str, fail) -> list[str]:
    if not _is_string_list(value) or any(not item.strip() for item in value):
        raise fail(key, "must be a list of folder names")
    return [str(Path(item).expanduser()) for item in value]
