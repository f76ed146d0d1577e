"""The policy as the configuration writes it: the `[policy]` table of trustmap.toml, or
`[tool.trustmap.policy]` of pyproject.toml, read into a Policy. Every mistake is one line
naming the file and the key; all of them are reported at once, so that a person fixes the
file in one go.

    [tool.trustmap.policy]
    fail-on = "high"            # info, low, medium, high, critical, or "never"
    on-unknown = "fail"         # "fail" (incomplete, exit 3) or "warn"
    deny = ["evil-*"]           # package globs that always fail
    [tool.trustmap.policy.severity]
    low-usage = "high"          # the severity the gate judges this rule's findings at
    [[tool.trustmap.policy.exceptions]]
    package = "tiny-lib"        # a glob over canonical names
    rule = "solo-maintainer"    # a rule id, or "*"
    reason = "reviewed by the security team, ticket SEC-12"
    expires = 2027-03-31        # a TOML date or "YYYY-MM-DD": required

Pure: it reads the parsed table (and the file's text, for line numbers), never a file."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from packaging.utils import canonicalize_name

from scanner.inputs._common import calendar_date
from scanner.model import SEVERITIES
from scanner.policy import GATE_DEFAULT, Policy, PolicyException

POLICY_KEYS = ("fail-on", "on-unknown", "deny", "severity", "exceptions")
EXCEPTION_KEYS = ("package", "rule", "reason", "expires")
NEVER = "never"
_PATTERN = re.compile(r"^[a-z0-9*?\[\]!._-]+$")


def parse_policy(
    table: Any,
    where: str,
    key_prefix: str,
    rule_ids: Collection[str],
    text: str = "",
) -> tuple[Policy, list[str]]:
    """The Policy a `[policy]` table describes (the gate's defaults for what it leaves
    out), and one line per mistake: `FILE: KEY: problem`. `rule_ids`: the rules that
    exist, so that a misspelt rule id is a mistake rather than a silent no-op. `text`:
    the file's text, to say on which line each exception is written."""
    problems: list[str] = []

    def problem(key: str, message: str) -> None:
        # A quoted TOML key may hold a line break or a control character: shown escaped,
        # so that every mistake stays one line.
        key = key if key.isprintable() else repr(key)
        name = f"{key_prefix}{key}" if key else key_prefix.rstrip(".")
        problems.append(f"{where}: {name}: {message}")

    if table is None:
        return GATE_DEFAULT, []
    if not isinstance(table, Mapping):
        problem("", "must be a table")
        return GATE_DEFAULT, problems
    for key in table:
        if key not in POLICY_KEYS:
            problem(key, f"unknown key (known keys: {', '.join(POLICY_KEYS)})")

    fail_on = GATE_DEFAULT.fail_on
    if "fail-on" in table:
        value = table["fail-on"]
        if value == NEVER:
            fail_on = None
        elif value in SEVERITIES:
            fail_on = value
        else:
            problem(
                "fail-on", f"must be one of {', '.join(SEVERITIES)} or {NEVER!r}, got {value!r}"
            )

    on_unknown = GATE_DEFAULT.on_unknown
    if "on-unknown" in table:
        value = table["on-unknown"]
        if value in ("fail", "warn"):
            on_unknown = value
        else:
            problem("on-unknown", f'must be "fail" or "warn", got {value!r}')

    deny: list[str] = []
    value = table.get("deny", [])
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        problem("deny", "must be a list of package name patterns")
    else:
        for index, pattern in enumerate(value):
            checked = _package_pattern(pattern)
            if checked is None:
                problem(f"deny[{index}]", f"{pattern!r} is not a package name or glob")
            else:
                deny.append(checked)

    severity: dict[str, Any] = {}
    value = table.get("severity", {})
    if not isinstance(value, Mapping):
        problem("severity", "must be a table of rule id = severity")
    else:
        for rule_id, level in value.items():
            if rule_id not in rule_ids:
                problem(f"severity.{rule_id}", "no such rule (`trustmap rules list` shows them)")
            elif level not in SEVERITIES:
                problem(f"severity.{rule_id}", f"must be one of {', '.join(SEVERITIES)}")
            else:
                severity[rule_id] = level

    exceptions: list[PolicyException] = []
    value = table.get("exceptions", [])
    lines = _exception_lines(text)
    if not isinstance(value, list):
        problem("exceptions", "must be an array of tables ([[...policy.exceptions]])")
    else:
        for index, entry in enumerate(value):
            line = lines[index] if index < len(lines) else None
            found = _exception(entry, f"exceptions[{index}]", rule_ids, problem)
            if found is not None:
                at = f"{where}:{line}" if line else where
                exceptions.append(PolicyException(*found, where=at))

    policy = Policy(
        fail_on=fail_on,
        on_unknown=on_unknown,
        severity=severity,
        deny=tuple(deny),
        exceptions=tuple(exceptions),
        source=where,
    )
    return policy, problems


