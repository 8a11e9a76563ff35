"""The one range check and the one choice check for a value written to a setting or
given to a plan (after the type rule of `fibsem_ophyd.values`).

`in_range("ion.hfw_m", value, 1e-6, 1e-3, "m")` returns the value as a float or raises
ValueError naming the field, the value and the allowed range:
``ion.hfw_m=0.005 m is outside the allowed range [1e-06, 0.001] m``. NaN and inf are
refused ("is not a finite number"); a string or bool by the type rule.
`in_choices("ion.current_a", value, [1e-11, 3e-11], "A")` accepts members of the list
(numbers within a relative tolerance) and names the list otherwise.
`check_range` / `check_choice` make the same checks as callables for signals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .values import typed

Check = Callable[[Any], None]


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""


def in_range(
    field: str,
    value: Any,
    lo: float,
    hi: float,
    unit: str = "",
    *,
    lo_open: bool = False,
    what: str = "allowed range",
    config_key: str | None = None,
) -> float:
    """`value` as a float if finite and in [lo, hi] ((lo, hi] when `lo_open`), else
    ValueError naming `field`, the range (called `what`) and the configuration key the
    range comes from, if any."""
    v = typed(field, float, value, unit or None)
    u = _unit(unit)
    if not math.isfinite(v):
        raise ValueError(f"{field}={value!r}{u} is not a finite number")
    if v < lo or v > hi or (lo_open and v == lo):
        bracket = "(" if lo_open else "["
        source = f" ({config_key} in the configuration)" if config_key else ""
        raise ValueError(
            f"{field}={value!r}{u} is outside the {what} {bracket}{lo:g}, {hi:g}]{u}{source}"
        )
    return v


def _same(value: Any, allowed: Any, field: str, unit: str, rel_tol: float) -> bool:
    if isinstance(allowed, (int, float)) and not isinstance(allowed, bool):
        v = typed(field, float, value, unit or None)
        return abs(v - allowed) <= rel_tol * abs(allowed)
    return bool(value == allowed)


def in_choices(
    field: str, value: Any, allowed: Sequence[Any], unit: str = "", rel_tol: float = 1e-3
) -> Any:
    """`value` if it is one of `allowed` (a number within `rel_tol` of one), else
    ValueError naming `field` and the allowed values."""
    if any(_same(value, a, field, unit, rel_tol) for a in allowed):
        return value
    shown = ", ".join(f"{a:g}" if isinstance(a, float) else str(a) for a in allowed)
    u = _unit(unit)
    raise ValueError(f"{field}={value!r}{u} is not available; allowed: [{shown}]{u}")


def check_range(field: str, lo: float, hi: float, unit: str = "", **kwargs: Any) -> Check:
    """`in_range` as a check (see there for `lo_open`, `what`, `config_key`)."""

    def _check(value: Any) -> None:
        in_range(field, value, lo, hi, unit, **kwargs)

    return _check


def check_choice(
    field: str, allowed: Sequence[Any], unit: str = "", rel_tol: float = 1e-3
) -> Check:
    """`in_choices` as a check."""

    def _check(value: Any) -> None:
        in_choices(field, value, allowed, unit, rel_tol)

    return _check
