"""`trustmap allowlist ...` wired: read the allowlist file (scanner.inputs.allowlist_file),
scan the target as the gate does, hand both to the policy stage
(scanner.policy.allowlist), and write what an edit or an export produced. Like
scanner.gate, this file only calls the stages in order; what is allowed is decided in
scanner.policy.allowlist, how the file is read and edited in scanner.inputs.allowlist_file,
how exports look in scanner.report.allowlist_export."""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import subprocess
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from scanner.config import load_config
from scanner.gate import Progress, project_targets, scan_targets
from scanner.inputs import allowlist_file as files
from scanner.model import (
    Allowlist,
    Approval,
    IndexFile,
    InputError,
    ScanResult,
    TrustedAccount,
    TrustedOrganization,
    TrustedPublisher,
)
from scanner.names import is_project_name
from scanner.options import ScanOptions
from scanner.policy import allowlist as policy
from scanner.sources.index import IndexClient
from scanner.sources.pypi import index_url_from_environment
from scanner.store import Store

BASELINE_REASON = "baseline: in use when the allowlist was started"


def allowlist_path(given: str | None, config_path: str | None, cwd: Path) -> Path:
    """--allowlist, else `allowlist` in the configuration, else ./trustmap-allowlist.toml."""
    if given:
        return cwd / given
    configured = load_config(config_path, cwd).allowlist_path
    return configured if configured is not None else cwd / files.DEFAULT_NAME


