"""ProtocolError and the translation of pydantic errors into keyed, readable lines."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from fibsem_ophyd.config._errors import model_in

from ._base import fmt


class ProtocolError(ValueError):
    """A lamella protocol is invalid. The message lists every problem, each under its
    dotted key (e.g. ``stages.rough.steps[0].current_a``), with the value found and what
    is allowed."""


def raise_issues(issues: list[tuple[str, str]]) -> None:
    """Raise one validation error carrying (dotted key relative to the model, message)."""
    if issues:
        raise PydanticCustomError(
            "protocol_issues", "; ".join(f"{k}: {m}" for k, m in issues), {"issues": issues}
        )


def dotted(loc: tuple[Any, ...]) -> str:
    """``('stages', 'rough', 'steps', 0, 'current_a')`` → ``stages.rough.steps[0].current_a``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def _walk(root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[type[BaseModel] | None, Any]:
    """(model holding the last key of ``loc``, its FieldInfo or None)."""
    model: type[BaseModel] | None = root
    holder, info = root, None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return model, None
        holder, info = model, model.model_fields[part]
        model = model_in(info.annotation)
    return holder, info


def _line(root: type[BaseModel], err: Any) -> list[str]:
    loc, kind = tuple(err["loc"]), err["type"]
    key = dotted(loc)
    if kind == "protocol_issues":
        base = f"{key}." if loc else ""
        return [f"{base}{k}: {m}" for k, m in err["ctx"]["issues"]]
    _, info = _walk(root, loc)
    desc = f" ({info.description})" if info is not None and info.description else ""
    if kind == "missing":
        return [f"{key}: missing required key{desc}"]
    if kind == "extra_forbidden":
        _, parent = _walk(root, loc[:-1])
        model = model_in(parent.annotation) if parent is not None else root
        allowed = ", ".join(model.model_fields) if model is not None else "?"
        return [f"{key}: unknown key (a typo?); allowed keys here: {allowed}"]
    value = err.get("input")
    text = fmt(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    msg = str(err["msg"]).removeprefix("Value error, ")
    return [f"{key}: got {text} ({type(value).__name__}); {msg}{desc}"]


def protocol_error(exc: ValidationError, root: type[BaseModel], source: str) -> ProtocolError:
    """One ProtocolError listing every problem in ``exc``; ``source`` names the file."""
    lines = [line for err in exc.errors() for line in _line(root, err)]
    body = "\n".join(f"  - {line}" for line in lines)
    return ProtocolError(f"invalid lamella protocol {source} ({len(lines)} problem(s)):\n{body}")
