"""Look-alike names against the real top-packages dataset, and whether a repository URL
names its project."""

from __future__ import annotations

import pytest

from scanner import names as names_module
from scanner.facts import POPULAR_TARGETS, name_index
from scanner.names import NameIndex, edit_kind, glob_match, repository_names_project, skeleton
from scanner.sources.usage import bundled_top_packages

TOP = bundled_top_packages()
INDEX = name_index(TOP)


@pytest.mark.parametrize(
    "name, target, kind",
    [
        ("reqeusts", "requests", "swapped-characters"),
        ("urlib3", "urllib3", "one-edit"),
        ("djang0", "django", "confusable"),
        ("rnatplotlib", "matplotlib", "confusable"),
        ("crypt0graphy", "cryptography", "confusable"),
        ("numpyy", "numpy", "one-edit"),
        ("nunpy", "numpy", "one-edit"),
        ("scikitlearn", "scikit-learn", "separator"),
        ("pythondateutil", "python-dateutil", "separator"),
        ("python-requests", "requests", "affix"),
        ("requests-py", "requests", "affix"),
        ("pandas-dev", "pandas", "affix"),
    ],
)
def test_look_alikes_of_popular_names_are_found_and_named(name, target, kind):
    match = INDEX.lookalike(name)
    assert match is not None and (match.target, match.kind) == (target, kind)
    assert target in match.detail


@pytest.mark.parametrize(
    "name", ["requests", "python-dateutil", "idna", "six", "urllib3", "dapy", "trustmap"]
)
def test_popular_names_and_unrelated_names_look_like_nothing(name):
    assert INDEX.lookalike(name) is None


def test_short_names_are_not_matched_by_one_edit():
    """'six' and 'sip' are both real; three-letter names have too many neighbours."""
    assert INDEX.lookalike("sixx") is None or INDEX.lookalike("sixx").target != "six"


def test_the_most_popular_target_is_named():
    # 'reqests' is one edit from requests (rank 7) and maybe others: requests wins.
    match = INDEX.lookalike("reqests")
    assert match and match.target == "requests"


def test_edit_kind():
    assert edit_kind("abcd", "abdc") == "swapped-characters"
    assert edit_kind("abcd", "abce") == "one-edit"
    assert edit_kind("abcd", "abc") == "one-edit"
    assert edit_kind("abcd", "abcd") is None
    assert edit_kind("abcd", "badc") is None
    assert skeleton("Dj4ng0") == skeleton("dj4ngo")


def test_a_query_compares_with_a_handful_of_names_not_the_whole_dataset(monkeypatch):
    """What makes a query take a few microseconds: 5,000 queries against the 15,000
    popular names each compare with a few candidates found by dictionary look-ups, never
    with every name. Counted, not timed, so that a slow machine cannot fail it and a
    linear scan cannot pass it (wall time is the benchmarks' business)."""
    compared: list[tuple[str, str]] = []

    def counting_edit_kind(a: str, b: str) -> str | None:
        compared.append((a, b))
        return edit_kind(a, b)

    monkeypatch.setattr(names_module, "edit_kind", counting_edit_kind)
    index = NameIndex(TOP.ranks)
    queries = [f"{n}x" for n in list(TOP.ranks)[:5000]]
    most = 0
    for name in queries:
        before = len(compared)
        index.lookalike(name)
        most = max(most, len(compared) - before)
    assert len(TOP.ranks) >= 10_000
    assert 0 < most <= 50, most
    assert len(compared) <= 2 * len(queries)


def test_the_facts_index_holds_the_popular_names_only():
    assert len(INDEX.ranks) == POPULAR_TARGETS
    assert name_index(TOP) is INDEX  # built once per dataset


@pytest.mark.parametrize(
    "project, url, expected",
    [
        ("requests", "https://github.com/psf/requests", True),
        ("scikit-learn", "https://github.com/scikit-learn/scikit-learn", True),
        ("sklearn", "https://github.com/scikit-learn/scikit-learn", True),
        ("jinja2", "https://github.com/pallets/jinja", True),
        ("torch", "https://github.com/pytorch/pytorch", True),
        ("python-dateutil", "https://github.com/dateutil/dateutil", True),
        ("azure-core", "https://github.com/Azure/azure-sdk-for-python", True),
        ("google-auth", "https://github.com/googleapis/google-auth-library-python", True),
        ("charset-normalizer", "https://github.com/jawah/charset_normalizer", True),
        ("certifi", "https://github.com/certifi/python-certifi", True),
        ("absl-py", "https://github.com/abseil/abseil-py", True),
        ("reqeusts", "https://github.com/psf/requests", False),
        ("fastjsonlib", "https://github.com/psf/requests", False),
        ("requests", "https://example.org/requests", None),
        ("requests", "https://github.com/psf", None),
    ],
)
def test_repository_names_project(project, url, expected):
    assert repository_names_project(project, url) is expected


def test_glob_patterns_match_canonical_names():
    assert glob_match("acme-tools", "acme-*")
    assert glob_match("acme-tools", "Acme_*")
    assert not glob_match("acmetools", "acme-*")
    assert glob_match("labtools", "labtools")
