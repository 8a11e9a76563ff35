"""An array pattern: a base pattern repeated on an n_columns × n_rows grid."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .._base import NonNegative
from ..shapes import Shape
from ._pattern import PatternBase
from .basic import CirclePattern, LinePattern, PolygonPattern, RectanglePattern
from .bitmap import BitmapPattern
from .lamella import (
    FiducialPattern,
    MicroExpansionPattern,
    NotchPattern,
    TrenchPattern,
    UndercutPattern,
)

SinglePattern = Annotated[
    RectanglePattern
    | LinePattern
    | CirclePattern
    | PolygonPattern
    | BitmapPattern
    | TrenchPattern
    | FiducialPattern
    | UndercutPattern
    | MicroExpansionPattern
    | NotchPattern,
    Field(discriminator="kind"),
]


class ArrayPattern(PatternBase):
    """``base`` repeated on a grid centred on (x_m, y_m); the base's own (x_m, y_m) is an
    extra offset of every copy. Columns step by pitch_x_m (right), rows by pitch_y_m (up)."""

    kind: Literal["array"] = "array"
    base: SinglePattern = Field(description="The repeated pattern.")
    n_columns: int = Field(1, ge=1, le=1000, strict=True, description="Copies along x.")
    n_rows: int = Field(1, ge=1, le=1000, strict=True, description="Copies along y.")
    pitch_x_m: NonNegative = Field(0.0, description="Column pitch, metres (m).")
    pitch_y_m: NonNegative = Field(0.0, description="Row pitch, metres (m).")

    def offsets_m(self) -> list[tuple[float, float]]:
        """Centre of every copy relative to the base position, metres, row by row."""
        cx, cy = (self.n_columns - 1) / 2, (self.n_rows - 1) / 2
        return [
            (self.x_m + (i - cx) * self.pitch_x_m, self.y_m + (j - cy) * self.pitch_y_m)
            for j in range(self.n_rows)
            for i in range(self.n_columns)
        ]

    def shapes(self) -> list[Shape]:
        base = self.base.shapes()
        return [s.translated(dx, dy) for dx, dy in self.offsets_m() for s in base]
