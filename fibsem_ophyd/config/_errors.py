"""ConfigError: an invalid configuration, its pydantic errors translated by the one
translator (`fibsem_ophyd.pydantic_errors`) into keyed, readable lines."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from fibsem_ophyd.pydantic_errors import error_lines, summary


class ConfigError(ValueError):
    """A configuration file or mapping is invalid. The message lists every problem,
    each under its dotted key (e.g. ``ion.currents_a[3]``), with the value found and
    what is allowed (values or range, and unit)."""


def config_error(exc: ValidationError, root: type[BaseModel], source: str) -> ConfigError:
    """One ConfigError listing every problem in ``exc`` (``source``: file name or '<dict>')."""
    return ConfigError(
        summary(f"invalid microscope configuration {source}", error_lines(exc, root))
    )
