"""Command line: parse arguments, call the pipeline, print. No logic lives here.

Exit codes: 0 clean, 1 policy violated, 2 usage or input error, 3 incomplete data with
fail-closed on, 4 internal error (a bug: please report it).
"""

from __future__ import annotations

import gc
import os
import signal
import sys

import click

from scanner.model import InputError, TrustmapError
from scanner.report.interface import format_names
from scanner.report.render import EXPLAIN_FORMATS

EXIT_INPUT = 2
EXIT_INTERNAL = 4


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("trustmap")
    except PackageNotFoundError:
        return "0+unknown"


def _fail(message: str, code: int) -> None:
    from scanner.report.text import safe_text

    # Several mistakes (a policy table's) are one line each, every one prefixed.
    for line in message.splitlines()[:50] or [""]:
        click.echo(f"trustmap: error: {safe_text(line, 1000)}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Every command ends in one clear line on error, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TrustmapError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt as exc:
            how = " by SIGTERM" if isinstance(exc, _Terminated) else ""
            _fail(f"interrupted{how}; what was fetched so far is kept in the cache", EXIT_INPUT)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:
            hint = "set TRUSTMAP_DEBUG=1 for the traceback, and please report it"
            if os.environ.get("TRUSTMAP_DEBUG"):
                import traceback

                traceback.print_exc()
                hint = "the traceback is above; please report it"
            # Exit 4 either way: a script must not mistake a bug for exit 1, a policy result.
            _fail(f"internal error: {type(exc).__name__}: {exc} ({hint})", EXIT_INTERNAL)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trustmap", prog_name="trustmap")
def main() -> None:
    """trustmap: who can ship code into a Python environment, and which of them are
    thinly watched."""


def _options(*options):
    """A decorator that applies `options` in the order they are listed (as --help shows)."""

    def apply(command):
        for option in reversed(options):
            command = option(command)
        return command

    return apply


# Shared by `scan`, `explain` and the `rules` commands.
_config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Configuration file (default: ./trustmap.toml, else [tool.trustmap] in ./pyproject.toml).",
)
_rules_dir_option = click.option(
    "--rules",
    "rules_dirs",
    multiple=True,
    type=click.Path(),
    help="Extra folder of rule files (repeatable; after those in the config).",
)

# What to scan and how: shared by `scan` and `explain`. The values reach the command as
# keyword arguments named as the fields of scanner.options.CommandLineSettings.
target_options = _options(
    _config_option,
    click.option(
        "--index-url",
        metavar="URL",
        help="Simple-index URL, as pip takes it (default: config index-url, $PIP_INDEX_URL, "
        "else PyPI).",
    ),
    click.option(
        "--offline", is_flag=True, help="Answer from the cache alone; say which facts are missing."
    ),
    click.option(
        "--refresh", is_flag=True, help="Ignore the cache's time-to-live and ask the index again."
    ),
    click.option(
        "--cache",
        "cache_path",
        type=click.Path(dir_okay=False),
        help="Cache database (default: the user cache folder; $TRUSTMAP_CACHE_DIR overrides).",
    ),
    _rules_dir_option,
    click.option(
        "--python-version", metavar="X.Y", help="Resolve declared requirements for this Python."
    ),
    click.option(
        "--platform",
        type=click.Choice(["linux", "macos", "windows"]),
        help="Resolve declared requirements, and read lockfiles, for this platform "
        "(default: this machine's).",
    ),
    click.option(
        "--all-platforms",
        is_flag=True,
        help="Keep every marker branch that holds on any platform: a conservative closure.",
    ),
    click.option("--extra", "extras", multiple=True, help="pyproject.toml extra to include."),
    click.option("--all-extras", is_flag=True, help="Include every pyproject.toml extra."),
    click.option("--group", "groups", multiple=True, help="Dependency group (PEP 735 / Poetry)."),
    click.option("--all-groups", is_flag=True, help="Include every dependency group."),
    click.option("--pre", "prereleases", is_flag=True, help="Allow pre-releases when resolving."),
    click.option(
        "--request-timeout",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="Longest one request to the index may take, body included (default: config "
        "request-timeout, else 30).",
    ),
    click.option(
        "--scan-timeout",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="Longest the scan's network work may take; what is left is unknown, with the "
        "reason (default: config scan-timeout, else 600).",
    ),
    click.option(
        "--other-indexes/--no-other-indexes",
        default=None,
        help="Look packages a lockfile locked from another index up on that index, without "
        "credentials (default: config other-indexes, else on). Off: their facts are unknown.",
    ),
    click.option("--no-osv", "no_osv", is_flag=True, help="Do not ask OSV for vulnerabilities."),
    click.option(
        "--no-github", "no_github", is_flag=True, help="Do not ask GitHub about repositories."
    ),
    click.option("--no-depsdev", "no_depsdev", is_flag=True, help="Do not ask deps.dev."),
    click.option(
        "--no-scorecard", "no_scorecard", is_flag=True, help="Do not ask the Scorecard API."
    ),
    click.option(
        "--no-pypistats", "no_pypistats", is_flag=True, help="Do not ask pypistats for downloads."
    ),
)


