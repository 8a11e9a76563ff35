"""SAM prompts in image pixels: points (positive/negative), a box, a mask.

Coordinates follow ``ml/layout.py``: (x_px, y_px) = (column, row), pixel centres at
integers. The mask prompt's array is not stored here (it is large); ``mask_source`` says
where it came from, for the provenance.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator


class PointPrompt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    x_px: float
    y_px: float
    positive: bool = True


class BoxPrompt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    x0_px: float
    y0_px: float
    x1_px: float
    y1_px: float

    @model_validator(mode="after")
    def _ordered(self) -> BoxPrompt:
        if not (self.x0_px < self.x1_px and self.y0_px < self.y1_px):
            raise ValueError(
                f"box needs x0 < x1 and y0 < y1, got ({self.x0_px}, {self.y0_px}) to "
                f"({self.x1_px}, {self.y1_px})"
            )
        return self


class SamPrompts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    points: tuple[PointPrompt, ...] = ()
    box: BoxPrompt | None = None
    mask_source: str | None = None
    """Where the mask prompt came from (e.g. 'labels:lamella'); None: no mask prompt."""
    refines_previous: bool = False
    """The previous SAM mask's logits were the mask input (SAM's iterative refinement)."""

    @property
    def empty(self) -> bool:
        return not self.points and self.box is None and self.mask_source is None

    def check_inside(self, height_px: int, width_px: int) -> None:
        """Refuse prompts outside the image, naming the prompt and the allowed range."""
        for i, point in enumerate(self.points):
            if not (-0.5 <= point.x_px <= width_px - 0.5 and -0.5 <= point.y_px <= height_px - 0.5):
                raise ValueError(
                    f"point {i} at ({point.x_px:.1f}, {point.y_px:.1f}) px is outside the "
                    f"image: x must be -0.5..{width_px - 0.5}, y -0.5..{height_px - 0.5}"
                )
        if self.box is not None:
            b = self.box
            if (
                b.x1_px < -0.5
                or b.y1_px < -0.5
                or b.x0_px > width_px - 0.5
                or b.y0_px > height_px - 0.5
            ):
                raise ValueError(
                    f"box ({b.x0_px:.1f}, {b.y0_px:.1f})-({b.x1_px:.1f}, {b.y1_px:.1f}) px "
                    f"does not overlap the {width_px}x{height_px} px image"
                )
