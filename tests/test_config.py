"""Configuration: where it is found, what it may say, and how it reaches the scan."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.config import ConfigError, load_config, parse_config
from scanner.configured import load_rules, scan_options
from scanner.options import CommandLineSettings
from scanner.urls import index_url_problem

RULE = """\
id = "house-rule"
title = "A rule of this lab"
severity = "low"
category = "policy"
motivation = "Because."
condition = "facts.name == params.banned"
remediation = "Do not."
params = { banned = "leftpad" }
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_no_configuration_is_the_defaults(tmp_path):
    config = load_config(cwd=tmp_path)
    assert config.path is None and config.rules_dirs == () and config.rule_overrides == {}


def test_pyproject_without_a_trustmap_table_is_no_configuration(tmp_path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert load_config(cwd=tmp_path).path is None


def test_pyproject_table(tmp_path):
    write(
        tmp_path / "pyproject.toml",
        """
[project]
name = "lab"

[tool.trustmap]
index-url = "https://mirror.example/simple"
internal-packages = ["acme-*", "lab-tools"]

[tool.trustmap.rules]
folders = ["policy"]

[tool.trustmap.rules.low-usage]
enabled = false
severity = "medium"
params = { top_n = 100 }
""",
    )
    config = load_config(cwd=tmp_path)
    assert config.path == tmp_path / "pyproject.toml"
    assert config.index_url == "https://mirror.example/simple"
    assert config.internal_patterns == ("acme-*", "lab-tools")
    # Folders are relative to the configuration file, not to the working folder.
    assert config.rules_dirs == (str(tmp_path.resolve() / "policy"),)
    assert config.rule_overrides == {
        "low-usage": {"enabled": False, "severity": "medium", "params": {"top_n": 100}}
    }


def test_trustmap_toml_wins_over_pyproject_and_config_option_over_both(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.trustmap]\nindex-url = "https://pyproject/"\n')
    write(tmp_path / "trustmap.toml", 'index-url = "https://trustmap-toml/"\n')
    other = write(tmp_path / "elsewhere" / "ci.toml", 'index-url = "https://explicit/"\n')
    assert load_config(cwd=tmp_path).index_url == "https://trustmap-toml/"
    assert load_config(other, cwd=tmp_path).index_url == "https://explicit/"
    # An explicit pyproject.toml is read for its [tool.trustmap] table.
    assert load_config(tmp_path / "pyproject.toml").index_url == "https://pyproject/"


def test_rules_as_a_plain_list_of_folders(tmp_path):
    write(tmp_path / "trustmap.toml", 'rules = ["a", "b/c"]\n')
    config = load_config(cwd=tmp_path)
    assert config.rules_dirs == (str(tmp_path.resolve() / "a"), str(tmp_path.resolve() / "b/c"))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("index-url = [", "trustmap.toml: invalid TOML"),
        ("colour = 1\n", "trustmap.toml: colour: unknown key"),
        ("index-url = 3\n", "trustmap.toml: index-url: must be a non-empty string"),
        ("other-indexes = 'no'\n", "trustmap.toml: other-indexes: must be true or false"),
        ("internal-packages = 'acme-*'\n", "trustmap.toml: internal-packages: must be a list"),
        ("internal-packages = ['']\n", "trustmap.toml: internal-packages: must be a list"),
        ("rules = 'x'\n", "trustmap.toml: rules: must be a list of folders or a table"),
        ("rules = [1]\n", "trustmap.toml: rules: must be a list of folder names"),
        ("[rules]\nfolders = 'x'\n", "trustmap.toml: rules.folders: must be a list"),
        ("[rules]\nstale = true\n", "trustmap.toml: rules.stale: must be a table"),
        ("[rules.stale]\non = true\n", "trustmap.toml: rules.stale.on: unknown setting"),
        ("[rules.stale]\nenabled = 'no'\n", "trustmap.toml: rules.stale.enabled: must be true"),
        ("[rules.stale]\nseverity = 'dire'\n", "trustmap.toml: rules.stale.severity: must be"),
        ("[rules.stale]\nparams = 3\n", "trustmap.toml: rules.stale.params: must be a table"),
        ("sources = 1\n", "trustmap.toml: sources: must be a table"),
        ("[sources]\nosx = false\n", "trustmap.toml: sources.osx: unknown source"),
        ("[sources]\ngithub = 'ghe'\n", "trustmap.toml: sources.github: must be true, false"),
    ],
)
def test_invalid_configuration_names_the_file_and_key(tmp_path, text, expected):
    write(tmp_path / "trustmap.toml", text)
    with pytest.raises(ConfigError) as error:
        load_config(cwd=tmp_path)
    message = str(error.value)
    assert message.startswith(str(tmp_path / "trustmap.toml"))
    assert expected.removeprefix("trustmap.toml") in message
    assert "\n" not in message
    assert error.value.exit_code == 2