def _output_options(formats: tuple[str, ...]):
    return _options(
        click.option(
            "-f",
            "--format",
            "output_format",
            type=click.Choice(formats),
            default="table",
            show_default=True,
            help="Output format.",
        ),
        click.option(
            "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to FILE."
        ),
    )


def _run_scan(targets: tuple[str, ...], settings: dict, quiet: bool = False):
    from scanner.configured import scan_options
    from scanner.fetch_ahead import fetching_ahead
    from scanner.options import CommandLineSettings

    # One clock for the whole scan: resolving and fact gathering share scan-timeout.
    options = scan_options(CommandLineSettings(**settings)).started()
    # Started before the pipeline is imported: its imports overlap the fetching.
    with fetching_ahead(targets, options) as ahead:
        from scanner import scan as pipeline
        from scanner.report import render

        with render.status("Reading the inputs; resolving what is not pinned", quiet):
            resolution = pipeline.read_targets(targets, options)
        with render.progress_bar(quiet) as (on_start, on_done):
            result = pipeline.scan(resolution, options, on_start, on_done, ahead)
    return result


def _exit_on_fatal_problems(result) -> None:
    fatal = [p for p in result.resolution.problems if p.fatal]
    if fatal:
        for problem in fatal:
            click.echo(f"trustmap: error: {problem.message}", err=True)
        sys.exit(EXIT_INPUT)


@main.command(short_help="Who can ship code into an environment, project or lockfile.")
@click.argument("targets", nargs=-1)
@_output_options(format_names())
@click.option("-v", "--verbose", is_flag=True, help="Show every finding and every fact.")
@click.option(
    "-q", "--quiet", is_flag=True, help="Print only the summary line (and no progress bar)."
)
@target_options
def scan(
    targets: tuple[str, ...],
    output_format: str,
    output: str | None,
    verbose: bool,
    quiet: bool,
    **settings,
) -> None:
    """Scan TARGETS (default: the activated virtual environment, else the project in the
    current folder, else the python3 on PATH; the header says which). Each is an installed
    environment (a virtual-environment, conda or site-packages folder, or a Python
    executable), a requirements file, a pyproject.toml, a lockfile (uv.lock, poetry.lock,
    Pipfile.lock, pylock.toml, pip-compile output), a CycloneDX JSON SBOM, a project
    folder holding one of these, or a requirement such as `name==1.0`. Nothing is run or
    installed: metadata is read from disk and from the index."""
    from scanner.policy import REPORT_ONLY, decide
    from scanner.report import render

    if quiet and (verbose or output_format != "table"):
        raise InputError("-q prints the table report's summary line alone: not with -v or -f")
    result = _run_scan(targets, settings, quiet)
    if quiet:
        render.summary_line(result, output)
    else:
        render.write(result, output_format, output, verbose=verbose, version=_version())
    _exit_on_fatal_problems(result)
    # `scan` reports: its policy never fails (the gate applies a stricter one).
    verdict = decide(result, REPORT_ONLY)
    if verdict.exit_code:
        sys.exit(verdict.exit_code)


