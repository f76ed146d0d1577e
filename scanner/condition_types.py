"""The type a rule condition gives, found from the expression alone: the static half of
rejecting, at load, a condition that is not boolean (`"1"`, `facts.publisher_count`,
`int(facts.version)`, `facts.name == "x" ? "block" : false`), which would otherwise load
and silently never fire.

The CEL engine (common-expression-language) parses and runs expressions but exposes
neither its syntax tree nor a type checker, so this module reads the expression itself: a
tokenizer and a recursive descent over CEL's grammar (the precedence of its operators,
member access, calls and literals) that yields the types each part can have. A fact's
type comes from the fact schema, a param's from its value in the rule file, CEL's own
functions and macros from the language definition. What it cannot tell (a macro's
variable, a map's value, an unknown function) is `dyn`, and a result that may be `dyn` is
never rejected: the check only says no when every value of the facts would give a
non-boolean. Running the condition on sample facts (scanner.rules) stays as the other line
of defence.

Pure: no engine, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DYN = "dyn"
BOOL = "bool"
# CEL's global functions and what they give (the conversions, size, has, matches...).
_FUNCTION_RESULTS = {
    "size": "int", "has": BOOL, "int": "int", "uint": "uint", "double": "double",
    "string": "string", "bytes": "bytes", "bool": BOOL, "type": "type", "dyn": DYN,
    "duration": "duration", "timestamp": "timestamp", "matches": BOOL,
}  # fmt: skip
# Methods (receiver.name(...)) and macros: what they give whatever the receiver.
_METHOD_RESULTS = {
    "exists": BOOL, "all": BOOL, "exists_one": BOOL, "map": "list", "filter": "list",
    "size": "int", "contains": BOOL, "startsWith": BOOL, "endsWith": BOOL, "matches": BOOL,
}  # fmt: skip
_NUMERIC = {"int", "uint", "double"}

_TOKEN = re.compile(
    r"(?P<space>\s+|//[^\n]*)"
    r"|(?P<raw>(?:[bB]?[rR]|[rR][bB])(?P<rq>\"{3}|'{3}|\"|').*?(?P=rq))"
    r"|(?P<string>[bB]?(?P<q>\"{3}|'{3}|\"|')(?:\\.|(?!(?P=q)).)*?(?P=q))"
    r"|(?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\|\||&&|==|!=|<=|>=|[<>!?:+\-*/%.,()\[\]{}])",
    re.DOTALL,
)
_KINDS = ("space", "raw", "string", "number", "name", "op")


class _Unreadable(Exception):
    """Something this reader does not follow (a message literal, a typo the engine
    rejects anyway): the answer is then `dyn`."""


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) of each token; a character no token starts with is unreadable."""
    out: list[tuple[str, str]] = []
    at = 0
    for match in _TOKEN.finditer(text):  # finditer always ends: no loop of its own here
        if match.start() != at:
            raise _Unreadable
        kind = next(k for k in _KINDS if match.group(k) is not None)
        if kind != "space":
            out.append(("string" if kind == "raw" else kind, match.group()))
        at = match.end()
    if at != len(text):
        raise _Unreadable
    return out


def _number_type(text: str) -> str:
    if text[-1] in "uU":
        return "uint"
    if not text.lower().startswith("0x") and any(c in text for c in ".eE"):
        return "double"
    return "int"


def _string_type(text: str) -> str:
    prefix = text[: len(text) - len(text.lstrip("rRbB"))]
    return "bytes" if "b" in prefix.lower() else "string"


# A value's type as the parser tracks it: a CEL type name, or ("facts",) / ("params",)
# for the two variables, whose fields have known types.
_Type = Any


