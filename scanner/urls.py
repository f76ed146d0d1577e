"""Index URLs given by the user (command line, config, requirements file, PIP_INDEX_URL):
checked once where they come in, so that a typo ends in one line naming where it was
written, never in a traceback deep inside the network code."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_AUTHORITY = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:)?//([^/?#]*)")
_BRACKETED_HOST = re.compile(r"\[[^\]]*\](:\d*)?")


def without_credentials(url: str) -> str:
    """The URL with any user name and password removed, as written otherwise. Never
    raises, even on a malformed URL: it is used in error messages about such URLs."""
    match = _AUTHORITY.match(url)
    if not match or "@" not in match.group(2):
        return url
    start, end = match.span(2)
    return url[:start] + match.group(2).rpartition("@")[2] + url[end:]


def index_url_problem(url: str) -> str | None:
    """What is wrong with an index URL, or None when it can be used: an http(s) URL with
    a host, a port in range, and an IPv6 address in brackets."""
    if not url.strip():
        return "is empty"
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "contains white space or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # parsed lazily: out-of-range and non-numeric ports raise here
    except ValueError as error:
        reason = str(error) or "malformed"
        return f"is not a valid URL: {reason[0].lower()}{reason[1:]}"
    if parts.scheme.lower() not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host name"
    host_and_port = parts.netloc.rpartition("@")[2]
    if host_and_port.startswith("[") and not _BRACKETED_HOST.fullmatch(host_and_port):
        return "is not a valid URL: an IPv6 address in brackets must be followed by :port or /"
    if port == 0:
        return "has port 0"
    return None