def _settings_and_options(settings: dict):
    from scanner.configured import scan_options
    from scanner.options import CommandLineSettings

    typed = CommandLineSettings(**settings)
    return typed, scan_options(typed).started()


@main.command(short_help="Gate a change: fail on what it adds to the baseline.")
@click.argument("targets", nargs=-1)
@click.option(
    "--baseline",
    metavar="FILE|git:REF",
    help="What the change is compared with: a saved `trustmap scan -f json` or CycloneDX output, "
    "a lockfile or requirements file, or git:REF (the same files as they are at REF). "
    "Without it every finding is new.",
)
@click.option(
    "--allow-unknown",
    is_flag=True,
    help="Pass when checks are undetermined for want of facts (default: exit 3, fail closed).",
)
@_output_options(format_names())
@click.option("-v", "--verbose", is_flag=True, help="Show the whole scan, and every item.")
@target_options
def gate(
    targets: tuple[str, ...],
    baseline: str | None,
    allow_unknown: bool,
    output_format: str,
    output: str | None,
    verbose: bool,
    **settings,
) -> None:
    """Gate a change: scan TARGETS (default: the project in the current folder) as `scan`
    does, compare with --baseline, and apply the policy ([tool.trustmap.policy]). Exit 0:
    pass; 1: a new finding at or above fail-on (default high), or a denied package; 3:
    incomplete, a check that could fail is undetermined for a new or changed package;
    2: bad input."""
    from scanner import gate as gate_stage
    from scanner.report import render

    typed, options = _settings_and_options(settings)
    result = gate_stage.run_gate(
        targets, baseline, options, typed.config_path, allow_unknown, render.progress_bar
    )
    render.write(result, output_format, output, verbose=verbose, version=_version())
    render.step_summary(result, _version())
    _exit_on_fatal_problems(result)
    if result.verdict is not None and result.verdict.exit_code:
        sys.exit(result.verdict.exit_code)


@main.command(short_help="What changed between two sides: packages, publishers, findings.")
@click.argument("old")
@click.argument("new")
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(("table", "json", "markdown")),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to FILE."
)
@target_options
def diff(old: str, new: str, output_format: str, output: str | None, **settings) -> None:
    """What changed from OLD to NEW (each a saved trustmap output, a manifest or lockfile,
    or git:REF for the other side's files as they are at REF): packages added, removed
    and changed; accounts and organisations that can now publish into the closure, and
    those gone; findings added and resolved; ownership changes."""
    from scanner import gate as gate_stage
    from scanner.report import render

    _, options = _settings_and_options(settings)
    changes, notes = gate_stage.run_diff(old, new, options, render.progress_bar)
    render.diff(changes, notes, output_format, output, _version())


@main.command(short_help="Render a saved `scan -f json` result in another format.")
@click.argument("result_file", metavar="RESULT.json", type=click.Path(dir_okay=False))
@_output_options(tuple(name for name in format_names() if name != "json"))
@click.option("-v", "--verbose", is_flag=True, help="Show every finding and every fact.")
def report(result_file: str, output_format: str, output: str | None, verbose: bool) -> None:
    """Render a saved result (`trustmap scan -f json -o RESULT.json`) in another format,
    without scanning again: CI keeps one artifact and renders HTML, Markdown, SARIF or an
    SBOM from it later. Nothing is fetched."""
    from scanner.report import render
    from scanner.scan import saved_result

    result = saved_result(result_file)
    render.write(result, output_format, output, verbose=verbose, version=_version())


