"""Writing an output: the registered format `-f/--format` names (scanner.report.interface)
to stdout or a file, the `explain` and `rules` commands' output, and the progress bar while
facts are fetched. Everything shown comes in as arguments: nothing here loads or computes."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scanner.model import Explanation, InputError, ScanResult
from scanner.report.interface import output_format as output_format_named
from scanner.report.text import console as make_console
from scanner.report.text import safe_text

# rich is imported where it is used: machine formats (JSON for scripts, CI) never need it.
if TYPE_CHECKING:
    from rich.console import Console

EXPLAIN_FORMATS = ("table", "json")


def write(
    result: ScanResult, output_format: str, output: str | None, verbose: bool, version: str
) -> None:
    """Render `result` in the registered format `output_format` to stdout, or to the file
    `output`."""
    chosen = output_format_named(output_format)
    if chosen.draws:
        _draw(
            output, lambda console: chosen.render(result, console, verbose=verbose, version=version)
        )
    else:
        _write_text(output, chosen.render(result, verbose=verbose, version=version))


def _write_text(output: str | None, text: str) -> None:
    """`text` to the file `output` (moved into place whole), else to stdout."""
    if output:
        with _open_output(output) as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


def _draw(output: str | None, draw: Callable[[Console], None]) -> None:
    """Draw on a console writing to the file `output` (moved into place whole), else on
    stdout's."""
    if output:
        with _open_output(output) as fh:
            console = make_console(fh)
            draw(console)
            console.file.flush()
    else:
        draw(make_console())


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


def summary_line(result: ScanResult, output: str | None) -> None:
    """`scan -q`: the table report's summary in one line."""
    from scanner.report.terminal import summary_line as line

    _draw(output, lambda console: console.print(line(result)))


@contextlib.contextmanager
def status(message: str, quiet: bool = False) -> Iterator[None]:
    """A spinner on stderr saying what the command waits for; nothing when stderr is not a
    terminal (CI logs, pipes), or when asked to be quiet."""
    if quiet or not sys.stderr.isatty():
        yield
        return
    with make_console(stderr=True).status(message):
        yield


# Columns the progress bar's description, bar, count and time take (up to 99,999
# packages), leaving the rest of the line to the packages still awaited.
PROGRESS_WIDTH = 48


def waiting_text(awaited: Sequence[str], room: int) -> str:
    """`waiting for a, b +N`: the first packages still awaited, as many as fit in `room`
    columns, and how many more; just their number when no name fits."""
    shown: list[str] = []
    for name in awaited:
        more = len(awaited) - len(shown) - 1
        names = ", ".join([*shown, safe_text(name, 40)])
        if len(f"waiting for {names}{f' +{more}' if more else ''}") > room:
            break
        shown.append(safe_text(name, 40))
    more = len(awaited) - len(shown)
    if not shown:
        text = f"waiting for {more}" if more else ""
        return text if len(text) <= room else ""
    return f"waiting for {', '.join(shown)}{f' +{more}' if more else ''}"


@contextlib.contextmanager
def progress_bar(
    quiet: bool = False,
) -> Iterator[tuple[Callable[..., None], Callable[[str], None]]]:
    """A progress bar on stderr while facts are fetched: packages done of all, time, and
    the first few packages still awaited. Nothing when stderr is not a terminal (CI logs,
    pipes), or when asked to be quiet."""
    if quiet or not sys.stderr.isatty():
        yield (lambda total, names=(): None), (lambda name: None)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Column

    console = make_console(stderr=True)
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(bar_width=12),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[waiting]}", markup=False, table_column=Column(no_wrap=True)),
        console=console,
        transient=True,
    )
    task = progress.add_task("Fetching facts", total=None, waiting="")
    awaited: dict[str, None] = {}  # insertion order: roughly the order they are asked for

    def waiting() -> str:
        return waiting_text(list(awaited), console.width - PROGRESS_WIDTH)

    def on_start(total: int, names: Sequence[str] = ()) -> None:
        awaited.update(dict.fromkeys(names))
        progress.update(task, total=total, waiting=waiting())

    def on_done(name: str) -> None:
        awaited.pop(name, None)
        progress.update(task, advance=1, waiting=waiting())

    with progress:
        yield on_start, on_done


