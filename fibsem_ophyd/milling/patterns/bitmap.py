"""A bitmap pattern: a small 2-D dose map (0..1) stretched over a rotated rectangle."""

from __future__ import annotations

from typing import Annotated, Literal, Self

import cv2
import numpy as np
from pydantic import Field, PrivateAttr, StrictFloat, model_validator

from .._base import Positive, Rotation
from ..shapes import BitmapShape, Shape
from ._pattern import PatternBase

DoseValue = Annotated[StrictFloat, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


def _read_png(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"path: cannot read an image from {path!r}; expected a PNG file")
    if image.ndim == 3:
        image = cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2GRAY)
    full = np.iinfo(image.dtype).max if image.dtype.kind in "ui" else 1.0
    return np.clip(image.astype(np.float64) / full, 0.0, 1.0)


class BitmapPattern(PatternBase):
    """Dose from ``bitmap`` (rows of values 0..1, row 0 at the top) or a grayscale PNG at
    ``path`` (white = full dose), mapped onto width_m × height_m."""

    kind: Literal["bitmap"] = "bitmap"
    bitmap: list[list[DoseValue]] | None = Field(None, description="Dose rows, 0..1.")
    path: str | None = Field(None, description="Grayscale PNG file; white = dose 1.")
    width_m: Positive = Field(5e-6, description="Width, metres (m).")
    height_m: Positive = Field(5e-6, description="Height, metres (m).")
    rotation_deg: Rotation = Field(0.0, description="Counter-clockwise rotation, degrees.")
    depth_m: Positive = Field(1e-6, description="Depth at dose 1, metres (m).")

    _array: np.ndarray = PrivateAttr()

    @model_validator(mode="after")
    def _load(self) -> Self:
        if (self.bitmap is None) == (self.path is None):
            raise ValueError(
                "bitmap / path: give exactly one of bitmap (rows of dose 0..1) or path (PNG)"
            )
        if self.path is not None:
            array = _read_png(self.path)
        else:
            rows = self.bitmap or []
            widths = {len(r) for r in rows}
            if not rows or widths == {0} or len(widths) != 1:
                raise ValueError(
                    f"bitmap: rows must be non-empty and equally long; got lengths {sorted(widths)}"
                )
            array = np.asarray(rows, dtype=np.float64)
        if array.ndim != 2 or array.size == 0 or array.max() <= 0:
            raise ValueError("bitmap: the dose map must be a 2-D array with some dose > 0")
        self._array = array
        return self

    @property
    def array(self) -> np.ndarray:
        """The dose map (rows, cols), values 0..1."""
        return self._array

    def shapes(self) -> list[Shape]:
        return [
            BitmapShape(
                x_m=self.x_m,
                y_m=self.y_m,
                width_m=self.width_m,
                height_m=self.height_m,
                rotation_deg=self.rotation_deg,
                dose=self._array,
                depth_m=self.depth_m,
            )
        ]
