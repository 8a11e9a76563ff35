"""A canvas drawn on in image pixels: grey image, class mask and keypoints, kept in step.

Every object is drawn as a polygon into the grey image and, with the same polygon and
rasterisation, into the class mask, so the mask matches the image pixel for pixel.
Keypoint coordinates are (x_px, y_px) = (column, row), pixel centres at integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .labels import CLASS_INDEX, FEATURES

SUBPIXEL_BITS = 4


def rect_polygon(
    centre: tuple[float, float], size: tuple[float, float], angle_deg: float
) -> np.ndarray:
    """(4, 2) corners of a w x h rectangle centred on `centre`, rotated by `angle_deg`."""
    w, h = size
    a = np.deg2rad(angle_deg)
    ux, uy = np.cos(a), np.sin(a)
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    rot = np.array([[ux, -uy], [uy, ux]])
    return corners @ rot.T + np.asarray(centre, float)


@dataclass
class Canvas:
    image: np.ndarray  # float32 grey, nominally 0..1
    mask: np.ndarray  # uint8 class indices
    pixel_m: float
    rng: np.random.Generator
    keypoints: list[tuple[str, int, float, float]] = field(default_factory=list)
    milled: np.ndarray | None = None  # bool: where curtaining may show
    lamella_lengths_m: dict[int, float] = field(default_factory=dict)  # by instance

    @classmethod
    def blank(
        cls, background: np.ndarray, mask: np.ndarray, pixel_m: float, rng: np.random.Generator
    ) -> Canvas:
        return cls(background.astype(np.float32), mask.astype(np.uint8), pixel_m, rng)

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape  # type: ignore[return-value]

    def px(self, metres: float) -> float:
        return metres / self.pixel_m

    def region(self, polygon: np.ndarray) -> np.ndarray:
        """Bool mask of the pixels whose centres the polygon covers."""
        out = np.zeros(self.shape, np.uint8)
        pts = np.round(np.asarray(polygon) * (1 << SUBPIXEL_BITS)).astype(np.int32)
        cv2.fillPoly(out, [pts], 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
        return out.astype(bool)

    def paint(
        self,
        polygon: np.ndarray,
        class_name: str | None,
        grey: np.ndarray | float,
        milled: bool = False,
    ) -> np.ndarray:
        """Fill `polygon` with `grey` (a constant or a full-size array); label it
        `class_name` (None: leave the mask as it is, e.g. a trench in the background)."""
        sel = self.region(polygon)
        self.image[sel] = grey[sel] if isinstance(grey, np.ndarray) else grey
        if class_name is not None:
            self.mask[sel] = CLASS_INDEX[class_name]
        if milled:
            if self.milled is None:
                self.milled = np.zeros(self.shape, bool)
            self.milled |= sel
        return sel

    def keypoint(self, feature: str, x_px: float, y_px: float, instance: int = 0) -> None:
        if feature not in FEATURES:
            raise ValueError(f"unknown feature {feature!r}; known: {FEATURES}")
        h, w = self.shape
        if -0.5 <= x_px <= w - 0.5 and -0.5 <= y_px <= h - 0.5:  # outside: not in the image
            self.keypoints.append((feature, instance, float(x_px), float(y_px)))
