"""The one rule for the type of a value written to a setting or given to a plan.

`typed("electron.hfw_m", float, value, "m")` returns `value` as the field's type or
raises `WrongTypeError` naming the field, so a string never reaches a backend:

- bool: only True/False (also numpy's bool) — not "False", not 0/1;
- float: an int or a float (numpy numbers too) — not a bool, not a string;
- int: an int, or a float with no fraction (2.0) — not a bool, not 2.5, not a string;
- str: only a string.

Other datatypes pass through unchanged. Range and choice checks come after this one.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

_KIND = {bool: "True or False", float: "a number", int: "a whole number", str: "a string"}


class WrongTypeError(TypeError, ValueError):
    """A value of the wrong type for a field. Also a ValueError, like every other refusal
    of bad input, so `except ValueError` handlers catch it too."""


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _convert(datatype: type, value: Any) -> Any:
    """`value` as `datatype`, or None when the rule refuses it."""
    if datatype is bool:
        return bool(value) if _is_bool(value) else None
    if datatype is float:
        ok = isinstance(value, numbers.Real) and not _is_bool(value)
        return float(value) if ok else None
    if datatype is int:
        if _is_bool(value) or not isinstance(value, numbers.Real):
            return None
        if isinstance(value, numbers.Integral):
            return int(value)
        v = float(value)
        return int(v) if math.isfinite(v) and v.is_integer() else None
    if datatype is str:
        return str(value) if isinstance(value, str) else None
    return value


def typed(field: str, datatype: type[T], value: Any, unit: str | None = None) -> T:
    """`value` converted to `datatype` by the rule above, or WrongTypeError naming `field`."""
    converted = _convert(datatype, value)
    if converted is None:
        detail = ", ".join(p for p in (datatype.__name__, unit) if p)
        kind = _KIND.get(datatype, f"a {datatype.__name__}")
        raise WrongTypeError(
            f"{field}={value!r} must be {kind} ({detail}), got {type(value).__name__}"
        )
    return converted


def typed_number(field: str, value: Any, unit: str | None = None) -> float:
    """A finite number (int or float, metres/degrees/... as `unit` says), else an error
    naming `field`: WrongTypeError for a string or bool, ValueError for NaN or inf."""
    v = typed(field, float, value, unit)
    if not math.isfinite(v):
        raise ValueError(f"{field}={value!r} is not a finite number")
    return v


M = TypeVar("M")


def typed_model(field: str, model: type[M], value: Any) -> M:
    """`value` if it is a `model` (e.g. a StagePosition), else WrongTypeError naming
    `field`; a dict is refused too (an empty one would silently mean "do nothing")."""
    if isinstance(value, model):
        return value
    name = model.__name__
    hint = f" (build one: {name}(**values))" if isinstance(value, dict) else ""
    raise WrongTypeError(f"{field}={value!r} must be a {name}{hint}, got {type(value).__name__}")