def test_keys_in_pyproject_are_named_with_their_table(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.trustmap]\nindex_url = 'x'\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: tool.trustmap.index_url: unknown"):
        load_config(cwd=tmp_path)


def test_missing_explicit_file(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[rules.no-such-rule]\nenabled = false\n", "rules.no-such-rule: no such rule"),
        ("[rules.low-usage.params]\ntop = 5\n", "rules.low-usage.params.top: no such param"),
        (
            "[rules.low-usage.params]\ntop_n = 'many'\n",
            "rules.low-usage.params.top_n: must be an integer, got 'many'",
        ),
        ("rules = ['missing']\n", "rules: folder"),
        (
            "[rules.low-usage.params]\ntop_n = -5\n",
            "rules.low-usage.params.top_n: must be 0 or more, got -5",
        ),
        ("[rules.stale]\nparams = { days = -1 }\n", "rules.stale.params.days: must be 0 or"),
        (
            "[rules.low-usage.params]\ntop_n = 5000.0\n",
            "rules.low-usage.params.top_n: must be an integer, got 5000.0",
        ),
        (
            "[rules.ownership-change.params]\ncount_removals = 1\n",
            "rules.ownership-change.params.count_removals: must be true or false, got 1",
        ),
        (
            "[rules.dependency-confusion.params]\ninternal_patterns = [1]\n",
            "rules.dependency-confusion.params.internal_patterns: must be a list of non-empty",
        ),
        (
            "[rules.dependency-confusion.params]\ninternal_patterns = ['acme-*', '']\n",
            "internal_patterns: must be a list of non-empty strings",
        ),
    ],
)
def test_settings_the_rules_reject_name_the_file_and_key(tmp_path, text, expected):
    write(tmp_path / "trustmap.toml", text)
    with pytest.raises(ConfigError) as error:
        load_rules(load_config(cwd=tmp_path))
    assert str(error.value).startswith(f"{tmp_path / 'trustmap.toml'}: ")
    assert expected in str(error.value)


def test_configured_rules_folders_overrides_and_cli_folders(tmp_path):
    write(tmp_path / "policy" / "house-rule.toml", RULE)
    write(
        tmp_path / "trustmap.toml",
        """
[rules]
folders = ["policy"]
[rules.house-rule]
params = { banned = "six" }
[rules.low-usage]
enabled = false
""",
    )
    rules = load_rules(load_config(cwd=tmp_path))
    assert rules.get("house-rule").params == {"banned": "six"}
    assert rules.get("low-usage").enabled is False
    # A folder given with --rules comes last: its rule of the same id wins.
    write(tmp_path / "cli" / "house-rule.toml", RULE.replace('"low"', '"high"'))
    rules = load_rules(load_config(cwd=tmp_path), (str(tmp_path / "cli"),))
    assert rules.get("house-rule").severity == "high"
    assert rules.get("house-rule").params == {"banned": "six"}  # the config still applies


def test_scan_options_merge_command_line_and_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "policy" / "house-rule.toml", RULE)
    write(
        tmp_path / "pyproject.toml",
        """
[tool.trustmap]
index-url = "https://mirror.example/simple"
internal-packages = ["acme-*"]
rules = ["policy"]
""",
    )
    (tmp_path / "extra").mkdir()
    options = scan_options(
        CommandLineSettings(offline=True, rules_dirs=("extra",), extras=("gpu",))
    )
    assert options.index_url == "https://mirror.example/simple"
    assert options.internal_patterns == ("acme-*",)
    assert options.rules_dirs == (str(tmp_path.resolve() / "policy"), "extra")
    assert options.offline and options.declared.extras == ("gpu",)
    # The command line wins.
    options = scan_options(CommandLineSettings(index_url="https://cli.example/simple"))
    assert options.index_url == "https://cli.example/simple"