@main.command(short_help="One package whole: publishers, facts, findings, paths.")
@click.argument("name")
@click.argument("targets", nargs=-1)
@_output_options(EXPLAIN_FORMATS)
@click.option(
    "--paths",
    "max_paths",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="List at most N paths from top-level packages (the rest are counted).",
)
@target_options
def explain(
    name: str,
    targets: tuple[str, ...],
    output_format: str,
    output: str | None,
    max_paths: int,
    **settings,
) -> None:
    """Explain one package NAME of the closure of TARGETS (as for `scan`): its facts, known
    and unknown (with why), its findings with their evidence, who can publish it, how many
    packages depend on it, and every path from a top-level package that pulls it in."""
    from scanner.explain import explain as explain_package
    from scanner.report import render

    result = _run_scan(targets, settings)
    explanation = explain_package(result, name, max_paths)
    render.explain(result, explanation, output_format, output, _version())
    _exit_on_fatal_problems(result)


@main.group(short_help="The rules: list them, show one, list the facts they use.")
def rules() -> None:
    """The rules: list them, show one, and list the facts their conditions can use."""


_rules_options = _options(_rules_dir_option, _config_option)


def _configured_rules(rules_dirs: tuple[str, ...], config_path: str | None):
    from scanner.config import load_config
    from scanner.configured import load_rules

    return load_rules(load_config(config_path), rules_dirs)


@rules.command("list")
@_rules_options
def rules_list(rules_dirs: tuple[str, ...], config_path: str | None) -> None:
    """List every rule with its severity and title, as configured."""
    from scanner.report import render

    render.rules_list(_configured_rules(rules_dirs, config_path).rules)


@rules.command("show")
@click.argument("rule_id")
@_rules_options
def rules_show(rule_id: str, rules_dirs: tuple[str, ...], config_path: str | None) -> None:
    """Show one rule whole: why it matters, its condition, params and remedy."""
    from scanner.report import render

    render.rule_show(rule_id, _configured_rules(rules_dirs, config_path).get(rule_id))


@rules.command("facts")
def rules_facts() -> None:
    """List every fact a rule condition can use: its name, type and source."""
    from scanner.fact_listing import listed_facts
    from scanner.report import render

    render.facts_list(listed_facts())


# --- the allowlist ---------------------------------------------------------------------------


@main.group(short_help="Trusted sources only: init, check, review, approve, export.")
def allowlist() -> None:
    """Trusted sources only: the allowlist file (trustmap-allowlist.toml) of the packages,
    PyPI organisations, accounts and publishers the project trusts; checked against the
    closure, reviewed, edited and exported for installers."""


_allowlist_option = click.option(
    "--allowlist",
    "allowlist_file",
    type=click.Path(dir_okay=False),
    help="The allowlist file (default: config `allowlist`, else ./trustmap-allowlist.toml).",
)


def _allowlist_at(allowlist_file: str | None, settings: dict):
    from pathlib import Path

    from scanner.allowlist import allowlist_path

    return allowlist_path(allowlist_file, settings.get("config_path"), Path.cwd())


@allowlist.command("init")
@click.argument("targets", nargs=-1)
@_allowlist_option
@click.option("--by", help="Who approves (default: git user.email, else the login name).")
@click.option("--force", is_flag=True, help="Replace an existing allowlist.")
@target_options
def allowlist_init(targets, allowlist_file, by, force, **settings) -> None:
    """Start an allowlist of everything TARGETS use today (default: the project in the
    current folder), each entry marked as the baseline with its version, file hashes and
    the facts it is approved on (publishers, organisation, repository, provenance)."""
    from pathlib import Path

    from scanner import allowlist as stage
    from scanner.report import render

    path = _allowlist_at(allowlist_file, settings)
    _, options = _settings_and_options(settings)
    made = stage.run_init(
        targets, path, options, stage.approver(by, Path.cwd()), force, render.progress_bar,
        Path.cwd(),
    )  # fmt: skip
    render.lines([f"wrote {path}: {len(made.packages)} packages, marked as the baseline"])


