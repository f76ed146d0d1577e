"""Where each enrichment source is asked: a base URL per source, from the command line
(off only), then the environment (`TRUSTMAP_<NAME>_API_URL`: a URL, or `off`), then the
config file, then the public service. Settings only (no network, no stage), so that the
configuration and the options can name the sources without importing them; the sources
themselves are in scanner.sources.enrichment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["PUBLIC_URLS", "Endpoints", "choose_endpoints", "environment_variable"]

# name (as in --no-NAME, config `sources.NAME` and TRUSTMAP_<NAME>_API_URL) -> public URL
PUBLIC_URLS: dict[str, str] = {
    "osv": "https://api.osv.dev",
    "github": "https://api.github.com",
    "depsdev": "https://api.deps.dev",
    "scorecard": "https://api.securityscorecards.dev",
    "pypistats": "https://pypistats.org",
}
_OFF = ("off", "", "0", "false", "no")


@dataclass(frozen=True)
class Endpoints:
    """Per enrichment source: its API's base URL, or None when switched off, and then
    by what (`why_off`)."""

    urls: Mapping[str, str | None] = field(default_factory=lambda: dict(PUBLIC_URLS))
    why_off: Mapping[str, str] = field(default_factory=dict)

    def url(self, name: str) -> str | None:
        return self.urls.get(name)


def environment_variable(name: str) -> str:
    return f"TRUSTMAP_{name.upper()}_API_URL"


def choose_endpoints(
    switched_off: Sequence[str] = (),
    configured: Mapping[str, bool | str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Endpoints:
    """Each source's base URL: off on the command line (`switched_off`), else the
    environment's, else the config's (`configured`: true, false or a URL), else the
    public service's."""
    environ = os.environ if environ is None else environ
    configured = configured or {}
    urls: dict[str, str | None] = {}
    why_off: dict[str, str] = {}
    for name, public in PUBLIC_URLS.items():
        variable = environment_variable(name)
        from_environment = environ.get(variable)
        setting = configured.get(name, True)
        if name in switched_off:
            urls[name], why_off[name] = None, f"switched off (--no-{name})"
        elif from_environment is not None:
            value = from_environment.strip()
            if value.lower() in _OFF:
                urls[name], why_off[name] = None, f"switched off ({variable}={value})"
            else:
                urls[name] = value.rstrip("/")
        elif setting is False:
            urls[name], why_off[name] = None, f"switched off (config sources.{name} = false)"
        elif isinstance(setting, str):
            urls[name] = setting.strip().rstrip("/")
        else:
            urls[name] = public
    return Endpoints(urls, why_off)