def test_other_indexes_are_asked_unless_switched_off_in_config_or_on_the_command_line(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert scan_options(CommandLineSettings()).other_indexes is True
    write(tmp_path / "trustmap.toml", "other-indexes = false\n")
    assert scan_options(CommandLineSettings()).other_indexes is False
    assert (
        scan_options(CommandLineSettings(other_indexes=True)).other_indexes is True
    )  # the command line wins
    write(tmp_path / "trustmap.toml", "other-indexes = true\n")
    assert scan_options(CommandLineSettings(other_indexes=False)).other_indexes is False


def test_enrichment_sources_from_the_configuration_the_environment_and_the_command_line(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    for name in ("OSV", "GITHUB"):
        monkeypatch.delenv(f"TRUSTMAP_{name}_API_URL")
    write(
        tmp_path / "trustmap.toml",
        '[sources]\nosv = false\ngithub = "https://ghe.example/api/v3"\n',
    )
    endpoints = scan_options(CommandLineSettings()).endpoints
    assert endpoints.url("osv") is None and "config sources.osv" in endpoints.why_off["osv"]
    assert endpoints.url("github") == "https://ghe.example/api/v3"
    endpoints = scan_options(CommandLineSettings(no_github=True)).endpoints
    assert endpoints.url("github") is None and "--no-github" in endpoints.why_off["github"]
    monkeypatch.setenv("TRUSTMAP_OSV_API_URL", "http://127.0.0.1:9")
    assert scan_options(CommandLineSettings()).endpoints.url("osv") == "http://127.0.0.1:9"


_SCALARS = (
    st.booleans()
    | st.integers(min_value=-10, max_value=10)
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["https://[::1/simple", "https://h:99999/s", "low", "acme-*", ""])
)
_VALUES = _SCALARS | st.lists(_SCALARS, max_size=3)
# Mostly the params' own types, of any value, so that ranges are tried, not only types.
_PARAM_VALUES = st.integers(min_value=-10, max_value=10) | st.lists(st.text(max_size=3)) | _VALUES
_PARAMS = st.dictionaries(
    st.sampled_from(["days", "top_n", "internal_patterns", "count_removals", "nope"]),
    _PARAM_VALUES,
    max_size=2,
)
_RULE_SETTINGS = st.fixed_dictionaries(
    {"params": _PARAMS},
    optional={"enabled": _VALUES, "severity": st.sampled_from(["low", "dire"]) | _VALUES},
)
_RULES = st.dictionaries(
    st.sampled_from(["stale", "low-usage", "dependency-confusion", "ownership-change"]),
    _RULE_SETTINGS,
    max_size=2,
)
_CONFIG_TABLES = st.fixed_dictionaries(
    {"rules": _RULES | _VALUES},
    optional={"index-url": _VALUES, "internal-packages": _VALUES, "colour": _VALUES},
)


@settings(max_examples=300, deadline=None)
@given(_CONFIG_TABLES)
def test_any_table_gives_a_configuration_or_one_line_naming_the_file(tmp_path_factory, table):
    folder = tmp_path_factory.mktemp("config")
    path = folder / "trustmap.toml"
    try:
        config = parse_config(table, path)
        rules = load_rules(config)
    except ConfigError as error:
        assert str(error).startswith(f"{path}: ") and "\n" not in str(error)
        return
    if config.index_url is not None:
        assert index_url_problem(config.index_url) is None
    for rule in rules.rules:
        for value in rule.params.values():
            assert not (type(value) is int and value < 0), rule
            assert not (isinstance(value, list) and not all(isinstance(v, str) for v in value))


def test_timeouts_from_the_configuration_and_the_command_line(tmp_path):
    config = write(tmp_path / "trustmap.toml", "request-timeout = 5\nscan-timeout = 120.5\n")
    options = scan_options(CommandLineSettings(config_path=str(config)))
    assert (options.request_timeout, options.scan_timeout) == (5.0, 120.5)
    options = scan_options(CommandLineSettings(config_path=str(config), scan_timeout=9.0))
    assert (options.request_timeout, options.scan_timeout) == (5.0, 9.0)
    default = scan_options(CommandLineSettings(config_path=str(write(tmp_path / "empty.toml", ""))))
    assert (default.request_timeout, default.scan_timeout) == (30.0, 600.0)


@pytest.mark.parametrize("value", ["0", "-1", '"30"', "true", "1e9"])
def test_a_timeout_that_is_not_a_positive_number_names_the_key(tmp_path, value):
    config = write(tmp_path / "trustmap.toml", f"scan-timeout = {value}\n")
    with pytest.raises(ConfigError, match=r"trustmap.toml: scan-timeout: must be a number"):
        load_config(config)


def test_config_imports_no_pipeline_stage():
    """config.py reads and types the file; checking it against the rules, the policy or
    the scan's wiring is scanner.configured's job."""
    import scanner.config
    from tests.report.test_interface import scanner_imports

    stages = ("scanner.rules", "scanner.scan", "scanner.policy", "scanner.facts",
              "scanner.resolve", "scanner.graph", "scanner.summary", "scanner.report",
              "scanner.inputs", "scanner.options", "scanner.sources")  # fmt: skip
    imported = scanner_imports(Path(scanner.config.__file__))
    assert not {name for name in imported if name.startswith(stages)}, imported
