"""The fact schema: every fact a rule condition can read, its CEL type, the source it
comes from and what it means (`trustmap rules facts` lists them by registered source, in
scanner/fact_listing.py). Pure data: the rule engine reads it without pulling in the sources or
the network.
"""

from __future__ import annotations

from dataclasses import dataclass

# Names within this download rank are the "popular" names that look-alikes are checked
# against (the same cut-off low-usage uses by default).
POPULAR_TARGETS = 5000


@dataclass(frozen=True)
class FactSpec:
    name: str
    type: str  # the CEL type a condition sees
    source: str
    description: str
    # The values it can take, where they are few (the rule engine probes unknown facts
    # with them, so that `== "critical"` on an unknown value is undetermined).
    choices: tuple = ()


FACTS: tuple[FactSpec, ...] = (
    FactSpec("name", "string", "input", "Canonical (PEP 503) project name."),
    FactSpec("version", "string", "input", "The pinned or installed version."),
    FactSpec(
        "direct_url",
        "string",
        "input",
        "Where it comes from when not from an index: the "
        'URL, VCS reference or local path (PEP 610 for installs); "" when from an index.',
    ),
    FactSpec("editable", "bool", "input", "Installed or declared as editable (-e)."),
    FactSpec(
        "first_party",
        "bool",
        "input",
        "The project's own code: the root project or an editable install of it, not a "
        "dependency someone else publishes.",
    ),
    FactSpec(
        "index_url",
        "string",
        "input",
        'The other index a lockfile locked it from (not PyPI, not the configured index); "" '
        "when from the configured index.",
    ),
    FactSpec("top_level", "bool", "graph", "Nothing in the closure requires this package."),
    FactSpec("dependents", "int", "graph", "How many packages depend on it, directly or not."),
    FactSpec(
        "required_by",
        "list(string)",
        "graph",
        "The packages of the closure that require it directly.",
    ),
    FactSpec(
        "required_by_well_kept",
        "list(string)",
        "graph + index + dataset",
        f"Of `required_by`, those widely used (download rank {POPULAR_TARGETS:,} or better) "
        "or owned by a PyPI organisation: their maintainers chose this dependency. Unknown "
        "when none is known to be and some requirer's facts are unknown.",
    ),
    FactSpec(
        "known_to_index",
        "bool",
        "index",
        "The index has a project of this name (false: local "
        "or internal package, or a name that was removed). For a package locked from "
        "another index, that index.",
    ),
    FactSpec(
        "publishers",
        "list(string)",
        "index JSON API `ownership`",
        "Accounts that can publish new releases (Owner and Maintainer roles).",
    ),
    FactSpec(
        "publisher_roles",
        "list(map)",
        "index JSON API `ownership`",
        "Each publishing account with its role: {user, role}.",
    ),
    FactSpec("publisher_count", "int", "index JSON API `ownership`", "len(publishers)."),
    FactSpec(
        "organization",
        "string",
        "index JSON API `ownership`",
        'The PyPI organisation that owns the project; "" when it belongs to none.',
    ),
    FactSpec("first_release", "string", "index", "Upload time of the first file (ISO 8601)."),
    FactSpec("latest_release", "string", "index", "Upload time of the newest release."),
    FactSpec("latest_version", "string", "index", "The index's current version."),
    FactSpec("release_count", "int", "index", "Number of releases with at least one file."),
    FactSpec("days_since_first_release", "int", "index", "Age of the project in days."),
    FactSpec("days_since_latest_release", "int", "index", "Days since the newest release."),
    FactSpec(
        "version_upload_time", "string", "index", "Upload time of the pinned version's files."
    ),
    FactSpec(
        "days_since_version_upload", "int", "index", "Days since the pinned version appeared."
    ),
    FactSpec("version_yanked", "bool", "index", "The pinned version is yanked (PEP 592)."),
    FactSpec("yanked_reason", "string", "index", "Why it was yanked, when it was."),
    FactSpec(
        "source_repository",
        "string",
        "index project URLs",
        'The source repository URL; "" when the project links none.',
    ),
    FactSpec("homepage", "string", "index project URLs", 'Home page URL, "" when none.'),
    FactSpec("license", "string", "index / METADATA", "Licence expression or name."),
    FactSpec(
        "vulnerabilities",
        "list(map)",
        "index JSON API `vulnerabilities`",
        "Known vulnerabilities of the pinned version: {id, aliases, fixed_in, link}.",
    ),
    FactSpec("vulnerability_count", "int", "index", "len(vulnerabilities)."),
    FactSpec(
        "project_status_served",
        "bool",
        "index simple API (PEP 792 status)",
        "The index serves PEP 792 project status (simple API 1.4 or later). Where it does "
        "not, the status rules are quiet (the status stays unknown, and the facts say why).",
    ),
    FactSpec(
        "project_status",
        "string",
        "index simple API (PEP 792 status)",
        'The project\'s status on the index (PEP 792): "active", "archived" (no more '
        'uploads), "deprecated" (obsolete) or "quarantined" (unsafe, its files withheld). '
        "Unknown where the index does not serve it (simple API before version 1.4).",
        ("active", "archived", "deprecated", "quarantined"),
    ),
    FactSpec(
        "project_status_reason",
        "string",
        "index simple API (PEP 792 status)",
        'Why, in the index\'s words ("" when it gives none).',
    ),
    FactSpec(
        "osv_vulnerabilities",
        "list(map)",
        "vulnerability database (OSV)",
        "OSV's advisories for the pinned version where the index does not list them "
        "(they then stand in for `vulnerabilities` and the facts derived from it), and "
        "where it does, OSV's records of those it lists, for their severity: {id, aliases, "
        "summary, severity, score, fixed_in, link, withdrawn}.",
    ),
    FactSpec(
        "vulnerability_severity",
        "string",
        "index or vulnerability database (OSV), derived",
        'The highest severity of the pinned version\'s advisories ("critical", "high", '
        '"medium", "low"; from CVSS base scores, else the database\'s rating), "" when '
        "none gives one (the index's own list gives none).",
        ("", "low", "medium", "high", "critical"),
    ),
    FactSpec(
        "file_hashes",
        "list(string)",
        "index",
        "sha256 of the pinned version's files on the "
        'index ("sha256:<hex>"); the installed wheel\'s first when it can be told.',
    ),
    FactSpec(
        "in_top_packages",
        "bool",
        "top-PyPI-packages dataset",
        "Among the most-downloaded projects of the dataset.",
    ),
    FactSpec(
        "download_rank",
        "int",
        "top-PyPI-packages dataset",
        "Rank by downloads over 30 days (1 = most); 0 when not in the dataset.",
    ),
    FactSpec(
        "downloads_30d",
        "int",
        "top-PyPI-packages dataset",
        "Downloads over 30 days; unknown when the project is not in the dataset.",
    ),
    FactSpec(
        "top_packages_size", "int", "top-PyPI-packages dataset", "How many projects it ranks."
    ),
    FactSpec(
        "repository_stars",
        "int",
        "repository host (GitHub)",
        "Stars of the GitHub repository the package links or was installed from.",
    ),
    FactSpec("repository_forks", "int", "repository host (GitHub)", "Its forks."),
    FactSpec(
        "repository_archived",
        "bool",
        "repository host (GitHub)",
        "The repository is archived (read-only: nobody works on it there).",
    ),
    FactSpec(
        "repository_pushed_at",
        "string",
        "repository host (GitHub)",
        "When anything was last pushed to it (ISO 8601).",
    ),
    FactSpec(
        "repository_created_at",
        "string",
        "repository host (GitHub)",
        "When the repository was created (ISO 8601).",
    ),
    FactSpec(
        "repository_owner_type",
        "string",
        "repository host (GitHub)",
        '"User" or "Organization": who owns the repository.',
    ),
    FactSpec(
        "repository_license",
        "string",
        "repository host (GitHub)",
        'The licence GitHub detects (SPDX id; "NOASSERTION" when it cannot tell, "" none).',
    ),
    FactSpec(
        "contributor_commits",
        "list(int)",
        "repository host (GitHub)",
        "Commit counts of its contributors, most first (at most 500 contributors).",
    ),
    FactSpec(
        "days_since_repository_push",
        "int",
        "repository host (GitHub), derived",
        "Days since the last push.",
    ),
    FactSpec(
        "contributors",
        "int",
        "repository host (GitHub), derived",
        "How many contributors the repository lists (500 at most are read).",
    ),
    FactSpec(
        "top_contributor_share",
        "double",
        "repository host (GitHub), derived",
        "The share of all commits made by its busiest contributor (0 to 1).",
    ),
    FactSpec(
        "bus_factor",
        "int",
        "repository host (GitHub), derived",
        "The fewest contributors whose commits make half of all commits: 1 means one "
        "person wrote most of the code.",
    ),
    FactSpec(
        "dependent_packages",
        "int",
        "dependency graph service (deps.dev)",
        "How many published packages depend on the pinned version (deps.dev's count).",
    ),
    FactSpec(
        "depsdev_published_at",
        "string",
        "dependency graph service (deps.dev)",
        "When deps.dev saw the pinned version published (ISO 8601).",
    ),
    FactSpec(
        "depsdev_deprecated",
        "bool",
        "dependency graph service (deps.dev)",
        "deps.dev marks the pinned version deprecated.",
    ),
    FactSpec(
        "depsdev_advisories",
        "list(string)",
        "dependency graph service (deps.dev)",
        "The advisory keys deps.dev lists for the pinned version (OSV IDs).",
    ),
    FactSpec(
        "depsdev_attested",
        "bool",
        "dependency graph service (deps.dev)",
        "deps.dev holds a verified attestation or SLSA provenance for the pinned version.",
    ),
    FactSpec(
        "scorecard_score",
        "double",
        "OpenSSF Scorecard API",
        "The repository's overall OpenSSF Scorecard score (0 to 10).",
    ),
    FactSpec(
        "scorecard_checks",
        "map",
        "OpenSSF Scorecard API",
        "Each check's score by name (Maintained, Code-Review, Contributors, "
        "Signed-Releases, Branch-Protection, Dangerous-Workflow, ...): 0 to 10, -1 when "
        "the check could not tell.",
    ),
    FactSpec(
        "scorecard_date", "string", "OpenSSF Scorecard API", "When the Scorecard was computed."
    ),
    FactSpec(
        "downloads_last_month",
        "int",
        "download statistics (pypistats)",
        "Downloads over the last month, from pypistats.",
    ),
    FactSpec(
        "downloads_last_month_source",
        "string",
        "download statistics (pypistats)",
        'Where and when that count was asked ("pypistats.org, asked 2026-12-04").',
    ),
    FactSpec(
        "enrichment",
        "map",
        "repository host, dependency graph service",
        "Only the optional signals that are known, under the names above "
        "(repository_stars, repository_forks, repository_archived, repository_owner_type, "
        "days_since_repository_push, contributors, top_contributor_share, bus_factor, "
        "dependent_packages, downloads_last_month, scorecard_score, scorecard_checks); empty "
        "when none is. Rules use `has(facts.enrichment.X)` to "
        "apply a signal where it exists.",
    ),
    FactSpec(
        "has_wheel",
        "bool",
        "index files",
        "The pinned version has a wheel on the index (false: installing it from the "
        "index runs its build code).",
    ),
    FactSpec(
        "file_types",
        "list(string)",
        "index files",
        'Kinds of the pinned version\'s files on the index ("sdist", "bdist_wheel", ...).',
    ),
    FactSpec(
        "repository_slug",
        "string",
        "index project URLs",
        'host/owner/repository of the linked source repository on a known forge; "" '
        "when there is none or it is elsewhere.",
    ),
    FactSpec(
        "repository_names_package",
        "bool",
        "index project URLs",
        "The linked repository's name plausibly holds this project (see "
        "scanner.names.repository_names_project); unknown without a repository on a "
        "known forge.",
    ),
    FactSpec(
        "has_provenance",
        "bool",
        "index integrity API (PEP 740)",
        "The pinned file has a PEP 740 attestation on the index; unknown where the "
        "index does not serve provenance.",
    ),
    FactSpec(
        "provenance_file",
        "string",
        "index integrity API (PEP 740)",
        "The file whose provenance was asked for (the installed wheel when known).",
    ),
    FactSpec(
        "provenance_publisher",
        "string",
        "index integrity API (PEP 740)",
        'Kind of trusted publisher that attested it ("GitHub", "GitLab", ...); "" when '
        "not attested.",
    ),
    FactSpec(
        "provenance_repository",
        "string",
        "index integrity API (PEP 740)",
        'The repository the attested file was built from (owner/name); "" when not attested.',
    ),
    FactSpec(
        "provenance_workflow",
        "string",
        "index integrity API (PEP 740)",
        'The workflow that published it (e.g. release.yml); "" when not attested.',
    ),
    FactSpec(
        "provenance_environment",
        "string",
        "index integrity API (PEP 740)",
        'The deployment environment it was published from (e.g. pypi); "" when none.',
    ),
    FactSpec(
        "previous_provenance",
        "string",
        "index integrity API (PEP 740)",
        'The release before the pinned one and its publisher identity ("2.4.5: GitHub '
        'owner/repo release.yml (pypi)"); "" when it had no attestation, or there is none.',
    ),
    FactSpec(
        "provenance_served",
        "bool",
        "index integrity API (PEP 740)",
        "The index serves PEP 740 provenance at all (its simple API says so). Where it does "
        "not, provenance-change is quiet (the provenance stays unknown, and the facts say why).",
    ),
    FactSpec(
        "provenance_changed",
        "bool",
        "index integrity API (PEP 740)",
        "The release before had an attestation, and the pinned one has none or one from "
        "another publisher identity (kind, repository, workflow, environment).",
    ),
    FactSpec(
        "vulnerability_ids",
        "list(string)",
        "index JSON API `vulnerabilities`",
        "IDs of the pinned version's known vulnerabilities (with their aliases).",
    ),
    FactSpec(
        "fixed_versions",
        "list(string)",
        "index JSON API `vulnerabilities`",
        "Versions that fix them, as the advisories list them; [] when none is fixed.",
    ),
    FactSpec(
        "lookalike_of",
        "string",
        "name + top-PyPI-packages dataset",
        "A popular project (among the top 5,000) whose name this one looks like: one "
        "edit, swapped characters, a swapped or dropped separator, look-alike characters "
        '(0/o, 1/l, rn/m) or a prefix/suffix (python-, -py, -dev, ...); "" when none.',
    ),
    FactSpec("lookalike_kind", "string", "name", 'How the name looks like it; "" when none.'),
    FactSpec("lookalike_detail", "string", "name", 'The resemblance in words; "" when none.'),
    FactSpec(
        "lookalike_rank",
        "int",
        "top-PyPI-packages dataset",
        "Download rank of the look-alike target; 0 when none.",
    ),
    FactSpec(
        "lookalike_target_same_publisher",
        "bool",
        "index ownership + graph",
        "The look-alike target is in this closure and an account publishes both (a "
        "maintainer's own fork or successor, such as httpx2 by an httpx maintainer); false "
        "otherwise, including when the target is not in the closure.",
    ),
    FactSpec(
        "matches_internal_pattern",
        "bool",
        "config `internal-packages`",
        "The name matches one of the configured glob patterns of internal package names "
        "(false when none is configured).",
    ),
    FactSpec(
        "index_name_collision",
        "bool",
        "input + index",
        "Installed from outside the index (URL, VCS or local path) while the index has "
        "a project of the same name that does not link to where it came from: "
        "installing it by name takes the index's.",
    ),
    FactSpec(
        "previous_publishers",
        "list(string)",
        "scan history",
        "Publishers at the last scan that saw this package on this index; [] at the first.",
    ),
    FactSpec(
        "previous_organization",
        "string",
        "scan history",
        'Organisation at the last scan; "" when none or at the first sighting.',
    ),
    FactSpec(
        "publishers_added",
        "list(string)",
        "scan history",
        "Accounts that can publish now and could not at the last scan.",
    ),
    FactSpec(
        "publishers_removed",
        "list(string)",
        "scan history",
        "Accounts that could publish at the last scan and no longer can.",
    ),
    FactSpec(
        "organization_changed",
        "bool",
        "scan history",
        "The owning organisation differs from the last scan's (false at the first).",
    ),
    FactSpec(
        "ownership_changed",
        "bool",
        "scan history",
        "Publishers or organisation differ from the last scan (false at the first "
        "sighting, which is not a change).",
    ),
    FactSpec(
        "ownership_last_seen",
        "string",
        "scan history",
        'When the previous ownership was last seen (ISO 8601); "" at the first sighting.',
    ),
    FactSpec(
        "busiest_account",
        "string",
        "index `ownership`, whole closure",
        "Of the accounts that can publish this package, the one that can publish the "
        'most packages of this closure; "" when it has no publisher.',
    ),
    FactSpec(
        "busiest_account_package_count",
        "int",
        "index `ownership`, whole closure",
        "How many packages of this closure that account can publish.",
    ),
    FactSpec(
        "busiest_account_packages",
        "list(string)",
        "index `ownership`, whole closure",
        "Those packages.",
    ),
)
FACT_NAMES = frozenset(spec.name for spec in FACTS)
# Facts that come from the index: unknown, with the reason, when the index did not answer.
# Facts that come from the index: unknown, with the reason, when the index did not answer.
INDEX_FACTS = tuple(s.name for s in FACTS if "index" in s.source and s.name != "license")