class _Reader:
    def __init__(
        self,
        tokens: list[tuple[str, str]],
        fact_types: Mapping[str, str],
        param_values: Mapping[str, Any],
        function_results: Mapping[str, str],
    ) -> None:
        self.tokens = tokens
        self.at = 0
        self.fact_types = fact_types
        self.param_values = param_values
        self.function_results = {**_FUNCTION_RESULTS, **function_results}

    # --- tokens ---
    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise _Unreadable
        token = self.tokens[self.at]
        if expected is not None and token[1] != expected:
            raise _Unreadable
        self.at += 1
        return token

    def accept(self, *texts: str) -> str | None:
        if self.peek() in texts:
            return self.take()[1]
        return None

    # --- grammar, lowest precedence first; each gives the set of possible types ---
    def expression(self) -> set[_Type]:
        condition = self.logical_or()
        if self.accept("?"):
            then = self.expression()
            self.take(":")
            return then | self.expression()
        return condition

    def logical_or(self) -> set[_Type]:
        types = self.logical_and()
        while self.accept("||"):
            self.logical_and()
            types = {BOOL}
        return types

    def logical_and(self) -> set[_Type]:
        types = self.relation()
        while self.accept("&&"):
            self.relation()
            types = {BOOL}
        return types

    def relation(self) -> set[_Type]:
        types = self.addition()
        while self.accept("<", "<=", ">", ">=", "==", "!=", "in"):
            self.addition()
            types = {BOOL}
        return types

    def addition(self) -> set[_Type]:
        types = self.multiplication()
        while self.accept("+", "-"):
            self.multiplication()
            types = _arithmetic(types)
        return types

    def multiplication(self) -> set[_Type]:
        types = self.unary()
        while self.accept("*", "/", "%"):
            self.unary()
            types = _arithmetic(types)
        return types

    def unary(self) -> set[_Type]:
        if self.accept("!"):
            # This engine reads `!!x` as `x`, whatever x is: only a bool operand is sure
            # to give a bool.
            return {BOOL} if self.unary() == {BOOL} else {DYN}
        if self.accept("-"):
            return _arithmetic(self.unary())
        return self.member()

    def member(self) -> set[_Type]:
        types = self.primary()
        while True:
            if self.accept("."):
                kind, name = self.take()
                if kind != "name":
                    raise _Unreadable
                if self.accept("("):
                    self.arguments(")")
                    types = {_METHOD_RESULTS.get(name, DYN)}
                else:
                    types = {self.field(t, name) for t in types}
            elif self.accept("["):
                self.expression()
                self.take("]")
                types = {_element(t) for t in types}
            else:
                return types

    def primary(self) -> set[_Type]:
        kind, text = self.take()
        if kind == "number":
            return {_number_type(text)}
        if kind == "string":
            return {_string_type(text)}
        if kind == "name":
            if text in ("true", "false"):
                return {BOOL}
            if text == "null":
                return {"null"}
            if self.accept("("):
                self.arguments(")")
                return {self.function_results.get(text, DYN)}
            if text in ("facts", "params"):
                return {(text,)}
            return {DYN}
        if text == ".":  # a name from the root: .facts
            return self.primary()
        if text == "(":
            types = self.expression()
            self.take(")")
            return types
        if text == "[":
            self.arguments("]")
            return {"list"}
        if text == "{":
            self.arguments("}")
            return {"map"}
        raise _Unreadable

    def arguments(self, closing: str) -> None:
        """Call arguments, list items or map entries up to `closing` (taken); the
        opening bracket is taken already."""
        while self.peek() != closing:
            self.expression()
            if self.accept(":"):
                self.expression()
            if not self.accept(","):
                break
        self.take(closing)

    def field(self, owner: _Type, name: str) -> _Type:
        if owner == ("facts",):
            return self.fact_types.get(name, DYN)
        if owner == ("params",):
            return _value_type(self.param_values[name]) if name in self.param_values else DYN
        return DYN


def _arithmetic(operand: set[_Type]) -> set[_Type]:
    """`+ - * / %` give the operands' type (no overload gives a bool); `dyn` in, `dyn` out."""
    if len(operand) == 1:
        (only,) = operand
        if isinstance(only, str) and only.split("(")[0] in (*_NUMERIC, "string", "bytes", "list"):
            return set(operand)
    return {DYN}


def _element(container: _Type) -> _Type:
    """An item of a list of the schema (`list(string)`); anything else is not known."""
    if isinstance(container, str) and container.startswith("list(") and container.endswith(")"):
        return container[5:-1]
    return DYN


def _value_type(value: Any) -> _Type:
    """The CEL type of a param's TOML value."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return DYN


def result_types(
    condition: str,
    fact_types: Mapping[str, str],
    param_values: Mapping[str, Any],
    function_results: Mapping[str, str] | None = None,
) -> frozenset[str]:
    """Every type `condition` can give, whatever the facts' values: CEL type names
    (`bool`, `int`, `string`, `list(string)`, `null`...), or {"dyn"} when it cannot be told.
    `fact_types`: fact name -> its schema type; `param_values`: the rule's params;
    `function_results`: what the extra functions a condition may call give."""
    try:
        reader = _Reader(_tokens(condition), fact_types, param_values, function_results or {})
        types = reader.expression()
        if reader.peek() is not None:
            raise _Unreadable
    except (_Unreadable, RecursionError):
        return frozenset({DYN})
    named = {t if isinstance(t, str) else "map" for t in types}
    return frozenset({DYN}) if DYN in named else frozenset(named)


def non_boolean_result(
    condition: str,
    fact_types: Mapping[str, str],
    param_values: Mapping[str, Any],
    function_results: Mapping[str, str] | None = None,
) -> str | None:
    """The non-boolean types `condition` can give, in words (`string`, `int or bool`), or
    None when it gives true or false (or its type cannot be told)."""
    types = result_types(condition, fact_types, param_values, function_results)
    if DYN in types or types <= {BOOL}:
        return None
    return " or ".join(sorted(types - {BOOL}))
