"""Choosing and writing an output: one place that maps `-f/--format` to a report module,
writes it to stdout or a file, and draws the progress bar while facts are fetched."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.model import InputError, ScanResult
from scanner.report.text import console as make_console
from scanner.report.text import safe_text

if TYPE_CHECKING:
    from rich.console import Console

# rich is imported where it is used: machine formats (JSON for scripts, CI) never need it.

_MACHINE_FORMATS = {
    "json": ("scanner.report.json_report", "render_json"),
}


def write(
    result: ScanResult, output_format: str, output: str | None, verbose: bool, version: str
) -> None:
    if output_format == "table":
        if output:
            with _open_output(output) as fh:
                console = make_console(fh)
                render_table(result, console, verbose, version)
                console.file.flush()
        else:
            render_table(result, make_console(), verbose, version)
        return
    if output_format == "json":
        from scanner.report.json_report import render_json

        text = render_json(result, version)
    elif output_format.startswith("cyclonedx-") and result.resolution.document is not None:
        # The input was an SBOM: annotate the user's own document rather than replace it.
        from scanner.report.cyclonedx import annotate_sbom

        text = annotate_sbom(
            result.resolution.document, result, version, output_format.removeprefix("cyclonedx-")
        )
    elif output_format in ("cyclonedx-json", "cyclonedx-xml"):
        from scanner.report.cyclonedx import render_cyclonedx

        text = render_cyclonedx(result, output_format.removeprefix("cyclonedx-"), version)
    else:  # click's Choice keeps this from happening
        raise InputError(f"unknown format {output_format!r}")
    if output:
        with _open_output(output) as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


def render_table(result: ScanResult, console: Console, verbose: bool, version: str) -> None:
    from scanner.report.terminal import render_terminal

    render_terminal(result, console, verbose=verbose, version=version)


@contextlib.contextmanager
def _open_output(path: str):
    """Write next to the target and move into place, so an interrupted run never leaves
    half a report where a whole one was."""
    target = Path(path)
    if target.exists() and not target.is_file():
        # /dev/null, a pipe, a terminal: written as they are. Moving a file onto one
        # would replace it (as root, /dev/null itself).
        try:
            fh = target.open("w", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot write: {exc.strerror}") from None
        with fh:
            yield fh
        return
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fh = temporary.open("w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with fh:
            yield fh
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def progress_bar() -> Iterator[tuple[Callable[[int], None], Callable[[str], None]]]:
    """A progress bar on stderr while facts are fetched; nothing when stderr is not a
    terminal (CI logs, pipes)."""
    if not sys.stderr.isatty():
        yield (lambda total: None), (lambda name: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=make_console(stderr=True),
        transient=True,
    )
    task = progress.add_task("Fetching facts", total=None)
    with progress:
        yield (
            lambda total: progress.update(task, total=total),
            lambda name: progress.advance(task),
        )


# --- rules commands --------------------------------------------------------------------


def rules_list(rules_dirs: tuple[str, ...], config_path: str | None = None) -> None:
    from rich import box
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from scanner.config import load_config, load_rules

    rules = load_rules(load_config(config_path), rules_dirs).rules
    console = make_console()
    # Ids are what people type: never cut or wrapped; the title wraps instead.
    widest = max((len(safe_text(rule.id, 80)) for rule in rules), default=2)
    if console.width < widest + 45:  # too narrow for a table: one block per rule
        for rule in rules:
            head = Text(safe_text(rule.id, 80), style="bold")
            head.append(f"  {rule.severity}, {safe_text(rule.category, 40)}")
            if not rule.enabled:
                head.append(", switched off", style="yellow")
            console.print(head)
            console.print(Padding(Text(safe_text(rule.title, 200)), (0, 0, 0, 4)))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("id", no_wrap=True, min_width=widest)
    for column in ("severity", "category"):
        table.add_column(column, no_wrap=True)
    table.add_column("title")
    for rule in rules:
        table.add_row(
            Text(safe_text(rule.id, 80)),
            Text(rule.severity if rule.enabled else "off", style="" if rule.enabled else "dim"),
            Text(safe_text(rule.category, 40)),
            Text(safe_text(rule.title, 200)),
        )
    console.print(table)


def _paragraphs(text: str) -> str:
    """Prose from a rule file, hand-wrapped in the file: paragraphs kept, lines rejoined
    so the terminal wraps them at its own width."""
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())


def rule_show(rule_id: str, rules_dirs: tuple[str, ...], config_path: str | None = None) -> None:
    from rich.text import Text

    from scanner.config import load_config, load_rules

    rule = load_rules(load_config(config_path), rules_dirs).get(rule_id)
    if rule is None:
        raise InputError(f"no rule {rule_id!r}; `trustmap rules list` shows them")
    console = make_console()
    console.print(Text(safe_text(f"{rule.id}: {rule.title}"), style="bold"))
    for label, value in (
        ("severity", rule.severity),
        ("enabled", "yes" if rule.enabled else "no"),
        ("category", rule.category),
        ("file", rule.path),
        ("condition", rule.condition),
        ("params", ", ".join(f"{k} = {v!r}" for k, v in rule.params.items()) or "none"),
        ("facts used", ", ".join(rule.facts_used)),
    ):
        # The rule file is the project's (or the user's) own text: its line breaks stay.
        console.print(
            Text(f"{label}: ", style="bold") + Text(safe_text(value, 2000, keep_newlines=True))
        )
    console.print(Text("why it matters:", style="bold"))
    console.print(Text(safe_text(_paragraphs(rule.motivation), 4000, keep_newlines=True)))
    console.print(Text("what to do:", style="bold"))
    console.print(Text(safe_text(_paragraphs(rule.remediation), 4000, keep_newlines=True)))
    if rule.references:
        console.print(Text("references:", style="bold"))
        for reference in rule.references:
            console.print(Text(f"  {safe_text(reference)}"))


# --- explain -----------------------------------------------------------------------------


def explain(
    result: ScanResult,
    name: str,
    output_format: str,
    output: str | None,
    max_paths: int,
    version: str,
) -> None:
    from scanner.report.explain import explain as explain_package
    from scanner.report.explain import render_explain_json, render_explain_terminal

    explanation = explain_package(result, name, max_paths)
    if output_format == "json":
        text = render_explain_json(result, explanation, version)
        if output:
            with _open_output(output) as fh:
                fh.write(text)
        else:
            sys.stdout.write(text)
        return
    if output:
        with _open_output(output) as fh:
            console = make_console(fh)
            render_explain_terminal(result, explanation, console)
            console.file.flush()
    else:
        render_explain_terminal(result, explanation, make_console())


def facts_list() -> None:
    from rich.table import Table

    from scanner.facts.schema import FACTS

    table = Table()
    # Fact names are what conditions use: never cut.
    table.add_column("fact", no_wrap=True, min_width=max(len(spec.name) for spec in FACTS))
    table.add_column("type", no_wrap=True)
    for column in ("source", "meaning"):
        table.add_column(column, ratio=1)
    for spec in FACTS:
        table.add_row(spec.name, spec.type, spec.source, spec.description)
    make_console().print(table)
