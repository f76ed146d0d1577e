"""The gate and `diff`, wired: scan the change, read or scan what it is compared with,
then hand both to the policy stage (scanner.policy). Like scanner.scan, this file only
calls the stages in order; what counts as new and what fails is decided in
scanner.policy, how a baseline is read in scanner.inputs.baseline.

`run_gate` returns the change's ScanResult with its Verdict; `run_diff` returns a Diff."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from scanner import scan as pipeline
from scanner.config import (
    PYPROJECT,
    Config,
    config_from_text,
    find_config,
    holds_config,
    load_config,
)
from scanner.configured import gate_policy
from scanner.inputs import baseline as baselines
from scanner.inputs.default_target import PROJECT_FILES
from scanner.model import InputError, ScanResult, Snapshot
from scanner.options import ScanOptions
from scanner.policy import Policy, decide, snapshot_of
from scanner.policy.settings import policy_changes
from scanner.policy.snapshot import Diff, compare
from scanner.sources.shared import SharedAnswers

# A context manager giving (on_start, on_done) callbacks: the command's progress bar.
Progress = Callable[[], contextlib.AbstractContextManager]


@dataclass(frozen=True)
class Side:
    """One side of a comparison: what it is called, and its snapshot (with the full scan
    when it was scanned rather than read back from a saved report)."""

    label: str
    snapshot: Snapshot
    result: ScanResult | None = None
    notes: tuple[str, ...] = ()


def project_targets(targets: tuple[str, ...], cwd: Path) -> tuple[str, ...]:
    """The gate's targets: those given, else the project in the current folder (never
    the environment trustmap runs in: a gate judges what the repository declares)."""
    if targets:
        return targets
    for name in PROJECT_FILES:
        if (cwd / name).is_file():
            return (name,)
    raise InputError(
        "no target given and no project in the current folder "
        f"({', '.join(PROJECT_FILES)}): name the manifests to gate"
    )


def scan_targets(targets: tuple[str, ...], options: ScanOptions, progress: Progress) -> ScanResult:
    resolution = pipeline.read_targets(targets, options)
    with progress() as (on_start, on_done):
        return pipeline.scan(resolution, options, on_start=on_start, on_done=on_done)


def read_side(
    spec: str,
    targets: tuple[str, ...],
    options: ScanOptions,
    progress: Progress,
    cwd: Path,
) -> Side:
    """A baseline or a side of `diff`: `git:REF` (the `targets` as they are at REF), a
    saved trustmap output (read back), or any other target (scanned)."""
    if baselines.is_git_spec(spec):
        ref = spec.removeprefix(baselines.GIT_PREFIX)
        with tempfile.TemporaryDirectory(prefix="trustmap-baseline-") as folder:
            at_ref = baselines.files_at_ref(ref, targets, cwd, Path(folder))
            notes = tuple(
                f"{target} does not exist at {spec}: everything it brings is new"
                for target in at_ref.missing
            )
            if not at_ref.targets:
                return Side(spec, Snapshot(spec, {}), None, notes)
            result = scan_targets(at_ref.targets, options, progress)
        snapshot = replace(snapshot_of(result), source=spec)
        return Side(spec, snapshot, result, notes)
    path = cwd / spec
    if not path.exists():
        raise InputError(f"{spec}: no such file (a baseline is a file or git:REF)")
    saved = baselines.saved_snapshot(path)
    if saved is not None:
        return Side(spec, replace(saved, source=spec))
    result = scan_targets((spec,), options, progress)
    return Side(spec, replace(snapshot_of(result), source=spec), result)


def _policy_at(ref: str, settings_path: str | None, cwd: Path, rule_ids) -> Policy | None:
    """The policy as the configuration at `ref` wrote it; None when it cannot be read
    there (then no comparison is claimed)."""
    path = find_config(settings_path, cwd)
    if path is None:
        # No configuration now: one that existed at `ref` and was deleted is a change too.
        path = cwd / "trustmap.toml"
        if baselines.show_at_ref(ref, path, cwd) is None:
            path = cwd / "pyproject.toml"
    content = baselines.show_at_ref(ref, path, cwd)
    if content is None:
        return gate_policy(Config(), rule_ids)
    try:
        text = content.decode("utf-8")
        if path.name == PYPROJECT and not holds_config(text, path):
            # A pyproject.toml without [tool.trustmap] then configured nothing: the
            # default policy, as find_config reads it today.
            return gate_policy(Config(), rule_ids)
        return gate_policy(config_from_text(text, path), rule_ids)
    except (InputError, UnicodeError):
        return None


def _sharing(options: ScanOptions) -> ScanOptions:
    """The options of both sides' scans: what one side's scan read fresh from the index
    or the cache (most packages are on both sides) is reused by the other's."""
    return options if options.shared is not None else replace(options, shared=SharedAnswers())


