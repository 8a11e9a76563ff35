"""Shared building blocks of the milling models: strict finite numbers, enums, boxes."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StrictFloat

# Int or float, finite; strings ("1 nA") and booleans are refused rather than coerced.
Number = Annotated[StrictFloat, Field(allow_inf_nan=False)]
Positive = Annotated[StrictFloat, Field(gt=0.0, allow_inf_nan=False)]
NonNegative = Annotated[StrictFloat, Field(ge=0.0, allow_inf_nan=False)]
# Rotations are counter-clockwise in the image plane, degrees, within ±360.
Rotation = Annotated[StrictFloat, Field(ge=-360.0, le=360.0, allow_inf_nan=False)]

# Touching is allowed; geometric overlaps smaller than this (metres) are ignored.
TOUCH_TOLERANCE_M = 1e-9


class Model(BaseModel):
    """Base of every milling model: immutable, unknown keys refused, NaN/inf refused."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


class ScanDirection(StrEnum):
    """Order in which the beam sweeps a pattern (image-plane directions)."""

    TOP_TO_BOTTOM = "TopToBottom"
    BOTTOM_TO_TOP = "BottomToTop"
    LEFT_TO_RIGHT = "LeftToRight"
    RIGHT_TO_LEFT = "RightToLeft"


class CrossSection(StrEnum):
    """How the beam steps through a pattern's depth."""

    RECTANGLE = "Rectangle"  # all lines every pass: uniform depth
    REGULAR = "RegularCrossSection"  # stair-step: deepest at the far edge
    CLEANING = "CleaningCrossSection"  # line by line toward the face: a clean wall


class PatterningMode(StrEnum):
    """Whether the patterns of a stage are milled one after the other or together."""

    SERIAL = "Serial"
    PARALLEL = "Parallel"


class BoundingBox(NamedTuple):
    """An axis-aligned box in the ion image plane, metres (x right, y up)."""

    min_x_m: float
    min_y_m: float
    max_x_m: float
    max_y_m: float

    @property
    def width_m(self) -> float:
        return self.max_x_m - self.min_x_m

    @property
    def height_m(self) -> float:
        return self.max_y_m - self.min_y_m

    def union(self, other: BoundingBox) -> BoundingBox:
        """The smallest box holding both."""
        return BoundingBox(
            min(self.min_x_m, other.min_x_m),
            min(self.min_y_m, other.min_y_m),
            max(self.max_x_m, other.max_x_m),
            max(self.max_y_m, other.max_y_m),
        )

    def intersection(self, other: BoundingBox) -> BoundingBox | None:
        """The common part, or None when the boxes do not overlap (touching is not overlap)."""
        lo_x, lo_y = max(self.min_x_m, other.min_x_m), max(self.min_y_m, other.min_y_m)
        hi_x, hi_y = min(self.max_x_m, other.max_x_m), min(self.max_y_m, other.max_y_m)
        if hi_x - lo_x <= TOUCH_TOLERANCE_M or hi_y - lo_y <= TOUCH_TOLERANCE_M:
            return None
        return BoundingBox(lo_x, lo_y, hi_x, hi_y)


def fmt(value: object) -> str:
    """A compact rendering of a number (or list of numbers) for error messages."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return repr(value)
