"""Rules are data: one TOML file per rule, a CEL condition over a package's facts.

A condition is evaluated with `facts` (every fact in scanner.facts.schema.FACTS, null when
unknown) and `params` (the rule's thresholds, overridable from config).

Unknown facts: when a condition uses a fact that is unknown for a package, the condition
is evaluated once more for each combination of probe values of that fact's type (true and
false, 0 and a large number, "" and a name, ...). If every combination gives the same
answer, the known facts decide the rule; otherwise the package gets an Undetermined for
that rule, never a pass.
"""

from __future__ import annotations

import glob
import importlib.machinery
import importlib.util
import itertools
import math
import os
import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from scanner.condition_types import non_boolean_result
from scanner.facts.schema import FACT_NAMES, FACTS
from scanner.model import SEVERITIES, Facts, Finding, InputError, Severity, Undetermined
from scanner.names import glob_match

REQUIRED_KEYS = ("id", "title", "severity", "category", "motivation", "condition", "remediation")
_FACT_REFERENCE = re.compile(r"\bfacts\.([A-Za-z_][A-Za-z0-9_]*)")
_PARAM_REFERENCE = re.compile(r"\bparams\.([A-Za-z_][A-Za-z0-9_]*)")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# `facts` used other than as facts.NAME (facts["x"], has(facts.x) is still facts.NAME).
_OTHER_FACTS_USE = re.compile(r"\bfacts\b(?!\s*\.\s*[A-Za-z_])")
# Values an unknown fact might have, by its CEL type: enough to tell whether it matters.
_PROBES: dict[str, tuple[Any, ...]] = {
    "bool": (True, False),
    "int": (0, 1, 2, 10**9),
    "string": ("", "a"),
    "list(string)": ([], ["a"], ["a", "b"]),
    "list(map)": ([], [{}]),
    "list(int)": ([], [1], [1, 1]),
    "double": (0.0, 0.5, 1.0),
}
_FACT_PROBES = {spec.name: (None, *(spec.choices or _PROBES.get(spec.type, ()))) for spec in FACTS}
_FACT_TYPES = {spec.name: spec.type for spec in FACTS}
_MAX_PROBE_COMBINATIONS = 256
# What a condition may raise on some facts (a null compared with a number, a division by
# zero, an index out of range, an overflow): the rule is then undetermined for that
# package, never a crash and never a pass.
_CONDITION_ERRORS = (TypeError, ValueError, LookupError, ArithmeticError, RuntimeError)


def _load_cel() -> Any:
    """The compiled core of `common-expression-language`.

    Importing the `cel` package also imports its command-line front end (prompt_toolkit,
    typer): about 0.3 s, a third of a warm scan. The extension module alone has all that
    is needed here, so it is loaded directly; the package import is the fallback."""
    spec = importlib.util.find_spec("cel")
    if spec is not None and spec.submodule_search_locations:
        folder = next(iter(spec.submodule_search_locations))
        for path in glob.glob(os.path.join(folder, "cel.*")):
            if path.endswith((".so", ".pyd")):
                loader = importlib.machinery.ExtensionFileLoader("cel.cel", path)
                module_spec = importlib.util.spec_from_file_location("cel.cel", path, loader=loader)
                if module_spec is None:
                    break
                module = importlib.util.module_from_spec(module_spec)
                loader.exec_module(module)
                return module
    import cel

    return cel


_cel = _load_cel()


EXAMPLE_OUTCOMES = ("fires", "quiet", "undetermined")


@dataclass(frozen=True)
class RuleExample:
    """A case written in the rule file, in the spirit of Scorecard's probe tests: these
    facts (every other fact unknown) give this outcome."""

    name: str
    facts: Mapping[str, Any]
    expect: str


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    category: str
    motivation: str
    condition: str
    remediation: str
    references: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()  # facts shown as evidence besides those in the condition
    path: str = ""
    enabled: bool = True
    # Rules whose finding this one's stands for on the same package (a combined signal
    # supersedes its parts): they are folded into it, not counted again.
    supersedes: tuple[str, ...] = ()
    # The rule's proof, kept beside it: facts (the rest unknown) and the expected outcome.
    examples: tuple[RuleExample, ...] = ()
    # What this finding is about, in a few words filled from its evidence ("like
    # {lookalike_of}"): said after the title where only one line is shown (the gate).
    detail: str = ""

    @property
    def facts_used(self) -> tuple[str, ...]:
        found = dict.fromkeys(_FACT_REFERENCE.findall(self.condition))
        found.update(dict.fromkeys(self.evidence))
        return tuple(found)


