"""Milling patterns: validated models with their geometry, one discriminated union.

A YAML/JSON list of mappings with a ``kind`` key loads with ``load_patterns``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from ._pattern import PatternBase
from .array import ArrayPattern, SinglePattern
from .basic import CirclePattern, LinePattern, PolygonPattern, RectanglePattern
from .bitmap import BitmapPattern
from .lamella import (
    FiducialPattern,
    MicroExpansionPattern,
    NotchPattern,
    TrenchPattern,
    UndercutPattern,
)

Pattern = Annotated[SinglePattern | ArrayPattern, Field(discriminator="kind")]

_PATTERN_LIST: TypeAdapter[list[Any]] = TypeAdapter(list[Pattern])


def load_patterns(data: list[dict[str, Any]]) -> list[PatternBase]:
    """Validate a list of pattern mappings (each with a ``kind``)."""
    return _PATTERN_LIST.validate_python(data)


__all__ = [
    "ArrayPattern",
    "BitmapPattern",
    "CirclePattern",
    "FiducialPattern",
    "LinePattern",
    "MicroExpansionPattern",
    "NotchPattern",
    "Pattern",
    "PatternBase",
    "PolygonPattern",
    "RectanglePattern",
    "SinglePattern",
    "TrenchPattern",
    "UndercutPattern",
    "load_patterns",
]
