"""The base of every milling pattern: placement, derived geometry, masks, field check."""

from __future__ import annotations

from typing import Self

import numpy as np
from pydantic import Field

from .. import _raster
from .._base import BoundingBox, Model, Number, fmt
from ..shapes import Shape


class PatternBase(Model):
    """A pattern placed by its centre (x_m, y_m) in the ion image plane: metres from the
    image centre, x right, y up. Subclasses define ``shapes()``; the rest derives from it."""

    kind: str
    name: str | None = Field(None, description="Optional label used in error messages.")
    x_m: Number = Field(0.0, description="Centre x in the ion image plane, metres (m), right.")
    y_m: Number = Field(0.0, description="Centre y in the ion image plane, metres (m), up.")

    @property
    def label(self) -> str:
        """How error messages name this pattern."""
        return f"{self.kind} {self.name!r}" if self.name else self.kind

    def shapes(self) -> list[Shape]:
        """The primitive shapes the microscope draws for this pattern (each kind of
        pattern defines its own; the base has none)."""
        return []

    def moved(self, dx_m: float, dy_m: float) -> Self:
        """A copy shifted by (dx_m, dy_m) in the image plane."""
        return self.model_copy(update={"x_m": self.x_m + dx_m, "y_m": self.y_m + dy_m})

    def bounding_box(self) -> BoundingBox:
        """Axis-aligned box holding every shape, metres."""
        boxes = [s.bounding_box() for s in self.shapes()]
        box = boxes[0]
        for other in boxes[1:]:
            box = box.union(other)
        return box

    def area_m2(self) -> float:
        """Milled area, m²: the sum over shapes (overlapping shapes count twice)."""
        return sum(s.area_m2() for s in self.shapes())

    def volume_m3(self) -> float:
        """Milled volume, m³: Σ area × depth over shapes."""
        return sum(s.volume_m3() for s in self.shapes())

    def dose(self, shape_px: tuple[int, int], pixel_size_m: float) -> np.ndarray:
        """Relative dose 0..1 (float32) on an image of ``shape_px = (rows, cols)`` pixels,
        square pixels of ``pixel_size_m`` metres, image centre at (0, 0)."""
        shape_px = _raster.check_grid(shape_px, pixel_size_m)
        out = np.zeros(shape_px, dtype=np.float32)
        for s in self.shapes():
            s.paint(out, pixel_size_m)
        return out

    def mask(self, shape_px: tuple[int, int], pixel_size_m: float) -> np.ndarray:
        """Boolean raster of the pixels this pattern mills (see ``dose``)."""
        return self.dose(shape_px, pixel_size_m) > 0

    def validate_in_field(self, hfw_m: float, aspect: float = 1.5) -> None:
        """Raise ValueError if the pattern leaves the field of view.

        The field spans ±hfw_m/2 horizontally and ±hfw_m/(2·aspect) vertically, where
        ``aspect`` = image width / height (1.5 for 1536×1024).
        """
        if not (hfw_m > 0 and aspect > 0):
            raise ValueError(f"hfw_m ({fmt(hfw_m)}) and aspect ({fmt(aspect)}) must be > 0")
        hx, hy = hfw_m / 2, hfw_m / (2 * aspect)
        box = self.bounding_box()
        excess = {
            "left": -hx - box.min_x_m,
            "right": box.max_x_m - hx,
            "bottom": -hy - box.min_y_m,
            "top": box.max_y_m - hy,
        }
        out = [f"{fmt(d)} m beyond the {edge} edge" for edge, d in excess.items() if d > 1e-12]
        if out:
            raise ValueError(
                f"pattern {self.label}: outside the field of view (hfw_m = {fmt(hfw_m)} m, "
                f"vertical field {fmt(2 * hy)} m, x in ±{fmt(hx)} m, y in ±{fmt(hy)} m): "
                + ", ".join(out)
            )
