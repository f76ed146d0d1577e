"""Names: which strings are project names (PEP 508) and versions (PEP 440) at all,
look-alike names of popular projects (typosquatting), and whether a linked repository
names the project. Pure functions over canonical (PEP 503) names.

`NameIndex` is built once from the popular names (the top-packages dataset, 15,000
names) and then answers in a few microseconds per name: every name's single-character
deletions are indexed (the "symmetric delete" method), so a name one edit away from a
popular one is found with a dozen dictionary look-ups and a short check, never by
comparing against every popular name.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from packaging.version import InvalidVersion, Version

# PEP 508: letters and digits, with "." "_" "-" inside. Names from untrusted metadata
# become URL path segments; anything else ("requests/json#") could address another
# project's documents, so it is never looked up.
_PROJECT_NAME = re.compile(r"[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9]", re.IGNORECASE | re.ASCII)


def is_project_name(name: object) -> bool:
    """Whether `name` is a valid PEP 508 project name (ASCII; no trailing newline)."""
    return isinstance(name, str) and _PROJECT_NAME.fullmatch(name) is not None


def is_version(text: str) -> bool:
    """Whether `text` is a valid PEP 440 version."""
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def invalid_name_reason(name: str) -> str:
    """Why a name is refused, for problems and unknown facts."""
    return (
        f"{name[:100]!r} is not a valid project name (PEP 508: letters, digits and . _ - "
        "inside), so it is never looked up on the index"
    )


# Characters that read alike in a name (PEP 503 names are ASCII letters, digits and
# separators): each maps to one skeleton form, longer sequences first.
_CONFUSABLES = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("0", "o"), ("1", "l"), ("i", "l"))
_CONFUSABLES += (("5", "s"), ("3", "e"))
# Words squatters put before or after a popular name.
PREFIXES = ("python-", "python", "py-", "py")
SUFFIXES = ("-python", "python", "-py", "py", "-dev", "-lib", "-sdk", "-api", "2", "3")
# The shortest popular name whose one-edit neighbours are looked for: shorter names have
# many legitimate one-letter neighbours ("six", "sip", "pip", "pipx").
MIN_EDIT_LENGTH = 5
MIN_AFFIX_TARGET_LENGTH = 4


@dataclass(frozen=True)
class NameMatch:
    """`name` looks like the popular project `target`; `kind` says how."""

    target: str
    kind: str  # "one-edit", "swapped-characters", "separator", "confusable", "affix"
    detail: str

    def as_fact(self) -> dict[str, str]:
        return {"target": self.target, "kind": self.kind, "detail": self.detail}


def _strip_separators(name: str) -> str:
    return name.replace("-", "").replace("_", "").replace(".", "")


def skeleton(name: str) -> str:
    """The name with separators removed and confusable characters folded together:
    'djang0' and 'django' share one; so do 'rnatplotlib' and 'matplotlib'."""
    text = _strip_separators(name.lower())
    for seen, meant in _CONFUSABLES:
        text = text.replace(seen, meant)
    return text


def _deletions(name: str) -> set[str]:
    return {name[:i] + name[i + 1 :] for i in range(len(name))}


def edit_kind(a: str, b: str) -> str | None:
    """How `a` is one edit from `b` (optimal string alignment distance 1): "one-edit" for
    a character added, dropped or replaced, "swapped-characters" for two neighbours
    swapped; None when they are equal or further apart."""
    if a == b:
        return None
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return None
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return "one-edit"
        if i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]:
            return "swapped-characters"
        return None
    longer, shorter = (a, b) if la > lb else (b, a)
    return "one-edit" if longer[i + 1 :] == shorter[i:] else None


@dataclass
class _Tables:
    """The popular names by their single-character deletions (and themselves), by
    skeleton and by the name without separators."""

    by_deletion: dict[str, list[str]]
    by_skeleton: dict[str, list[str]]
    by_stripped: dict[str, list[str]]

    @classmethod
    def of(cls, ranks: Iterable[str], near: Iterable[str] | None = None) -> _Tables:
        """Every popular name indexed; or, with `near`, only the entries a query for one
        of those names reads (each list still whole and in the same order), which costs
        a third of the time for a few hundred names."""
        tables = cls({}, {}, {})
        keys = skeletons = stripped = None
        if near is not None:
            near = list(near)
            keys = {key for name in near for key in (name, *_deletions(name))}
            skeletons = {skeleton(name) for name in near}
            stripped = {_strip_separators(name) for name in near}
        for name in ranks:
            if len(name) >= MIN_EDIT_LENGTH:
                variants = _deletions(name)
                if keys is None or name in keys or not keys.isdisjoint(variants):
                    for variant in variants:
                        tables.by_deletion.setdefault(variant, []).append(name)
                    tables.by_deletion.setdefault(name, []).append(name)
            key = skeleton(name)
            if skeletons is None or key in skeletons:
                tables.by_skeleton.setdefault(key, []).append(name)
            key = _strip_separators(name)
            if stripped is None or key in stripped:
                tables.by_stripped.setdefault(key, []).append(name)
        return tables


class NameIndex:
    """Popular names, indexed for look-alike queries. `ranks` maps canonical names to
    their popularity rank (1 = most downloaded); a match names the most popular target.

    The whole index is built on the first query (about 80 ms for 5,000 names). A scan
    that knows every name it will ask about says so first (`prepare`), and only what
    those queries read is built."""

    def __init__(self, ranks: Mapping[str, int]) -> None:
        self.ranks = dict(ranks)
        self._all: _Tables | None = None
        self._prepared: tuple[frozenset[str], _Tables] | None = None

    def prepare(self, names: Iterable[str]) -> None:
        """Index what queries for `names` read; other names are still answered (from the
        whole index, built then)."""
        names = frozenset(names)
        if self._prepared is not None and names <= self._prepared[0]:
            return  # indexed already: a gate's second side asks about the same names
        self._prepared = (names, _Tables.of(self.ranks, near=names))

    def _tables(self, name: str) -> _Tables:
        if self._prepared is not None and name in self._prepared[0]:
            return self._prepared[1]
        if self._all is None:
            self._all = _Tables.of(self.ranks)
        return self._all

    def _rank(self, name: str) -> int:
        return self.ranks.get(name, 1 << 30)

    def lookalike(self, name: str) -> NameMatch | None:
        """The most popular project that `name` looks like, or None. A name never looks
        like itself; a popular name may still look like a more popular one (the caller
        decides, from both ranks, whether that matters)."""
        tables = self._tables(name)
        found: list[NameMatch] = []
        stripped = _strip_separators(name)
        for target in tables.by_stripped.get(stripped, ()):
            if target != name:
                found.append(NameMatch(target, "separator", f"{name!r} vs {target!r}"))
        for target in tables.by_skeleton.get(skeleton(name), ()):
            if target != name and _strip_separators(target) != stripped:
                found.append(NameMatch(target, "confusable", _confusable_detail(name, target)))
        candidates: set[str] = set()
        for key in (name, *_deletions(name)):
            candidates.update(tables.by_deletion.get(key, ()))
        for target in candidates:
            kind = edit_kind(name, target)
            if kind and skeleton(target) != skeleton(name):
                found.append(NameMatch(target, kind, _edit_detail(name, target, kind)))
        found.extend(self._affix_matches(name))
        if not found:
            return None
        return min(found, key=lambda m: (self._rank(m.target), m.kind))

    def _affix_matches(self, name: str) -> Iterable[NameMatch]:
        for prefix in PREFIXES:
            if name.startswith(prefix):
                rest = name[len(prefix) :].lstrip("-")
                if len(rest) >= MIN_AFFIX_TARGET_LENGTH and rest in self.ranks:
                    yield NameMatch(rest, "affix", f"{prefix!r} put before {rest!r}")
        for suffix in SUFFIXES:
            if name.endswith(suffix):
                rest = name[: -len(suffix)].rstrip("-")
                if len(rest) >= MIN_AFFIX_TARGET_LENGTH and rest in self.ranks:
                    yield NameMatch(rest, "affix", f"{suffix!r} put after {rest!r}")


def _confusable_detail(name: str, target: str) -> str:
    return f"{name!r} reads like {target!r} (look-alike characters)"


def _edit_detail(name: str, target: str, kind: str) -> str:
    if kind == "swapped-characters":
        return f"{name!r} is {target!r} with two neighbouring characters swapped"
    if len(name) > len(target):
        return f"{name!r} is {target!r} with one character added"
    if len(name) < len(target):
        return f"{name!r} is {target!r} with one character dropped"
    return f"{name!r} is {target!r} with one character changed"


# --- does a repository URL name the project? ---------------------------------------------

# Forges whose URLs are /<owner>/<repository>[/...]: there, the repository's name can be
# read from the URL. Elsewhere it cannot be told.
FORGES = {
    "github.com": 2,
    "gitlab.com": 2,
    "bitbucket.org": 2,
    "codeberg.org": 2,
    "git.sr.ht": 2,
    "foss.heptapod.net": 2,
    "salsa.debian.org": 2,
}
# Words too common in names to tie a project to a repository on their own.
_GENERIC = frozenset(
    "python py pypi lib libs api sdk client core tools tool utils util plugin plugins "
    "the and for types stubs common extension extensions contrib bindings".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def repository_path(url: str, more_hosts: Collection[str] = ()) -> tuple[str, str, str] | None:
    """(host, owner, repository) of a URL on a known forge, or on one of `more_hosts`
    (a GitHub Enterprise server, whose URLs are github.com's), else None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host not in FORGES and host not in more_hosts:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        return None
    owner, repository = segments[0].lstrip("~"), segments[1]
    repository = repository.removesuffix(".git")
    return host, owner.lower(), repository.lower()


_REPOSITORY_LABELS = ("source", "source code", "repository", "code", "github", "gitlab", "git")
_REPOSITORY_HOSTS = ("github.com/", "gitlab.com/", "bitbucket.org/", "codeberg.org/", "sr.ht/")


def linked_repository(project_urls: Mapping[str, str], home_page: str | None) -> str:
    """The source repository a project links: the URL under a repository label, else the
    first link to a forge; on a forge whose URLs name it, the repository itself (not its
    CI, issues or changelog). "" when it links none."""
    candidates = list(project_urls.items())
    if home_page:
        candidates.append(("homepage", home_page))
    repository = ""
    for label, url in candidates:
        if label.strip().lower() in _REPOSITORY_LABELS and url.startswith("http"):
            repository = url
            break
    if not repository:
        repository = next(
            (u for _, u in candidates if any(h in u.lower() for h in _REPOSITORY_HOSTS)), ""
        )
    if repository and repository_path(repository) is not None:
        parts = urlsplit(repository)
        owner, name = [s for s in parts.path.split("/") if s][:2]
        repository = f"https://{parts.netloc}/{owner}/{name.removesuffix('.git')}"
    return repository


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def repository_names_project(project: str, url: str) -> bool | None:
    """Whether the repository at `url` plausibly holds `project`; None when that cannot be
    told from the URL (not a known forge, or no owner/repository in the path).

    Generous on purpose, so that only a link to an unrelated repository is reported:
    the names match once separators are removed, one contains the other (`jinja2` and
    `jinja`, `torch` and `pytorch`), a distinctive word of the project name appears in
    the repository or owner name (`azure-core` in Azure/azure-sdk-for-python,
    `google-auth` in googleapis/google-auth-library-python), or the project name is an
    abbreviation of the repository's (`sklearn` and scikit-learn)."""
    parsed = repository_path(url)
    if parsed is None:
        return None
    _, owner, repository = parsed
    name = _strip_separators(project.lower())
    repo = _strip_separators(repository)
    owner_plain = _strip_separators(owner)
    if not name or not repo:
        return None
    if name in repo or repo in name:
        return True
    for affix in ("python", "py"):
        if name.removeprefix(affix) in repo and len(name.removeprefix(affix)) >= 3:
            return True
        if name.removesuffix(affix) in repo and len(name.removesuffix(affix)) >= 3:
            return True
    words = [w for w in _WORD.findall(project.lower()) if len(w) >= 3 and w not in _GENERIC]
    if any(w in repo or w in owner_plain or repo in w for w in words):
        return True
    return len(name) >= 4 and name[0] == repo[0] and _is_subsequence(name, repo)


def glob_match(name: str, pattern: str) -> bool:
    """Shell-style wildcards (*, ?, [..]) against a canonical name, the pattern
    canonicalised alike, so that "Acme_*" matches "acme-tools"."""
    return fnmatch.fnmatchcase(name, re.sub(r"[-_.]+", "-", pattern.strip()).lower())
