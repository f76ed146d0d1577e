"""Reading the summary the pipeline computed (ScanResult.summary, see scanner.summary):
the order findings are listed in and the path shown for each. Nothing here recomputes it."""

from __future__ import annotations

from scanner.model import SEVERITIES, Finding, ScanResult, Summary
from scanner.wording import counted


def summary_of(result: ScanResult) -> Summary:
    """The result's summary; a result that never went through the summary stage is a bug
    in the caller, named as such."""
    if result.summary is None:
        raise ValueError("ScanResult.summary is not set: scanner.summary.with_summary adds it")
    return result.summary


def publisher_counts(summary: Summary) -> str:
    """`12 accounts, 3 organisations`; `at least ...` when some packages' ownership is
    unknown, and `unknown` when no package's is known: a count never reads as the whole
    when it is not."""
    if summary.ownership_unknown and not summary.ownership_known:
        return "unknown"
    bound = "" if summary.publishers_exact else "at least "
    return (
        f"{bound}{counted(summary.publishing_accounts, 'account')}, "
        f"{bound}{counted(summary.organizations, 'organisation')}"
    )


def sorted_findings(result: ScanResult) -> list[Finding]:
    """Most severe first, then by how much of the environment depends on the package."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    radius = summary_of(result).radius

    def dependents(name: str) -> int:
        reach = radius.get(name)
        return reach.dependents if reach is not None else 0

    return sorted(
        result.findings,
        key=lambda f: (-rank[f.severity], -dependents(f.package), f.package, f.rule_id),
    )


def finding_path(result: ScanResult, package: str) -> list[str]:
    """The shortest path from a top-level package that pulls `package` in."""
    return summary_of(result).paths.get(package, [package])