@allowlist.command("check")
@click.argument("targets", nargs=-1)
@_allowlist_option
@click.option(
    "--allow-unknown",
    is_flag=True,
    help="Pass when a fact the decision needs is unknown (default: exit 3, fail closed).",
)
@_output_options(format_names())
@click.option("-v", "--verbose", is_flag=True, help="Show every item.")
@target_options
def allowlist_check(
    targets, allowlist_file, allow_unknown, output_format, output, verbose, **settings
) -> None:
    """Check that every package TARGETS use is allowed: by its entry (at the version, and
    the files where the entry lists hashes) or by a trusted organisation, account or
    publisher, and that no approval's recorded facts have changed. Exit 0: all allowed;
    1: a package is not allowed or an approval re-opened; 3: a fact the decision needs is
    unknown; 2: bad input."""
    from pathlib import Path

    from scanner import allowlist as stage
    from scanner.report import render

    path = _allowlist_at(allowlist_file, settings)
    _, options = _settings_and_options(settings)
    result = stage.run_check(targets, path, options, allow_unknown, render.progress_bar, Path.cwd())
    render.write(result, output_format, output, verbose=verbose, version=_version())
    render.step_summary(result, _version())
    _exit_on_fatal_problems(result)
    if result.verdict is not None and result.verdict.exit_code:
        sys.exit(result.verdict.exit_code)


@allowlist.command("review")
@click.argument("targets", nargs=-1)
@_allowlist_option
@_output_options(("table", "json"))
@click.option(
    "--standing",
    is_flag=True,
    help="Also the allowed packages worth a look: baseline entries not reviewed since "
    "init, and approvals that expire within 30 days.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show every candidate.")
@target_options
def allowlist_review(
    targets, allowlist_file, output_format, output, standing, verbose, **settings
) -> None:
    """The packages not yet allowed (or whose approval re-opened), riskiest first, each
    with the evidence, who can publish it, its repository and provenance, the path that
    pulls it in and the command that approves it."""
    from pathlib import Path

    from scanner import allowlist as stage
    from scanner.report import render

    path = _allowlist_at(allowlist_file, settings)
    _, options = _settings_and_options(settings)
    result = stage.run_check(targets, path, options, False, render.progress_bar, Path.cwd())
    render.review(result, output_format, output, verbose, _version(), standing)


@allowlist.command("approve")
@click.argument("name")
@click.argument("targets", nargs=-1)
@_allowlist_option
@click.option("--version", "versions", metavar="SPEC",
              help="Allowed versions, a PEP 440 specifier (default: ==the version in use, "
              "with its file hashes).")  # fmt: skip
@click.option("--reason", required=True, help="Why it is trusted (a ticket, a review).")
@click.option("--by", help="Who approves (default: git user.email, else the login name).")
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]), help="Review again by this date.")
@click.option("--workflow", default="*", show_default=True,
              help="For publisher:OWNER/REPO, the workflow file (a glob).")  # fmt: skip
@target_options
def allowlist_approve(
    name, targets, allowlist_file, versions, reason, by, expires, workflow, **settings
) -> None:
    """Approve NAME as TARGETS use it, recording the facts it is approved on. NAME is a
    package, org:NAME (a PyPI organisation, with its members now), account:NAME, or
    publisher:OWNER/REPO (a PEP 740 trusted publisher). Replaces an earlier approval."""
    from datetime import date
    from pathlib import Path

    from scanner import allowlist as stage
    from scanner.model import Approval
    from scanner.report import render

    path = _allowlist_at(allowlist_file, settings)
    _, options = _settings_and_options(settings)
    approval = Approval(
        reason.strip(), stage.approver(by, Path.cwd()), date.today(),
        expires.date() if expires else None,
    )  # fmt: skip
    done = stage.run_approve(
        name, targets, path, approval, versions, workflow, options, render.progress_bar,
        Path.cwd(),
    )  # fmt: skip
    verb = "re-approved" if done.replaced else "approved"
    render.lines([f"{verb} {done.what} at {done.where}", *(f"note: {n}" for n in done.notes)])


@allowlist.command("revoke")
@click.argument("name")
@_allowlist_option
@click.option("--workflow", help="For publisher:OWNER/REPO with several entries: which one.")
@_config_option
def allowlist_revoke(name, allowlist_file, workflow, config_path) -> None:
    """Remove NAME (a package, org:NAME, account:NAME or publisher:OWNER/REPO) from the
    allowlist."""
    from scanner import allowlist as stage
    from scanner.report import render

    path = _allowlist_at(allowlist_file, {"config_path": config_path})
    render.lines([f"revoked {stage.run_revoke(name, path, workflow)} in {path}"])