# --- rules commands --------------------------------------------------------------------


class RuleView(Protocol):
    """What the rules commands show of a rule (scanner.rules.Rule has it)."""

    id: str
    title: str
    severity: str
    category: str
    enabled: bool
    path: Any
    condition: str
    params: Mapping[str, Any]
    facts_used: Sequence[str]
    motivation: str
    remediation: str
    references: Sequence[str]


class FactView(Protocol):
    """What `trustmap rules facts` shows of a fact (scanner.facts.schema.FactSpec has it)."""

    name: str
    type: str
    source: str
    description: str


def rules_list(rules: Sequence[RuleView]) -> None:
    """Every rule with its severity and title, as configured."""
    from rich import box
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

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


def rule_show(rule_id: str, rule: RuleView | None) -> None:
    """One rule whole; `rule` is None when no rule has the id asked for."""
    from rich.text import Text

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
    explanation: Explanation,
    output_format: str,
    output: str | None,
    version: str,
) -> None:
    """`trustmap explain`'s output, in one of EXPLAIN_FORMATS."""
    from scanner.report.explain import render_explain_json, render_explain_terminal

    if output_format == "json":
        _write_text(output, render_explain_json(result, explanation, version))
    else:
        _draw(output, lambda console: render_explain_terminal(result, explanation, console))


def facts_list(facts: Sequence[FactView]) -> None:
    """Every fact a rule condition can use: its name, type, source and meaning."""
    from rich.table import Table

    table = Table()
    # Fact names are what conditions use: never cut.
    table.add_column("fact", no_wrap=True, min_width=max(len(spec.name) for spec in facts))
    table.add_column("type", no_wrap=True)
    for column in ("source", "meaning"):
        table.add_column(column, ratio=1)
    for spec in facts:
        table.add_row(spec.name, spec.type, spec.source, spec.description)
    make_console().print(table)


# --- the gate and diff ---------------------------------------------------------------------


def step_summary(result: ScanResult, version: str) -> None:
    """In GitHub Actions ($GITHUB_STEP_SUMMARY set), append the verdict to the job's
    summary page, whatever --format wrote to stdout."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path or result.verdict is None:
        return
    text = output_format_named("markdown").render(result, verbose=False, version=version)
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise InputError(f"$GITHUB_STEP_SUMMARY {path}: cannot append: {exc.strerror}") from None


def diff(changes, notes: Sequence[str], output_format: str, output: str | None, version: str):
    """`trustmap diff`: the Diff as text for a terminal, as JSON or as Markdown."""
    from scanner.report.diff import diff_json, diff_text

    if output_format == "json":
        text = diff_json(changes, notes, version)
    elif output_format == "markdown":
        from scanner.report.markdown import render_diff_markdown

        text = render_diff_markdown(changes, notes, version)
    else:
        text = diff_text(changes, notes)
    _write_text(output, text)


# --- the allowlist ---------------------------------------------------------------------------


def review(
    result: ScanResult,
    output_format: str,
    output: str | None,
    verbose: bool,
    version: str,
    standing: bool = False,
) -> None:
    """`trustmap allowlist review`, for a terminal or as JSON."""
    from scanner.report.allowlist import render_review, review_json

    if output_format == "json":
        _write_text(output, review_json(result, version, standing))
    else:
        _draw(output, lambda console: render_review(result, console, verbose, standing))


def lines(messages: Sequence[str], stderr: bool = False) -> None:
    """Short messages (what an edit did, notes), each made safe to print."""
    stream = sys.stderr if stderr else sys.stdout
    for message in messages:
        stream.write(safe_text(message, 1000) + "\n")
