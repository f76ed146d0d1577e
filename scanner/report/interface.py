"""The interface of an output format (a value of `trustmap scan --format`), and the
registry of them.

A format is an `OutputFormat`: its `name`, where it sits in the list of choices
(`position`), whether it `draws` on a rich Console (the terminal table) or returns the
whole document as text (JSON, CycloneDX), and its `render`:

    text format:     render(result, verbose=..., version=...) -> str
    console format:  render(result, console, verbose=..., version=...) -> None

`result` is a ScanResult with its summary; a format reads it and the model only. Each
module of scanner.report.formats registers its formats when imported; adding a format is
adding one module there. Those modules stay small and import what they render with only
when they render: the command line lists every format at start-up, and a script asking
for JSON never loads rich or the CycloneDX library.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scanner.model import InputError


@dataclass(frozen=True)
class OutputFormat:
    name: str
    position: int  # order among the --format choices, lowest first
    draws: bool  # True: render draws on a Console; False: render returns the text
    render: Callable[..., Any]


_REGISTRY: dict[str, OutputFormat] = {}


def register(output_format: OutputFormat) -> OutputFormat:
    """Add a format (called by each module of scanner.report.formats as it is imported)."""
    known = _REGISTRY.get(output_format.name)
    if known is not None and known is not output_format:
        raise ValueError(f"output format {output_format.name!r} is registered twice")
    _REGISTRY[output_format.name] = output_format
    return output_format


def _load_format_modules() -> None:
    from scanner.report import formats

    for module in pkgutil.iter_modules(formats.__path__):
        importlib.import_module(f"{formats.__name__}.{module.name}")


def output_formats() -> tuple[OutputFormat, ...]:
    """Every format, in the order --format lists them."""
    _load_format_modules()
    return tuple(sorted(_REGISTRY.values(), key=lambda f: (f.position, f.name)))


def format_names() -> tuple[str, ...]:
    return tuple(f.name for f in output_formats())


def output_format(name: str) -> OutputFormat:
    _load_format_modules()
    found = _REGISTRY.get(name)
    if found is None:  # click's Choice keeps this from happening on the command line
        raise InputError(f"unknown format {name!r}")
    return found
