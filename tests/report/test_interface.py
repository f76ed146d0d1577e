"""The output-format interface and registry, and what scanner/report/ may import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.cli import scan as scan_command
from scanner.model import InputError
from scanner.report.interface import OutputFormat, format_names, output_format, register

REPORT = Path(__file__).resolve().parents[2] / "scanner" / "report"
# Besides its own modules, report/ reads the model; scanner.names (pure string checks) and
# scanner.wording (how counts and lists are worded) are leaves that import no other scanner
# module, shared with the stages that write notes.
ALLOWED = {"scanner.model", "scanner.names", "scanner.wording"}


def scanner_imports(path: Path) -> set[str]:
    """Every scanner module `path` imports, at the top, in a function or for type checking."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from scanner import graph` imports scanner.graph
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "scanner" or name.startswith("scanner.")}


@pytest.mark.parametrize(
    "path", sorted(REPORT.rglob("*.py")), ids=lambda p: str(p.relative_to(REPORT))
)
def test_report_modules_import_only_the_model_and_each_other(path):
    scanner_modules = {
        ".".join(p.relative_to(REPORT.parent.parent).with_suffix("").parts).removesuffix(
            ".__init__"
        )
        for p in REPORT.parent.rglob("*.py")
    }
    assert {"scanner", "scanner.facts", "scanner.graph"} <= scanner_modules
    for name in scanner_imports(path):
        if name.startswith("scanner.report"):
            continue
        if name not in scanner_modules:  # `from scanner.model import Package`: a name
            continue
        assert name in ALLOWED, f"{path.name} imports {name}"


def test_the_allowed_helpers_are_leaves():
    for module in ALLOWED:
        path = REPORT.parent / (module.removeprefix("scanner.") + ".py")
        assert scanner_imports(path) == set(), module


def test_the_import_check_sees_every_kind_of_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from scanner import graph\nimport scanner.risk\n"
        "def f():\n    from scanner.rules import load_rules\n"
    )
    assert {"scanner.graph", "scanner.risk", "scanner.rules"} <= scanner_imports(sample)


def test_formats_in_the_order_and_names_the_command_line_offers():
    assert format_names() == (
        "table",
        "json",
        "cyclonedx-json",
        "cyclonedx-xml",
        "sarif",
        "markdown",
        "html",
    )
    choice = next(p for p in scan_command.params if p.name == "output_format")
    assert tuple(choice.type.choices) == format_names()
    assert output_format("table").draws
    assert not any(output_format(name).draws for name in format_names()[1:])


def test_an_unknown_format_is_an_input_error():
    with pytest.raises(InputError, match="unknown format 'yaml'"):
        output_format("yaml")


def test_a_name_cannot_be_registered_twice():
    twin = OutputFormat(name="json", position=99, draws=False, render=lambda result, **_: "")
    with pytest.raises(ValueError, match="registered twice"):
        register(twin)
    assert output_format("json") is not twin


def test_listing_formats_loads_neither_rich_nor_cyclonedx():
    """The command line lists every format at start-up; the heavy libraries load only when
    a format that needs them renders."""
    code = (
        "import sys\nfrom scanner.report.interface import format_names\nformat_names()\n"
        "import scanner.cli\n"
        "print(sorted(m for m in ('rich', 'cyclonedx', 'networkx') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
