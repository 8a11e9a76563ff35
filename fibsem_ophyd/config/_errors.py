"""ConfigError and the translation of pydantic errors into readable, keyed messages."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from ._base import fmt

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


class ConfigError(ValueError):
    """A configuration file or mapping is invalid. The message lists every problem,
    each under its dotted key (e.g. ``ion.currents_a[3]``), with the value found and
    what is allowed (values or range, and unit)."""


def dotted(loc: tuple[Any, ...]) -> str:
    """``('ion', 'currents_a', 3)`` → ``'ion.currents_a[3]'``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
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


def field_at(root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[FieldInfo | None, Any]:
    """The pydantic field named by ``loc`` (and the model holding it), if any."""
    model: type[BaseModel] | None = root
    info: FieldInfo | None = None
    holder: Any = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None, None
        holder = model
        info = model.model_fields[part]
        model = model_in(info.annotation)
    return info, holder


def _got(value: Any) -> str:
    text = fmt(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"got {text} ({type(value).__name__})"


def _describe(root: type[BaseModel], err: Any) -> list[str]:
    loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "config_issues":
        base = dotted(loc)
        return [f"{base}.{key}: {msg}" if loc else f"{key}: {msg}" for key, msg in ctx["issues"]]
    key = dotted(loc)
    unit = unit_of(loc)
    unit_txt = f" in {unit}" if unit else ""
    info, _ = field_at(root, loc)
    desc = f" ({info.description})" if info is not None and info.description else ""
    value = err.get("input")
    if kind == "missing":
        return [f"{key}: missing required key; expected a value{unit_txt}{desc}"]
    if kind == "extra_forbidden":
        parent, _ = field_at(root, loc[:-1])
        model = model_in(parent.annotation) if parent is not None else root
        allowed = ", ".join(model.model_fields) if model is not None else "?"
        return [f"{key}: unknown key (a typo?); allowed keys here: {allowed}"]
    if kind == "literal_error":
        return [f"{key}: {_got(value)}; allowed: {ctx.get('expected', '?')}"]
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing", "finite_number"):
        what = "an integer" if kind.startswith("int") else "a number"
        return [f"{key}: {_got(value)}; expected {what}{unit_txt}{desc}"]
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next((f"{op} {fmt(ctx[k])}" for k, op in _BOUNDS.items() if k in ctx), "?")
        unit_short = f" {unit}" if unit else ""
        return [f"{key}: {_got(value)}; must be {bound}{unit_short}{desc}"]
    if kind == "range_reversed":
        unit_short = f" {unit}" if unit else ""
        return [
            f"{key}: min ({ctx.get('lo')}) is greater than max ({ctx.get('hi')}){unit_short}; "
            "a range needs min <= max"
        ]
    msg = str(err["msg"]).removeprefix("Value error, ")
    return [f"{key}: {_got(value)}; {msg}{desc}"]


def config_error(exc: ValidationError, root: type[BaseModel], source: str) -> ConfigError:
    """One ConfigError listing every problem in ``exc`` (``source``: file name or '<dict>')."""
    lines: list[str] = []
    for err in exc.errors():
        lines.extend(_describe(root, err))
    body = "\n".join(f"  - {line}" for line in lines)
    n = len(lines)
    return ConfigError(f"invalid microscope configuration {source} ({n} problem(s)):\n{body}")
