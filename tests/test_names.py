"""Look-alike names against the real top-packages dataset, and whether a repository URL
names its project."""

from __future__ import annotations

import functools

import pytest

from scanner import names as names_module
from scanner.facts.derive import name_index
from scanner.facts.schema import POPULAR_TARGETS
from scanner.names import (
    NameIndex,
    NameMatch,
    edit_kind,
    glob_match,
    invalid_name_reason,
    is_project_name,
    is_version,
    repository_names_project,
    repository_path,
    skeleton,
)
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


def _neighbours(name: str) -> list[str]:
    """Names one edit, a swap, a separator or a confusable away from `name`."""
    return [name + "x", name[1:], name[:2] + name[3:], name[1] + name[0] + name[2:],
            name.replace("-", ""), name.replace("o", "0"), "py" + name]  # fmt: skip


def test_a_prepared_index_answers_as_the_whole_one():
    """prepare() builds only what queries for the names given read: those names get the
    answers the whole index gives (the same target, kind and detail), and any other
    name is still answered by the whole index."""
    popular = [n for n, rank in TOP.ranks.items() if rank <= POPULAR_TARGETS]
    asked = [*popular[:150], *(n for p in popular[:300] for n in _neighbours(p))]
    asked += ["reqeusts", "djang0", "scikitlearn", "rnatplotlib", "trustmap", "dapy"]
    whole = NameIndex({n: r for n, r in TOP.ranks.items() if r <= POPULAR_TARGETS})
    prepared = NameIndex(whole.ranks)
    prepared.prepare(asked)
    answers = [prepared.lookalike(name) for name in asked]
    assert prepared._all is None  # the whole index was never built for them
    assert answers == [whole.lookalike(name) for name in asked]
    assert sum(a is not None for a in answers) > 1000
    assert prepared.lookalike("nunpy") == whole.lookalike("nunpy")  # not prepared
    # Each kind of neighbour prepared alone (in a crowd, another name's entries can
    # cover for a missing one).
    for name in ("equests", "reqests", "requestss", "reqeusts", "djang0", "scikitlearn"):
        alone = NameIndex(whole.ranks)
        alone.prepare([name])
        assert alone.lookalike(name) == whole.lookalike(name) is not None, name


def test_preparing_for_names_already_prepared_builds_nothing(monkeypatch):
    """A gate's second side asks about (nearly) the same names as the first."""
    index = NameIndex({n: r for n, r in TOP.ranks.items() if r <= POPULAR_TARGETS})
    index.prepare(["reqeusts", "djang0", "numpy"])
    built = []
    monkeypatch.setattr(names_module._Tables, "of", lambda *a, **k: built.append(a))
    index.prepare(["djang0", "reqeusts"])
    assert built == []
    assert index.lookalike("reqeusts").target == "requests"
    index.prepare(["djang0", "nunpy"])  # a name not prepared: built for these names
    assert len(built) == 1


def test_the_facts_index_holds_the_popular_names_only():
    # Asked again here, not compared with INDEX: another test's dataset may have taken
    # the one-entry memo since this module was imported.
    index = name_index(TOP)
    assert len(index.ranks) == POPULAR_TARGETS
    assert name_index(TOP) is index  # built once per dataset


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


# --- pinned by mutation testing (tests/MUTATION.md) ---------------------------------------
# INDEX above is built when the module is imported, before mutmut switches a mutant on,
# so these tests build their indexes inside the test.


@functools.cache
def fresh_index() -> NameIndex:
    return NameIndex(TOP.ranks)


@pytest.mark.parametrize(
    "name, target, kind",
    [
        ("reqeusts", "requests", "swapped-characters"),
        ("urlib3", "urllib3", "one-edit"),
        ("djang0", "django", "confusable"),
        ("nunpy", "numpy", "one-edit"),
        ("scikitlearn", "scikit-learn", "separator"),
        ("python-requests", "requests", "affix"),
    ],
)
def test_a_freshly_built_index_finds_the_look_alikes(name, target, kind):
    match = fresh_index().lookalike(name)
    assert match is not None and (match.target, match.kind) == (target, kind)
    assert repr(target) in match.detail
    assert kind == "affix" or repr(name) in match.detail  # an affix names the affix


@pytest.mark.parametrize(
    "name, detail",
    [
        ("abcdfe", "'abcdfe' is 'abcdef' with two neighbouring characters swapped"),
        ("abcdefx", "'abcdefx' is 'abcdef' with one character added"),
        ("abcde", "'abcde' is 'abcdef' with one character dropped"),
        ("abcdex", "'abcdex' is 'abcdef' with one character changed"),
        ("xbcdef", "'xbcdef' is 'abcdef' with one character changed"),
        ("bacdef", "'bacdef' is 'abcdef' with two neighbouring characters swapped"),
        ("abcdeff", "'abcdeff' is 'abcdef' with one character added"),
    ],
)
def test_each_kind_of_edit_is_described(name, detail):
    match = NameIndex({"abcdef": 1}).lookalike(name)
    assert match is not None and match.detail == detail


