"""Repository facts: the source repository and home page a project links (its project
URLs), whether the repository's name holds the package, whether a package installed from
outside the index collides with the index's project of that name, and the licence."""

from __future__ import annotations

from scanner.licences import classifier_licence
from scanner.model import Package
from scanner.names import FORGES, linked_repository, repository_names_project, repository_path
from scanner.records import Project


def url_facts(project: Project, values: dict) -> None:
    candidates = list(project.project_urls.items())
    if project.home_page:
        candidates.append(("homepage", project.home_page))
    repository = linked_repository(project.project_urls, project.home_page)
    values["source_repository"] = repository
    values["homepage"] = next(
        (u for label, u in candidates if label.lower() in ("homepage", "home", "home page")), ""
    )


def repository_facts(name: str, values: dict, unknown: dict) -> None:
    url = values.get("source_repository", "")
    parsed = repository_path(url) if url else None
    values["repository_slug"] = "/".join(parsed) if parsed else ""
    if not url:
        unknown["repository_names_package"] = "the project links no source repository"
        return
    matches = repository_names_project(name, url)
    if matches is None:
        unknown["repository_names_package"] = (
            "the repository is not on a forge whose URLs name the repository "
            f"({', '.join(sorted(FORGES))})"
        )
    else:
        values["repository_names_package"] = matches


def collision(package: Package, values: dict) -> bool:
    """Installed from outside the index, and the index's project of that name is not the
    repository it was installed from."""
    if not package.direct_url:
        return False
    installed = _strip_vcs(package.direct_url)
    origin = repository_path(installed)
    linked = repository_path(values.get("source_repository", ""))
    return not (origin and linked and origin == linked)


def _strip_vcs(url: str) -> str:
    for prefix in ("git+", "hg+", "svn+", "bzr+"):
        if url.startswith(prefix):
            return url[len(prefix) :].split("@", 1)[0] if "://" in url else url
    return url


def licence(package: Package, project: Project) -> str:
    """The licence the index gives (expression, field, or classifiers), else the one the
    distribution declares."""
    return (
        project.license_expression
        or _short_license(project.license)
        or package.license
        or classifier_licence(project.classifiers)
    )


def _short_license(text: str | None) -> str:
    # Some projects paste the whole licence text into the field; keep a name-sized value.
    if not text:
        return ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:120]
