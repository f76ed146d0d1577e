"""How counts and lists of names are worded, in notes and reports alike."""

from __future__ import annotations

from scanner.wording import counted, some_of


def test_counts_take_an_s_except_for_one():
    assert [counted(n, "package") for n in (0, 1, 2)] == ["0 packages", "1 package", "2 packages"]


def test_a_list_names_the_first_few_and_counts_the_rest():
    names = ["a", "b", "c", "d", "e", "f", "g"]
    assert some_of(names) == "a, b, c, d, e and 2 more"
    assert some_of(names, 3, ellipsis=True) == "a, b, c, … 4 more"
    assert some_of(names[:5]) == "a, b, c, d, e"  # all shown: no "and 0 more"
    assert some_of([]) == ""