def test_one_edit_neighbours_are_looked_for_from_five_characters_on():
    index = NameIndex({"abcde": 1, "wxyz": 2})
    assert index.lookalike("abcdx").target == "abcde"
    assert index.lookalike("abcd").target == "abcde"
    assert index.lookalike("xabcde").target == "abcde"
    assert index.lookalike("wxyq") is None


def test_a_confusable_and_a_separator_match_are_described_with_the_name():
    index = NameIndex({"django": 1, "foo-bar": 2})
    assert (
        index.lookalike("djang0").detail == "'djang0' reads like 'django' (look-alike characters)"
    )
    assert index.lookalike("foobar").detail == "'foobar' vs 'foo-bar'"


def test_the_most_popular_target_wins_over_the_kind_of_match():
    # foo-bar (rank 1) by separators, foobat (rank 2) by one edit: rank first.
    index = NameIndex({"foo-bar": 1, "foobat": 2})
    assert index.lookalike("foobar").target == "foo-bar"
    index = NameIndex({"foo-bar": 2, "foobat": 1})
    assert index.lookalike("foobar").target == "foobat"


def test_edit_kind_at_the_edges():
    assert edit_kind("bacd", "abcd") == "swapped-characters"
    assert edit_kind("abcd", "xyz") is None
    assert edit_kind("xyz", "abcd") is None
    assert edit_kind("abcd", "ab") is None


def test_affixes_around_names_of_four_characters_or_more():
    index = NameIndex({"abcd": 1, "abc": 2})
    assert index.lookalike("py-abcd").detail == "'py-' put before 'abcd'"
    assert index.lookalike("abcd-py").detail == "'-py' put after 'abcd'"
    # A suffix without its own "-" form: the separator before it goes too.
    assert index.lookalike("abcd-2").detail == "'2' put after 'abcd'"
    assert index.lookalike("pyabc") is None or index.lookalike("pyabc").kind != "affix"


def test_project_names_and_versions():
    assert (
        is_project_name("requests") and is_project_name("a") and is_project_name("zope.interface")
    )
    assert not is_project_name("requests/json#") and not is_project_name("requests\n")
    assert not is_project_name(None) and not is_project_name(3)
    assert is_version("1.0.post1") and not is_version("one")
    assert invalid_name_reason("a/b") == (
        "'a/b' is not a valid project name (PEP 508: letters, digits and . _ - inside), "
        "so it is never looked up on the index"
    )
    assert invalid_name_reason("x" * 150).startswith(repr("x" * 100) + " is not")
    match = NameMatch("requests", "one-edit", "d")
    assert match.as_fact() == {"target": "requests", "kind": "one-edit", "detail": "d"}


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://www.github.com/psf/requests", ("github.com", "psf", "requests")),
        ("https://github.com/psf/requests.git", ("github.com", "psf", "requests")),
        ("https://git.sr.ht/~sircmpwn/hare", ("git.sr.ht", "sircmpwn", "hare")),
        ("https://git.sr.ht/~sircmpwn", None),
        ("https://github.com/Xiph/opus", ("github.com", "xiph", "opus")),
        ("mailto:someone", None),
    ],
)
def test_repository_path(url, expected):
    assert repository_path(url) == expected


@pytest.mark.parametrize(
    "project, url, expected",
    [
        # Separators of every kind are dropped from the repository name, and containment
        # either way is enough (no word of the project is long enough to match alone).
        ("ab-cd-ef", "https://github.com/o/cd_ef", True),
        ("ab-cd-ef", "https://github.com/o/cd.ef", True),
        ("ab-cd", "https://github.com/o/xabcdx", True),
        ("requests", "https://github.com/psf/-", None),
        # The name without "python" or "py" before or after it, three characters at least.
        ("pythonabc", "https://github.com/o/abc-lib", True),
        ("abcpython", "https://github.com/o/abc-lib", True),
        ("pyabc", "https://github.com/o/abc-lib", True),
        ("abcpy", "https://github.com/o/abc-lib", True),
        ("pythonab", "https://github.com/o/abx-lib", False),
        # Words of three characters count, generic words do not.
        ("abc-xy", "https://github.com/o/abcdef", True),
        ("xy-client", "https://github.com/o/client-thing", False),
        ("abc-xyz", "https://github.com/abcorg/thing", True),
        # An abbreviation of four characters or more.
        ("abcd", "https://github.com/zzz/axbxcxd", True),
        ("abc", "https://github.com/zzz/axbxc", False),
    ],
)
def test_repository_names_project_at_its_edges(project, url, expected):
    assert repository_names_project(project, url) is expected
