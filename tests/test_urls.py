"""Index URLs from the user: checked where they come in; credentials removed from any
URL without ever raising."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.sources.http import redact
from scanner.urls import index_url_problem, without_credentials


@pytest.mark.parametrize(
    "url",
    [
        "https://pypi.org/simple",
        "http://127.0.0.1:8080/simple/",
        "https://[::1]:8080/simple",
        "https://[2001:db8::1]/simple",
        "https://user:token@mirror.example:443/root/pypi/+simple",
    ],
)
def test_usable_index_urls_pass(url):
    assert index_url_problem(url) is None


@pytest.mark.parametrize(
    "url, shown",
    [
        ("https://user:tok@[::1]:8080/simple", "https://[::1]:8080/simple"),
        ("https://user:tok@host:99999/simple", "https://host:99999/simple"),
        ("https://user:tok@[::1/simple", "https://[::1/simple"),
        ("https://us@er:t@k@host/simple?q=1#f", "https://host/simple?q=1#f"),
        ("https://host/simple/user@example", "https://host/simple/user@example"),
        ("not a url", "not a url"),
    ],
)
def test_credentials_are_removed_and_the_rest_kept_as_written(url, shown):
    assert without_credentials(url) == shown
    assert redact(url) == shown


_URL_PARTS = st.sampled_from(
    ["https://", "http://", "ftp://", "//", "[", "]", "::1", ":", "@", "/", "?", "#", "host",
     "99999", "8080", "%", " ", "\n", "user", "tok"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.lists(_URL_PARTS, max_size=12).map("".join)))
def test_any_text_gives_a_verdict_and_a_redaction_never_an_exception(text):
    problem = index_url_problem(text)
    assert problem is None or "\n" not in problem
    without_credentials(text)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="abcXYZ019-._~!$&'()*+,;=:", min_size=1, max_size=20),
    st.sampled_from(["host", "[::1]", "[::1", "host:99999", "host:x", "10.0.0.1:8080"]),
)
def test_a_password_never_survives_redaction(password, host):
    url = f"https://user:{password}SECRET@{host}/simple"
    assert "SECRET" not in without_credentials(url)
