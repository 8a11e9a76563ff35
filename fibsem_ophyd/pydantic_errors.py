"""The one translation of pydantic validation errors into keyed, readable lines.

A configuration, a lamella protocol and the twin's settings are pydantic models; a bad
file must get a message that names each dotted key (``ion.currents_a[3]``), the value
found and what is allowed (range, values, unit), never raw pydantic text.
`error_lines(exc, Model)` gives one line per problem; `config_error` and
`protocol_error` wrap them in their own exception types. A model's cross-field check
reports several keys at once with `raise_issues`.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

ISSUES = "issues"  # the error type `raise_issues` raises

# Unit suffixes of our key names, longest first ("_m_per_s" before "_s").
_UNITS = (
    ("_m_per_s", "metres per second (m/s)"),
    ("_deg_per_s", "degrees per second (deg/s)"),
    ("_k_per_min", "kelvin per minute (K/min)"),
    ("_px", "pixels"),
    ("_deg", "degrees (deg)"),
    ("_pa", "pascals (Pa)"),
    ("_m", "metres (m)"),
    ("_a", "amperes (A)"),
    ("_v", "volts (V)"),
    ("_s", "seconds (s)"),
    ("_k", "kelvin (K)"),
)
_BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_NUMBER_ERRORS = ("float_type", "float_parsing", "int_type", "int_parsing", "finite_number")
_BOUND_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def raise_issues(issues: list[tuple[str, str]]) -> None:
    """Raise one validation error carrying every (key relative to the model, message),
    so that each is reported under its exact dotted key, not under the model's."""
    if issues:
        raise PydanticCustomError(
            ISSUES, "; ".join(f"{key}: {msg}" for key, msg in issues), {"issues": issues}
        )


def fmt(value: Any) -> str:
    """A compact, readable rendering of a value for error messages."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return repr(value)


def dotted(loc: tuple[Any, ...]) -> str:
    """``('ion', 'currents_a', 3)`` → ``'ion.currents_a[3]'``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def unit_of(loc: tuple[Any, ...]) -> str | None:
    """The unit named by the nearest key in ``loc`` that carries a unit suffix."""
    for part in reversed(loc):
        if isinstance(part, str):
            for suffix, unit in _UNITS:
                if part.endswith(suffix):
                    return unit
    return None


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside a field annotation (also in Optional/list/...), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = model_in(arg)
        if found is not None:
            return found
    return None


def field_at(root: type[BaseModel], loc: tuple[Any, ...]) -> FieldInfo | None:
    """The pydantic field named by ``loc``, if any."""
    model: type[BaseModel] | None = root
    info: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        model = model_in(info.annotation)
    return info


def _got(value: Any) -> str:
    text = fmt(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"got {text} ({type(value).__name__})"


def _line(root: type[BaseModel], err: Any, key: str, loc: tuple[Any, ...]) -> str:
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    unit = unit_of(loc)
    in_unit, unit_short = (f" in {unit}", f" {unit}") if unit else ("", "")
    info = field_at(root, loc)
    desc = f" ({info.description})" if info is not None and info.description else ""
    if kind == "missing":
        return f"{key}: missing required key; expected a value{in_unit}{desc}"
    if kind == "extra_forbidden":
        parent = field_at(root, loc[:-1]) if loc[:-1] else None
        model = model_in(parent.annotation) if parent is not None else root
        allowed = ", ".join(model.model_fields) if model is not None else "?"
        return f"{key}: unknown key (a typo?); allowed keys here: {allowed}"
    if kind == "literal_error":
        return f"{key}: {_got(value)}; allowed: {ctx.get('expected', '?')}"
    if kind in _NUMBER_ERRORS:
        what = "an integer" if kind.startswith("int") else "a number"
        return f"{key}: {_got(value)}; expected {what}{in_unit}{desc}"
    if kind in _BOUND_ERRORS:
        bound = next((f"{op} {fmt(ctx[k])}" for k, op in _BOUNDS.items() if k in ctx), "?")
        return f"{key}: {_got(value)}; must be {bound}{unit_short}{desc}"
    if kind == "range_reversed":
        return (
            f"{key}: min ({ctx.get('lo')}) is greater than max ({ctx.get('hi')}){unit_short}; "
            "a range needs min <= max"
        )
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{key}: {_got(value)}; {msg}{desc}"


def error_lines(exc: ValidationError, root: type[BaseModel], prefix: str = "") -> list[str]:
    """One line per problem in ``exc`` (validating ``root``), each starting with its
    dotted key; ``prefix`` (e.g. ``advanced.Demo``) goes before every key."""
    lines: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(p for p in (prefix, dotted(loc) if loc else "") if p) or "<root>"
        if err["type"] == ISSUES:
            base = f"{key}." if loc or prefix else ""
            lines.extend(f"{base}{k}: {m}" for k, m in err["ctx"]["issues"])
        else:
            lines.append(_line(root, err, key, loc))
    return lines


def summary(what: str, lines: list[str]) -> str:
    """``what`` followed by the numbered count and one indented line per problem."""
    body = "\n".join(f"  - {line}" for line in lines)
    return f"{what} ({len(lines)} problem(s)):\n{body}"
