"""ProtocolError: an invalid lamella protocol, its pydantic errors translated by the one
translator (`fibsem_ophyd.pydantic_errors`) into keyed, readable lines."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from fibsem_ophyd.pydantic_errors import error_lines, raise_issues, summary

__all__ = ["ProtocolError", "protocol_error", "raise_issues"]


class ProtocolError(ValueError):
    """A lamella protocol is invalid. The message lists every problem, each under its
    dotted key (e.g. ``stages.rough.steps[0].current_a``), with the value found and what
    is allowed."""


def protocol_error(exc: ValidationError, root: type[BaseModel], source: str) -> ProtocolError:
    """One ProtocolError listing every problem in ``exc``; ``source`` names the file."""
    return ProtocolError(summary(f"invalid lamella protocol {source}", error_lines(exc, root)))