@allowlist.command("prune")
@click.argument("targets", nargs=-1)
@_allowlist_option
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@target_options
def allowlist_prune(targets, allowlist_file, dry_run, **settings) -> None:
    """Remove the entries nothing TARGETS use needs any more, and the expired ones."""
    from pathlib import Path

    from scanner import allowlist as stage
    from scanner.report import render

    path = _allowlist_at(allowlist_file, settings)
    _, options = _settings_and_options(settings)
    removed = stage.run_prune(targets, path, options, dry_run, render.progress_bar, Path.cwd())
    verb = "would remove" if dry_run else "removed"
    render.lines(
        [f"{verb} {section} {name}: {why}" for section, name, why in removed]
        or [f"nothing to prune in {path}"]
    )


@allowlist.command("export")
@_allowlist_option
@click.option(
    "-f", "--format", "export_format", required=True,
    type=click.Choice(("requirements", "constraints", "simple-index")),
    help="requirements: pins with --hash for `pip install --require-hashes`; constraints: "
    "for `pip install -c`; simple-index: a static PEP 503/691 index of the approved files "
    "(-o DIR) for `pip install --index-url file://DIR`.",
)  # fmt: skip
@click.option("-o", "--output", help="Write to FILE (for simple-index: the folder DIR).")
@target_options
def allowlist_export(allowlist_file, export_format, output, **settings) -> None:
    """Export the allowlist's package entries for installers (file hashes and URLs are
    read from the index for the entries that list no hashes)."""
    from scanner import allowlist as stage
    from scanner.report import render

    path = _allowlist_at(allowlist_file, settings)
    _, options = _settings_and_options(settings)
    pages, notes = stage.run_export(path, export_format, options)
    text = stage.write_export(pages, output)
    if text is not None:
        sys.stdout.write(text)
    render.lines([f"note: {n}" for n in notes], stderr=True)


@main.group()
def db() -> None:
    """The cache database: load data for offline scans into it."""


@db.command("import-osv")
@click.argument("dump", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False),
    help="Cache database (default: the user cache folder; $TRUSTMAP_CACHE_DIR overrides).",
)
def db_import_osv(dump: str, cache_path: str | None) -> None:
    """Load OSV's PyPI dump (all.zip, a zip of one JSON record per advisory) into the
    cache database: scans then match pinned versions against it offline, or when OSV
    cannot be reached."""
    from pathlib import Path

    from scanner.sources.osv import import_dump
    from scanner.store import Store

    store = Store(cache_path)
    try:
        count = import_dump(store, Path(dump))
    finally:
        store.close()
    click.echo(f"imported {count} OSV advisories from {dump}")


class _Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a cancelled CI job): ended as Ctrl-C is, so that the workers are
    stopped, the cache is left consistent and the user reads one line."""


def _on_sigterm(signum: int, frame: object) -> None:
    # A second SIGTERM ends the process outright, should the orderly way hang.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise _Terminated


def entry() -> None:
    """The `trustmap` command. After the command has run and its output is flushed, the
    process ends at once: tearing down the interpreter's objects (the graph, every
    package's facts) would add a quarter of a second to every scan and do nothing."""
    code = 0
    signal.signal(signal.SIGTERM, _on_sigterm)
    # What a command reads (every package's records and facts) lives until it ends: the
    # cyclic collector's full passes over that growing heap took 0.15-0.25 s of a gate's
    # 1.1 s and freed nothing. Young objects are still collected, less often.
    gc.set_threshold(5_000, 20, 100)
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if isinstance(exit_.code, str):
            click.echo(exit_.code, err=True)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (BrokenPipeError, OSError):
                pass  # the reader went away (`trustmap scan | head`): nothing to tell it
    os._exit(code)


if __name__ == "__main__":
    entry()