# Compiled conditions by their text. A memo of a pure computation (the same text always
# compiles to the same program, which keeps no state between runs), so it lives here
# rather than in the frozen RuleSet: rule sets that share a condition share its program.
_COMPILED: dict[str, Any] = {}


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))  # a list given is frozen

    def enabled(self) -> list[Rule]:
        return [r for r in self.rules if r.enabled]

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def program(self, rule: Rule) -> Any:
        program = _COMPILED.get(rule.condition)
        if program is None:
            program = _COMPILED[rule.condition] = _cel.compile(rule.condition)
        return program


def shipped_rules_dir() -> Path:
    return Path(str(resources.files("scanner.shipped_rules")))


def load_rules(
    extra_dirs: Iterable[str | os.PathLike[str]] = (),
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> RuleSet:
    """The shipped rules, then each extra folder's (a later file with the same id replaces
    an earlier one), then `overrides` from config: {rule_id: {enabled, severity, params}}."""
    return configure_rules(read_rule_files(extra_dirs), overrides)


def read_rule_files(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> dict[str, Rule]:
    """Every rule file, shipped first, then each extra folder's, by id (a later file with
    the same id replaces an earlier one). The files are read here and nowhere else."""
    rules: dict[str, Rule] = {}
    for folder in (shipped_rules_dir(), *map(Path, extra_dirs)):
        if not folder.is_dir():
            raise InputError(f"{folder}: rules folder not found")
        for path in sorted(folder.glob("*.toml")):
            rule = load_rule_file(path)
            rules[rule.id] = rule
    return rules


def configure_rules(
    files: Mapping[str, Rule], overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> RuleSet:
    """The rule set from rules already read (read_rule_files), with `overrides` applied."""
    rules = dict(files)
    for rule_id, override in (overrides or {}).items():
        if rule_id not in rules:
            raise InputError(f"config: no rule with id {rule_id!r} to configure")
        rules[rule_id] = _apply_override(rules[rule_id], override)
    for rule in rules.values():
        missing = sorted(set(rule.supersedes) - set(rules))
        if missing:
            raise InputError(f"{rule.path}: supersedes unknown rules {', '.join(missing)}")
    return RuleSet(sorted(rules.values(), key=lambda r: r.id))


def load_rule_file(path: Path) -> Rule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError) as exc:
        raise InputError(f"{path}: cannot read rule file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None
    missing = [k for k in REQUIRED_KEYS if not isinstance(data.get(k), str) or not data[k]]
    if missing:
        raise InputError(f"{path}: rule file lacks {', '.join(missing)}")
    unknown_keys = set(data) - {
        *REQUIRED_KEYS, "references", "params", "evidence", "supersedes", "examples", "detail",
    }  # fmt: skip
    if unknown_keys:
        raise InputError(f"{path}: unknown keys {', '.join(sorted(unknown_keys))}")
    if not _ID.match(data["id"]):
        raise InputError(f"{path}: id {data['id']!r} must be lower-case words joined by '-'")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise InputError(f"{path}: params must be a table")
    rule = Rule(
        id=data["id"],
        title=data["title"],
        severity=_severity(data["severity"], path),
        category=data["category"],
        motivation=data["motivation"].strip(),
        condition=data["condition"].strip(),
        remediation=data["remediation"].strip(),
        references=tuple(_string_list(data.get("references", []), "references", path)),
        params=params,
        evidence=tuple(_string_list(data.get("evidence", []), "evidence", path)),
        path=str(path),
        supersedes=tuple(_string_list(data.get("supersedes", []), "supersedes", path)),
        examples=_examples(data.get("examples", []), path),
        detail=_detail(data.get("detail", ""), path),
    )
    _check_condition(rule, path)
    _check_detail(rule, path)
    return rule


def _detail(value: Any, path: Path) -> str:
    if not isinstance(value, str):
        raise InputError(f"{path}: detail must be a string")
    return value.strip()


def _check_detail(rule: Rule, where: Path | str) -> None:
    """A detail names, as {fact}, only facts its finding shows as evidence, bare (no
    format specs, no attribute or index look-ups: it is filled with data from the
    internet)."""
    try:
        fields = list(string.Formatter().parse(rule.detail))
    except ValueError as exc:
        raise InputError(f"{where}: detail: {exc} (write {{{{ for a literal brace)") from None
    shown = set(rule.facts_used)
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if spec or conversion or name not in shown:
            raise InputError(
                f"{where}: detail may name only facts of the condition or evidence as "
                f"{{fact}}, not {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}}"
            )


def detail_text(template: str, evidence: Mapping[str, Any]) -> str:
    """The detail filled from a finding's evidence: text as it is, lists joined, an
    unknown fact as "unknown"."""
    if not template:
        return ""

    def shown(value: Any) -> str:
        if value is None:
            return "unknown"
        if isinstance(value, list | tuple):
            return ", ".join(shown(v) for v in value) or "none"
        return value if isinstance(value, str) else str(value)

    values = {name: shown(evidence.get(name)) for _, name, _, _ in
              string.Formatter().parse(template) if name is not None}  # fmt: skip
    return template.format_map(values)


def _examples(value: Any, path: Path) -> tuple[RuleExample, ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError(f"{path}: examples must be [[examples]] tables")
    out = []
    for number, example in enumerate(value, 1):
        where = f"{path}: example {number}"
        if set(example) - {"name", "facts", "expect"} or not isinstance(example.get("name"), str):
            raise InputError(f"{where}: needs name, facts and expect, and nothing else")
        if example.get("expect") not in EXAMPLE_OUTCOMES:
            raise InputError(f"{where}: expect must be one of {', '.join(EXAMPLE_OUTCOMES)}")
        facts = example.get("facts", {})
        if not isinstance(facts, dict) or set(facts) - FACT_NAMES:
            unknown = sorted(set(facts) - FACT_NAMES) if isinstance(facts, dict) else facts
            raise InputError(f"{where}: facts must be a table of known facts, not {unknown}")
        out.append(RuleExample(example["name"], facts, example["expect"]))
    return tuple(out)


def _severity(value: Any, where: Path | str) -> Severity:
    if value not in SEVERITIES:
        raise InputError(f"{where}: severity {value!r} is not one of {', '.join(SEVERITIES)}")
    return value


def _string_list(value: Any, key: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{path}: {key} must be a list of strings")
    return value


def _check_condition(rule: Rule, where: Path | str) -> None:
    try:
        _cel.compile(rule.condition)
    except (ValueError, RuntimeError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{where}: condition does not compile: {first}") from None
    unknown_facts = sorted(set(rule.facts_used) - FACT_NAMES)
    if unknown_facts:
        raise InputError(
            f"{where}: condition uses unknown facts {', '.join(unknown_facts)} "
            "(see `trustmap rules facts`)"
        )
    unknown_params = sorted(set(_PARAM_REFERENCE.findall(rule.condition)) - set(rule.params))
    if unknown_params:
        raise InputError(f"{where}: condition uses params not in [params]: {unknown_params}")
    _check_gives_true_or_false(rule, where)
    _check_result_type(rule, where)


def _check_result_type(rule: Rule, where: Path | str) -> None:
    """The static half of the check: the type of the condition's result, found from the
    fact schema and the params' types, whatever the facts' values. It catches what no
    sample run shows: a branch the samples never take (`facts.name == "x" ? "block" :
    false`) and a result whose every sample fails (`int(facts.version)`)."""
    wrong = non_boolean_result(rule.condition, _FACT_TYPES, rule.params, FUNCTION_RESULTS)
    if wrong is not None:
        raise InputError(
            f"{where}: condition must give true or false, not {wrong} "
            "(a type its result can have, whatever the facts)"
        )


def _sample_facts(rule: Rule) -> Iterable[dict[str, Any]]:
    """Fact maps to try a condition on at load: every fact set to its type's first,
    second, ... probe value (values of the type the schema says), then every fact null."""
    used = sorted(FACT_NAMES) if _OTHER_FACTS_USE.search(rule.condition) else rule.facts_used
    typed = {name: _FACT_PROBES.get(name, (None,))[1:] or (None,) for name in used}
    for index in range(max((len(values) for values in typed.values()), default=0)):
        yield {name: values[index % len(values)] for name, values in typed.items()}
    yield dict.fromkeys(used)


def _check_gives_true_or_false(rule: Rule, where: Path | str) -> None:
    """A condition that gives anything but true or false (`"1"`, `facts.publisher_count`)
    would never fire, silently: reject it at load. The engine has no type checker: the
    condition is run on sample facts here (which names a value it gave), and its type is
    read from the expression by _check_result_type. Errors on samples are left to run
    time, where they make the rule undetermined."""
    program = _cel.compile(rule.condition)
    functions = {n: f for n, f in FUNCTIONS.items() if re.search(rf"\b{n}\s*\(", rule.condition)}
    for facts in _sample_facts(rule):
        bindings = {"facts": facts, "params": dict(rule.params)}
        try:
            result = program.execute(_cel.Context(bindings, functions) if functions else bindings)
        except _CONDITION_ERRORS:
            continue
        # null is what a condition may give on unknown facts (`facts.first_party` when
        # it is unknown): undetermined at run time. On known facts it is a mistake.
        if result is None and any(value is None for value in facts.values()):
            continue
        if not isinstance(result, bool):
            shown = "null" if result is None else f"{type(result).__name__} {result!r:.60}"
            raise InputError(f"{where}: condition must give true or false, not {shown}")


_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
               list: "a list", dict: "a table"}  # fmt: skip


def param_problem(default: Any, value: Any) -> str | None:
    """What is wrong with `value` as an override of a param whose rule-file value is
    `default`, or None. Besides the type: a param that is a count, a number of days or a
    rank (a whole number not below 0 in the rule file) cannot be negative, and a list of
    strings (or an empty list: patterns) holds non-empty strings only."""
    expected = type(default)
    if type(value) is not expected:
        return f"must be {_TYPE_NAMES.get(expected, expected.__name__)}, got {value!r}"
    if expected is int and default >= 0 and value < 0:
        return f"must be 0 or more, got {value!r}"
    if expected is float and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if expected is list and all(isinstance(item, str) for item in default):
        if not all(isinstance(item, str) and item.strip() for item in value):
            return f"must be a list of non-empty strings, got {value!r}"
    return None


def _apply_override(rule: Rule, override: Mapping[str, Any]) -> Rule:
    where = f"config for rule {rule.id}"
    unknown = set(override) - {"enabled", "severity", "params"}
    if unknown:
        raise InputError(f"{where}: unknown settings {', '.join(sorted(unknown))}")
    params = dict(rule.params)
    new_params = override.get("params", {})
    if not isinstance(new_params, Mapping):
        raise InputError(f"{where}: params must be a table")
    for key, value in new_params.items():
        if key not in params:
            raise InputError(f"{where}: no param {key!r} (it has {', '.join(params) or 'none'})")
        problem = param_problem(params[key], value)
        if problem:
            raise InputError(f"{where}: param {key} {problem}")
        params[key] = value
    enabled = override.get("enabled", rule.enabled)
    if not isinstance(enabled, bool):
        raise InputError(f"{where}: enabled must be true or false")
    severity = _severity(override.get("severity", rule.severity), where)
    return Rule(**{**rule.__dict__, "params": params, "enabled": enabled, "severity": severity})


def evaluate(
    rules: RuleSet, facts: Mapping[str, Facts]
) -> tuple[tuple[Finding, ...], tuple[Undetermined, ...]]:
    findings: list[Finding] = []
    undetermined: list[Undetermined] = []
    plans = [_plan(rules, rule) for rule in rules.enabled()]
    # A condition is a pure function of the facts it sees: packages that share those
    # values (most do, for most rules) share the answer, computed once, and once per
    # process for a condition and its params (a gate's two sides ask alike).
    decided = [_answers_of(plan) for plan in plans]
    for name in sorted(facts):
        package_facts = facts[name]
        values = package_facts.values
        for plan, memo in zip(plans, decided, strict=True):
            rule, named = plan.rule, plan.named_facts
            # The condition sees every fact it names (null when unknown); conditions that
            # use `facts` other than as facts.NAME see them all.
            visible = {f: values.get(f) for f in (FACT_NAMES if plan.sees_all_facts else named)}
            key = None if plan.sees_all_facts else _key(visible)
            answer = memo.get(key) if key is not None else None
            unknown = [f for f in named if visible[f] is None]
            if answer is None:
                answer = _decide(plan.program, visible, plan.params, unknown, plan.functions)
                if key is not None:
                    memo[key] = answer
            outcome, error = answer
            if outcome is True:
                # An empty map (no enrichment signals known) is no evidence of anything.
                evidence = {f: values.get(f) for f in plan.evidence_facts if values.get(f) != {}}
                detail = detail_text(rule.detail, evidence)
                findings.append(
                    Finding(rule.id, name, rule.severity, rule.title, evidence, detail=detail)
                )
            elif outcome is None:
                reasons = tuple(f"{f}: {package_facts.unknown.get(f, 'unknown')}" for f in unknown)
                if error:
                    reasons = (*reasons, f"condition error: {error}")
                undetermined.append(
                    Undetermined(rule.id, name, rule.severity, tuple(unknown), reasons)
                )
    return _fold_superseded(rules, findings, undetermined)


def _fold_superseded(
    rules: RuleSet, findings: list[Finding], undetermined: list[Undetermined]
) -> tuple[tuple[Finding, ...], tuple[Undetermined, ...]]:
    """Per package, a finding whose rule is superseded by another finding that stands
    (is not itself folded) goes into that finding's `covers`; so does an undetermined
    check of such a rule, which the standing finding already decides."""
    supersedes = {rule.id: set(rule.supersedes) for rule in rules.rules}
    fired: dict[str, dict[str, Finding]] = {}
    for finding in findings:
        fired.setdefault(finding.package, {})[finding.rule_id] = finding
    covered_by: dict[tuple[str, str], str] = {}  # (package, folded rule) -> standing rule
    for package, by_rule in fired.items():
        if not any(supersedes.get(r) for r in by_rule):
            continue
        standing = _standing(set(by_rule), supersedes)
        for rule_id in sorted(standing):
            for other in sorted(supersedes.get(rule_id, ()) - standing):
                covered_by.setdefault((package, other), rule_id)
    if not covered_by:
        return tuple(findings), tuple(undetermined)
    covers: dict[tuple[str, str], list[str]] = {}
    for (package, folded), standing_rule in covered_by.items():
        if folded in fired.get(package, {}):
            covers.setdefault((package, standing_rule), []).append(folded)
    kept = [
        replace(f, covers=tuple(sorted(covers.get((f.package, f.rule_id), ()))))
        for f in findings
        if (f.package, f.rule_id) not in covered_by
    ]
    left = [u for u in undetermined if (u.package, u.rule_id) not in covered_by]
    return tuple(kept), tuple(left)


def _standing(fired: set[str], supersedes: Mapping[str, set[str]]) -> set[str]:
    """The fired rules that stand: those superseded by no standing rule. Worked out from
    the rules nothing fired supersedes, outwards; rules caught in a cycle of supersession
    all stand."""
    standing: set[str] = set()
    folded: set[str] = set()
    undecided = set(fired)
    while undecided:
        progressed = False
        for rule_id in sorted(undecided):
            over = {r for r in fired if rule_id in supersedes.get(r, ()) and r != rule_id}
            if over & standing:
                folded.add(rule_id)
            elif over <= folded:
                standing.add(rule_id)
            else:
                continue
            undecided.discard(rule_id)
            progressed = True
        if not progressed:
            standing |= undecided
            break
    return standing


class RulePlan(NamedTuple):
    """What evaluating one rule needs, worked out once per scan rather than per package."""

    rule: Rule
    program: Any  # the compiled condition
    named_facts: tuple[str, ...]  # facts the condition names as facts.NAME, in order
    sees_all_facts: bool  # the condition uses `facts` otherwise: it is shown them all
    params: dict[str, Any]
    functions: dict[str, Any]  # the extra functions it calls (see FUNCTIONS)
    evidence_facts: tuple[str, ...]  # the facts a finding shows as its evidence


def _plan(rules: RuleSet, rule: Rule) -> RulePlan:
    functions = {n: f for n, f in FUNCTIONS.items() if re.search(rf"\b{n}\s*\(", rule.condition)}
    return RulePlan(
        rule=rule,
        program=rules.program(rule),
        named_facts=tuple(dict.fromkeys(_FACT_REFERENCE.findall(rule.condition))),
        sees_all_facts=bool(_OTHER_FACTS_USE.search(rule.condition)),
        params=dict(rule.params),
        functions=functions,
        evidence_facts=tuple(rule.facts_used),
    )


# (condition, params) -> {visible facts: answer}; see evaluate.
_ANSWERS: dict[Any, dict[Any, tuple[bool | None, str]]] = {}
_MAX_REMEMBERED_CONDITIONS = 512


def _answers_of(plan: RulePlan) -> dict[Any, tuple[bool | None, str]]:
    key = (plan.rule.condition, _freeze(plan.params))
    answers = _ANSWERS.get(key)
    if answers is None:
        if len(_ANSWERS) >= _MAX_REMEMBERED_CONDITIONS:
            _ANSWERS.clear()
        answers = _ANSWERS[key] = {}
    return answers


def _key(visible: dict[str, Any]) -> Any:
    """A hashable key equal exactly when the visible facts are: their values in the
    rule's order (a fact's type is fixed by the schema), lists and maps frozen."""
    key = tuple(visible.values())
    try:
        hash(key)
    except TypeError:
        return tuple(_freeze(v) for v in key)
    return key


def _freeze(value: Any) -> Any:
    """A hashable stand-in for fact values, equal exactly when the values are equal (the
    type is kept: CEL tells 1 from 1.0 from true)."""
    if isinstance(value, dict):
        return ("map", tuple(sorted((k, _freeze(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(_freeze(v) for v in value))
    return (type(value).__name__, value)


# Functions a condition may call besides CEL's own. glob(name, pattern): shell-style
# wildcards against a canonical name, the pattern canonicalised alike.
FUNCTIONS: dict[str, Any] = {"glob": glob_match}
# What each of them gives, for the static type check of a condition.
FUNCTION_RESULTS: dict[str, str] = {"glob": "bool"}


def _decide(
    program: Any,
    visible: dict[str, Any],
    params: dict[str, Any],
    unknown: list[str],
    functions: dict[str, Any] | None = None,
) -> tuple[bool | None, str]:
    """True or False when the known facts decide the condition, None when they do not."""

    def run(facts: dict[str, Any]) -> Any:
        if functions:
            return program.execute(_cel.Context({"facts": facts, "params": params}, functions))
        return program.execute({"facts": facts, "params": params})

    if not unknown:
        try:
            return run(visible) is True, ""
        except _CONDITION_ERRORS as exc:
            return None, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    probe_sets = [_FACT_PROBES.get(f, (None,)) for f in unknown]
    combinations = 1
    for probes in probe_sets:
        combinations *= len(probes)
    if combinations > _MAX_PROBE_COMBINATIONS:
        return None, ""
    answers: set[Any] = set()
    for values in itertools.product(*probe_sets):
        try:
            result = run({**visible, **dict(zip(unknown, values, strict=True))})
        except _CONDITION_ERRORS:
            result = "error"
        answers.add(result is True if result != "error" else "error")
        if len(answers) > 1:
            return None, ""
    answer = answers.pop()
    return (answer if isinstance(answer, bool) else None), ""