def approver(given: str | None, cwd: Path) -> str:
    """--by, else the git identity of the repository, else the login name."""
    if given and given.strip():
        return given.strip()
    try:
        done = subprocess.run(
            ["git", "config", "user.email"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return getpass.getuser()


def _scan(targets: tuple[str, ...], options: ScanOptions, progress: Progress, cwd: Path):
    return scan_targets(project_targets(targets, cwd), options, progress)


def run_check(
    targets: tuple[str, ...],
    path: Path,
    options: ScanOptions,
    allow_unknown: bool,
    progress: Progress,
    cwd: Path,
    today: date | None = None,
) -> ScanResult:
    """The closure of `targets` judged by the allowlist: the ScanResult with its Verdict,
    and the allowlist's checks among its rules (for SARIF)."""
    allowlist = files.read_allowlist(path)  # a broken file fails before any request
    result = _scan(targets, options, progress, cwd)
    verdict = policy.check_allowlist(
        result, allowlist, today or date.today(), "warn" if allow_unknown else "fail"
    )
    verdict = replace(verdict, source=str(path))
    return replace(result, verdict=verdict, rules={**result.rules, **policy.ALLOWLIST_RULES})


def run_init(
    targets: tuple[str, ...],
    path: Path,
    options: ScanOptions,
    by: str,
    force: bool,
    progress: Progress,
    cwd: Path,
    today: date | None = None,
) -> Allowlist:
    """An allowlist of everything the closure uses today, each entry marked as the
    baseline with the facts it is approved on."""
    if path.exists() and not force:
        raise InputError(
            f"{path}: already exists; `allowlist approve` and `prune` edit it (--force starts over)"
        )
    today = today or date.today()
    result = _scan(targets, options, progress, cwd)
    approval = Approval(BASELINE_REASON, by, today)
    entries = {
        name: policy.approval_for(result, name, approval, baseline=True)
        for name, facts in sorted(result.facts.items())
        if facts.values.get("first_party") is not True
    }
    allowlist = Allowlist(str(path), entries)
    files.write_atomically(path, files.render_allowlist(allowlist))
    return allowlist


@dataclass(frozen=True)
class Subject:
    """What `approve` and `revoke` name: a package, `org:NAME`, `account:NAME` or
    `publisher:OWNER/REPO`."""

    kind: Literal["packages", "organizations", "accounts", "publishers"]
    name: str


def subject(text: str) -> Subject:
    prefixes = {"org:": "organizations", "account:": "accounts", "publisher:": "publishers"}
    for prefix, kind in prefixes.items():
        if text.startswith(prefix):
            name = text.removeprefix(prefix).strip()
            valid = files.GLOB.match(name) if kind == "publishers" else files.ACCOUNT.match(name)
            if not name or not valid or (kind == "publishers" and "/" not in name):
                raise InputError(f"{text!r}: not a valid {prefix.rstrip(':')} name")
            return Subject(kind, name)  # type: ignore[arg-type]
    if not is_project_name(text):
        raise InputError(
            f"{text!r}: not a package name (or org:NAME, account:NAME, publisher:OWNER/REPO)"
        )
    return Subject("packages", str(canonicalize_name(text)))


@dataclass(frozen=True)
class Approved:
    """What an approval wrote, for the command to say."""

    what: str
    replaced: bool
    where: str
    notes: tuple[str, ...] = ()


def run_approve(
    name: str,
    targets: tuple[str, ...],
    path: Path,
    approval: Approval,
    versions: str | None,
    workflow: str,
    options: ScanOptions,
    progress: Progress,
    cwd: Path,
) -> Approved:
    what = subject(name)
    if not approval.reason.strip():
        raise InputError("--reason: say why, in words")
    if approval.expires is not None and approval.expires < approval.approved_on:
        raise InputError(f"--expires {approval.expires}: the date has passed")
    if versions is not None:
        try:
            SpecifierSet(versions)
        except InvalidSpecifier:
            raise InputError(
                f"--version {versions!r}: not a version specifier (==1.0, >=2,<3)"
            ) from None
    editor = files.AllowlistEditor(path)  # a broken file fails before any request
    if what.kind == "accounts":
        replaced = editor.put(
            "accounts", what.name, files.account_dict(TrustedAccount(what.name, approval))
        )
        editor.save()
        return Approved(f"account {what.name}", replaced, _where(path, "accounts", what.name))
    result = _scan(targets, options, progress, cwd)
    if what.kind == "organizations":
        members = policy.organization_members(result, what.name)
        if members is None:
            raise InputError(
                f"org:{what.name}: who can publish its packages is unknown, so its members "
                "cannot be recorded"
            )
        if not members:
            raise InputError(f"org:{what.name}: owns no package of {result.resolution.source}")
        entry = TrustedOrganization(what.name, approval, members)
        replaced = editor.put("organizations", what.name, files.organization_dict(entry))
        editor.save()
        notes = (f"members recorded: {', '.join(members)}",)
        return Approved(
            f"organisation {what.name}", replaced, _where(path, "organizations", what.name), notes
        )
    if what.kind == "publishers":
        return _approve_publisher(editor, path, what.name, workflow, approval, result)
    notes: list[str] = []
    if what.name not in result.packages:
        # Approved ahead of its use: its facts as the index has them now.
        result = scan_targets((f"{what.name}{versions or ''}",), options, progress)
        notes.append(f"{what.name} is not in the closure: approved as the index has it now")
    facts = result.facts.get(what.name)
    if facts is not None and facts.values.get("known_to_index") is False:
        raise InputError(f"{what.name}: the index has no project of this name")
    entry = policy.approval_for(result, what.name, approval, versions)
    if entry.facts.publishers is None:
        why = facts.unknown.get("publishers", "") if facts is not None else ""
        notes.append(
            f"who can publish {what.name} is unknown ({why}): the approval records no "
            "publishers, so a change of hands cannot re-open it; approve again when it is known"
        )
    in_use = result.packages[what.name].version
    if in_use and policy.version_allowed(entry.versions, in_use) is False:
        notes.append(f"the version in use, {in_use}, is not in {entry.versions}: check will fail")
    replaced = editor.put("packages", what.name, files.package_dict(entry))
    editor.save()
    label = f"{what.name} {entry.versions or '(any version)'}"
    return Approved(label, replaced, _where(path, "packages", what.name), tuple(notes))


def _approve_publisher(editor, path, repository, workflow, approval, result) -> Approved:
    probe = TrustedPublisher(repository, approval, workflow)
    covered = policy.publisher_packages(result, probe)
    if not covered:
        raise InputError(
            f"publisher:{repository} (workflow {workflow}): attests no package of "
            f"{result.resolution.source}: nothing to approve"
        )
    kinds = {str(result.facts[n].values.get("provenance_publisher") or "") for n in covered}
    entry = TrustedPublisher(
        repository, approval, workflow, kinds.pop() if len(kinds) == 1 else "", covered
    )
    for index, known in enumerate(files.read_allowlist(path).publishers):
        if (known.repository, known.workflow) == (repository, workflow):
            editor.remove("publishers", index)
            break
    editor.append_publisher(files.publisher_dict(entry))
    editor.save()
    return Approved(
        f"publisher {entry.label}", False, str(path), (f"covers: {', '.join(covered)}",)
    )


def _where(path: Path, section: str, name: str) -> str:
    line = files.Layout(path.read_text(encoding="utf-8")).line_of((section, name))
    return f"{path}:{line}" if line else str(path)


def run_revoke(name: str, path: Path, workflow: str | None) -> str:
    what = subject(name)
    editor = files.AllowlistEditor(path)
    if what.kind == "publishers":
        matching = [
            i
            for i, p in enumerate(files.read_allowlist(path).publishers)
            if p.repository == what.name and workflow in (None, p.workflow)
        ]
        if len(matching) > 1:
            raise InputError(
                f"publisher:{what.name}: {len(matching)} entries; name one with --workflow"
            )
        removed = bool(matching) and editor.remove("publishers", matching[0])
    else:
        removed = editor.remove(what.kind, what.name)
    if not removed:
        raise InputError(f"{name}: no such entry in {path}")
    editor.save()
    return name


def run_prune(
    targets: tuple[str, ...],
    path: Path,
    options: ScanOptions,
    dry_run: bool,
    progress: Progress,
    cwd: Path,
    today: date | None = None,
) -> list[tuple[str, object, str]]:
    """Remove the entries nothing in the closure uses any more, and the expired ones."""
    allowlist = files.read_allowlist(path)
    result = _scan(targets, options, progress, cwd)
    unused = policy.unused_entries(allowlist, result, today or date.today())
    if dry_run or not unused:
        return unused
    editor = files.AllowlistEditor(path)
    # Publishers by index, highest first, so that the others keep theirs.
    for section, name, _ in sorted(unused, key=lambda u: (u[0] == "publishers", -_index(u[1]))):
        editor.remove(section, name)
    editor.save()
    return unused


def _index(name: object) -> int:
    return name if isinstance(name, int) else 0


def index_files(
    allowlist: Allowlist, options: ScanOptions, only_unhashed: bool = False
) -> tuple[dict[str, list[IndexFile]], list[str]]:
    """Every file the index has of each package of the allowlist (with `only_unhashed`,
    of those whose entry lists no hashes), and what could not be read."""
    names = [n for n, e in sorted(allowlist.packages.items()) if not (only_unhashed and e.hashes)]
    if not names:
        return {}, []
    store = Store(options.cache_path)
    try:
        return asyncio.run(_fetch_files(names, options, store))
    finally:
        store.close()


async def _fetch_files(names, options, store):
    fetcher = options.fetcher(store)
    client = IndexClient(fetcher, index_url_from_environment(options.index_url))
    try:
        answers = await asyncio.gather(*(client.files(name) for name in names))
    finally:
        await fetcher.aclose()
    found: dict[str, list[IndexFile]] = {}
    problems = []
    for name, (rows, why) in zip(names, answers, strict=True):
        if rows is None:
            problems.append(f"{name}: the index's files could not be read: {why}")
            continue
        found[name] = [IndexFile(**row) for row in rows]
    return found, problems


ExportFormat = Literal["requirements", "constraints", "simple-index"]


def run_export(
    path: Path, export_format: ExportFormat, options: ScanOptions
) -> tuple[dict[str, str], list[str]]:
    """The export as files (relative path -> text; one file "" for requirements and
    constraints), and notes on what it leaves out."""
    from scanner.report import allowlist_export as exports

    allowlist = files.read_allowlist(path)
    if export_format == "constraints":
        return {"": exports.constraints_text(allowlist)}, []
    fetched, notes = index_files(allowlist, options, only_unhashed=export_format == "requirements")
    if export_format == "requirements":
        pins = {}
        for name, entry in sorted(allowlist.packages.items()):
            version = policy.exact_version(entry.versions)
            if version is None:
                notes.append(
                    f"{name}: left out: {entry.versions or 'any version'} is not one version "
                    "(approve it with --version ==V)"
                )
                continue
            hashes = entry.hashes or tuple(
                f"sha256:{f.sha256}" for f in policy.approved_files(entry, fetched.get(name, []))
            )
            if not hashes:
                notes.append(f"{name}: left out: no file of {version} with a known hash")
                continue
            pins[name] = (version, hashes)
        return {"": exports.requirements_text(allowlist, pins)}, notes
    approved = {}
    for name, entry in sorted(allowlist.packages.items()):
        chosen = policy.approved_files(entry, fetched.get(name, []))
        if name in fetched and not chosen:
            notes.append(f"{name}: no file on the index matches the approved versions and hashes")
        approved[name] = chosen
    if allowlist.organizations or allowlist.accounts or allowlist.publishers:
        notes.append(
            "trusted organisations, accounts and publishers are not exported: only packages "
            "with an entry are in the index"
        )
    return exports.simple_index(approved), notes


def write_export(pages: dict[str, str], output: str | None) -> str | None:
    """A one-file export to `output` (or returned, for stdout); an index written whole to
    the folder `output`, replacing an earlier export there at once."""
    if set(pages) == {""}:
        if output is None:
            return pages[""]
        files.write_atomically(Path(output), pages[""])
        return None
    if output is None:
        raise InputError("--format simple-index needs -o DIR, the folder to write the index to")
    folder = Path(output)
    if folder.exists() and (
        not folder.is_dir() or (any(folder.iterdir()) and not (folder / "index.json").is_file())
    ):
        raise InputError(
            f"{folder}: exists and is not an exported index: name a new or empty folder"
        )
    building = folder.with_name(f".{folder.name}.{os.getpid()}.new")
    old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
    try:
        for relative, text in pages.items():
            target = building / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if folder.exists():
            os.replace(folder, old)
        os.replace(building, folder)
    except OSError as exc:
        raise InputError(f"{folder}: cannot write: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return None
