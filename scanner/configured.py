"""What the configuration and the command line set up for a run: the scan options, the
rule set and the gate's policy. scanner.config only reads and types the file's settings;
checking them against what the stages know (the rule ids and params, the policy's rules)
is done here, where the stages may be imported, still reported against the file and key
in one line (exit 2)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from scanner import rules as rules_stage
from scanner.config import PYPROJECT, Config, ConfigError, load_config
from scanner.endpoints import choose_endpoints
from scanner.inputs.interface import DeclaredOptions
from scanner.model import InputError
from scanner.options import CommandLineSettings, ScanOptions
from scanner.policy.settings import parse_policy
from scanner.urls import index_url_problem, without_credentials


def gate_policy(config: Config, rule_ids: Collection[str]):
    """The gate's Policy as configured (its defaults where the file is silent). Every
    mistake in the policy table is one line naming the file and the key, all reported
    at once (exit 2)."""
    if config.path is None:
        return parse_policy(None, "", "", rule_ids)[0]
    prefix = "tool.trustmap.policy." if config.path.name == PYPROJECT else "policy."
    policy, problems = parse_policy(
        config.policy_table, str(config.path), prefix, rule_ids, config.text
    )
    if problems:
        raise ConfigError("\n".join(problems))
    return policy


def load_rules(config: Config, extra_dirs: tuple[str, ...] = ()):
    """The rule set as configured, `extra_dirs` (from --rules) last. Settings the rules
    reject (an unknown rule id or param, a param of the wrong type) are reported against
    the configuration file and key. The rule files are read once."""
    folders = (*config.rules_dirs, *extra_dirs)
    if config.path is None:
        return rules_stage.load_rules(folders)
    prefix = "tool.trustmap." if config.path.name == PYPROJECT else ""
    for folder in config.rules_dirs:
        if not Path(folder).is_dir():
            raise ConfigError(f"{config.path}: {prefix}rules: folder {folder} not found")
    files = rules_stage.read_rule_files(folders)
    plain = rules_stage.configure_rules(files)
    for rule_id, settings in config.rule_overrides.items():
        key = f"{config.path}: {prefix}rules.{rule_id}"
        rule = plain.get(rule_id)
        if rule is None:
            raise ConfigError(f"{key}: no such rule (`trustmap rules list` shows them)")
        for name, value in settings.get("params", {}).items():
            if name not in rule.params:
                known = ", ".join(rule.params) or "none"
                raise ConfigError(f"{key}.params.{name}: no such param (it has: {known})")
            problem = rules_stage.param_problem(rule.params[name], value)
            if problem:
                raise ConfigError(f"{key}.params.{name}: {problem}")
    try:
        return rules_stage.configure_rules(files, config.rule_overrides)
    except InputError as exc:
        raise ConfigError(f"{config.path}: {exc}") from None


def scan_options(settings: CommandLineSettings) -> ScanOptions:
    """ScanOptions from the command line's target options and the configuration they point
    to. The command line wins over the configuration. The rules are loaded here, once,
    before any network traffic: a broken rule or setting fails now, naming the file."""
    config = load_config(settings.config_path)
    index_url = (settings.index_url or "").strip() or None
    problem = index_url_problem(index_url) if index_url is not None else None
    if problem:
        raise InputError(f"--index-url {without_credentials(index_url)!r} {problem}")
    extra_dirs = tuple(settings.rules_dirs)
    rules = load_rules(config, extra_dirs)
    return ScanOptions(
        index_url=index_url or config.index_url,
        offline=settings.offline,
        refresh=settings.refresh,
        cache_path=Path(settings.cache_path) if settings.cache_path else None,
        rules_dirs=(*config.rules_dirs, *extra_dirs),
        rule_overrides={k: dict(v) for k, v in config.rule_overrides.items()},
        rules=rules,
        python_version=settings.python_version,
        platform=settings.platform,
        all_platforms=settings.all_platforms,
        prereleases=settings.prereleases,
        declared=DeclaredOptions(
            extras=tuple(settings.extras),
            all_extras=settings.all_extras,
            groups=tuple(settings.groups),
            all_groups=settings.all_groups,
        ),
        internal_patterns=config.internal_patterns,
        other_indexes=_other_indexes(settings, config),
        endpoints=choose_endpoints(settings.switched_off, config.sources),
        **_timeouts(settings, config),
    )


def _timeouts(settings: CommandLineSettings, config: Config) -> dict[str, float]:
    """--request-timeout / --scan-timeout, else the config's, else the defaults."""
    chosen = {}
    for name in ("request_timeout", "scan_timeout"):
        value = getattr(settings, name)
        if value is None:
            value = getattr(config, name)
        if value is not None:
            chosen[name] = float(value)
    return chosen


def _other_indexes(settings: CommandLineSettings, config: Config) -> bool:
    """--other-indexes / --no-other-indexes, else the config's, else on."""
    for value in (settings.other_indexes, config.other_indexes):
        if value is not None:
            return bool(value)
    return True
