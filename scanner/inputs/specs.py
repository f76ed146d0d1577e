"""Requirements given on the command line: `name`, `name==1.2`, `name[extra]>=1; marker`."""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Location, Requirement
from ._common import declared_requirement, input_error, parse_pep508

COMMAND_LINE = "<command line>"


def parse_spec_arguments(args: Iterable[str]) -> list[Requirement]:
    """One Requirement per argument; Location's line is the argument's 1-based position."""
    requirements = []
    for position, argument in enumerate(args, start=1):
        text = argument.strip()
        if not text:
            raise input_error(COMMAND_LINE, position, "empty requirement")
        parsed = parse_pep508(text, COMMAND_LINE, position)
        requirements.append(declared_requirement(parsed, Location(COMMAND_LINE, position)))
    return requirements