def run_gate(
    targets: tuple[str, ...],
    baseline_spec: str | None,
    options: ScanOptions,
    config_path: str | None,
    allow_unknown: bool,
    progress: Progress,
    cwd: Path | None = None,
) -> ScanResult:
    """Scan `targets`, compare with the baseline, decide. The verdict says what fails,
    what is unknown and why, what is excepted and what merely exists, and names any change
    this change made to the policy itself."""
    cwd = cwd or Path.cwd()
    targets = project_targets(targets, cwd)
    options = _sharing(options)
    config = load_config(config_path, cwd)
    rule_ids = {rule.id for rule in options.rules.rules} if options.rules else set()
    configured = gate_policy(config, rule_ids)
    policy = replace(configured, on_unknown="warn") if allow_unknown else configured
    result = scan_targets(targets, options, progress)
    baseline: Side | None = None
    notes: list[str] = []
    changes: tuple[str, ...] = ()
    if baseline_spec:
        baseline = read_side(baseline_spec, targets, options, progress, cwd)
        notes.extend(baseline.notes)
        if baselines.is_git_spec(baseline_spec):
            before = _policy_at(baseline_spec.removeprefix(baselines.GIT_PREFIX), config_path,
                                cwd, rule_ids)  # fmt: skip
            if before is None:
                notes.append(f"the policy at {baseline_spec} could not be read: not compared")
            else:
                changes = policy_changes(before, configured)  # the files, not the flags
        else:
            notes.append("the baseline is a file: a change to the policy itself is not checked")
    verdict = decide(result, policy, baseline.snapshot if baseline else None)
    if not allow_unknown and policy.on_unknown == "warn" and verdict.unknown:
        notes.append(f'on-unknown = "warn" in {policy.source}: unknown checks do not fail')
    verdict = replace(
        verdict,
        notes=(*verdict.notes, *notes),
        policy_changes=changes,
        baseline=baseline.label if baseline else None,
    )
    return replace(result, verdict=verdict)


def run_diff(
    old: str,
    new: str,
    options: ScanOptions,
    progress: Progress,
    cwd: Path | None = None,
) -> tuple[Diff, tuple[str, ...]]:
    """Compare two sides, each a file or `git:REF`. A `git:REF` side reads the other
    side's files as they are at REF (the current folder's project when both are refs)."""
    cwd = cwd or Path.cwd()
    options = _sharing(options)
    files = tuple(s for s in (old, new) if not baselines.is_git_spec(s))
    targets = files or project_targets((), cwd)
    sides = [read_side(spec, targets, options, progress, cwd) for spec in (old, new)]
    notes = tuple(note for side in sides for note in side.notes)
    return compare(sides[0].snapshot, sides[1].snapshot), notes


@contextlib.contextmanager
def no_progress() -> Iterator[tuple[Callable[..., None], Callable[[str], None]]]:
    """No progress bar (scanner.scan calls on_start with the count and the names)."""
    yield (lambda total, names=(): None), (lambda name: None)