def _exception(entry: Any, key: str, rule_ids: Collection[str], problem):
    if not isinstance(entry, Mapping):
        problem(key, "must be a table with package, rule, reason and expires")
        return None
    ok = True
    for name in entry:
        if name not in EXCEPTION_KEYS:
            problem(f"{key}.{name}", f"unknown key (known keys: {', '.join(EXCEPTION_KEYS)})")
            ok = False
    for name in EXCEPTION_KEYS:
        if name not in entry:
            problem(f"{key}.{name}", "is required: an exception says what, why, and until when")
            ok = False
    if not ok:
        return None
    package = _package_pattern(entry["package"]) if isinstance(entry["package"], str) else None
    if package is None:
        problem(f"{key}.package", f"{entry['package']!r} is not a package name or glob")
        ok = False
    rule = entry["rule"]
    if not isinstance(rule, str) or (rule != "*" and rule not in rule_ids):
        problem(f"{key}.rule", f'{rule!r}: no such rule (a rule id, or "*" for every rule)')
        ok = False
    reason = entry["reason"]
    if not isinstance(reason, str) or not reason.strip():
        problem(f"{key}.reason", "must say why, in words")
        ok = False
    expires = calendar_date(entry["expires"])
    if expires is None:
        problem(f"{key}.expires", f"must be a date (2027-03-31), got {entry['expires']!r}")
        ok = False
    if not ok:
        return None
    return package, rule, reason.strip(), expires


def _package_pattern(pattern: str) -> str | None:
    """A canonical name, or a glob of one; None when it could never match a name."""
    if not isinstance(pattern, str) or not pattern.strip():
        return None
    pattern = pattern.strip()
    if "*" in pattern or "?" in pattern or "[" in pattern:
        lowered = re.sub(r"[-_.]+", "-", pattern.lower())
        return lowered if _PATTERN.match(lowered) else None
    canonical = str(canonicalize_name(pattern))
    return canonical if canonical and _PATTERN.match(canonical) else None


_EXCEPTION_HEADER = re.compile(
    r"^\s*\[\[\s*(?:tool\s*\.\s*trustmap\s*\.\s*)?policy\s*\.\s*exceptions\s*\]\]"
)


def _exception_lines(text: str) -> list[int]:
    """The line of each `[[policy.exceptions]]` header, in order (an inline array gives
    none: the exceptions are then located at the file)."""
    return [n for n, line in enumerate(text.splitlines(), start=1) if _EXCEPTION_HEADER.match(line)]


def describe_policy(policy: Policy) -> dict[str, str]:
    """The policy as comparable, readable settings: `fail-on`, `on-unknown`, each deny
    pattern, each severity and each exception. Two policies differ where these differ."""
    settings = {
        "fail-on": policy.fail_on or NEVER,
        "on-unknown": policy.on_unknown,
    }
    for pattern in policy.deny:
        settings[f"deny {pattern}"] = "denied"
    for rule_id, level in sorted(policy.severity.items()):
        settings[f"severity.{rule_id}"] = level
    for exception in policy.exceptions:
        until = exception.expires.isoformat() if exception.expires else "no expiry"
        settings[f"exception {exception.package} / {exception.rule}"] = (
            f"{exception.reason} (until {until})"
        )
    return settings


def policy_changes(before: Policy, after: Policy) -> tuple[str, ...]:
    """What a change did to the policy that judges it, one line per setting: so that a pull
    request cannot quietly relax the gate (or add an exception for itself)."""
    old, new = describe_policy(before), describe_policy(after)
    lines = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            lines.append(f"added {key}: {new[key]}")
        elif key not in new:
            lines.append(f"removed {key}: {old[key]}")
        elif old[key] != new[key]:
            lines.append(f"changed {key}: {old[key]} -> {new[key]}")
    return tuple(lines)
