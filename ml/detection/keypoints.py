"""Keypoint results: a named pixel position with a confidence score."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keypoint:
    """A detected point: pixel ``(x_px, y_px)`` = (col, row), pixel centres at integers;
    ``score`` in 0..1 (low: not found, the caller should keep its old estimate)."""

    name: str
    x_px: float
    y_px: float
    score: float

    def offset_m(self, image_shape: tuple[int, ...], pixel_size_m: float) -> tuple[float, float]:
        """Image-plane offset ``(dx_m, dy_m)`` from the image centre: x right, y up
        (docs/coordinates.md: ``col = (W-1)/2 + dx/ps``, ``row = (H-1)/2 - dy/ps``)."""
        if len(image_shape) < 2:
            raise ValueError(f"image_shape must be (rows, cols, ...), got {image_shape!r}")
        if not pixel_size_m > 0:
            raise ValueError(f"pixel_size_m must be > 0, got {pixel_size_m}")
        height, width = image_shape[0], image_shape[1]
        dx = (self.x_px - (width - 1) / 2.0) * pixel_size_m
        dy = ((height - 1) / 2.0 - self.y_px) * pixel_size_m
        return dx, dy
