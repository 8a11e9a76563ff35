"""Primitive shapes: the elementary things a microscope draws (image plane, metres).

Patterns expand into these. ``scan_direction`` / ``cross_section`` left as None take
the stage's ``MillingParameters`` (see ``MillingStage.resolved_shapes``).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Self

import cv2
import numpy as np

from . import _raster
from ._base import BoundingBox, CrossSection, ScanDirection
from ._geometry import Point, rectangle_corners, signed_area


@dataclass(frozen=True, kw_only=True)
class Shape(ABC):
    """Common settings of every primitive: milling depth and scan settings."""

    depth_m: float
    scan_direction: ScanDirection | None = None
    cross_section: CrossSection | None = None

    @abstractmethod
    def bounding_box(self) -> BoundingBox: ...

    @abstractmethod
    def area_m2(self) -> float:
        """Milled area, m² (dose-weighted for bitmaps)."""

    def volume_m3(self) -> float:
        """Milled volume, m³: area × depth."""
        return self.area_m2() * self.depth_m

    @abstractmethod
    def translated(self, dx_m: float, dy_m: float) -> Self: ...

    @abstractmethod
    def _values(self, x: np.ndarray, y: np.ndarray, pixel_size_m: float) -> np.ndarray: ...

    def paint(self, out: np.ndarray, pixel_size_m: float) -> None:
        """Add this shape's dose (0..1) to ``out`` (rows, cols) by maximum."""
        win = _raster.window(out.shape, pixel_size_m, self.bounding_box())
        if win is not None:
            _raster.paint(out, win, self._values(win[2], win[3], pixel_size_m))


def _box_of(points: list[Point]) -> BoundingBox:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return BoundingBox(min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True, kw_only=True)
class RectangleShape(Shape):
    """A rectangle centred on (x_m, y_m), rotated counter-clockwise by rotation_deg."""

    x_m: float
    y_m: float
    width_m: float
    height_m: float
    rotation_deg: float = 0.0

    def corners(self) -> list[Point]:
        return rectangle_corners(self.x_m, self.y_m, self.width_m, self.height_m, self.rotation_deg)

    def bounding_box(self) -> BoundingBox:
        return _box_of(self.corners())

    def area_m2(self) -> float:
        return self.width_m * self.height_m

    def translated(self, dx_m: float, dy_m: float) -> Self:
        return replace(self, x_m=self.x_m + dx_m, y_m=self.y_m + dy_m)

    def _values(self, x, y, pixel_size_m):
        return _raster.fill_polygon(x, y, pixel_size_m, self.corners())


@dataclass(frozen=True, kw_only=True)
class LineShape(Shape):
    """A straight cut from start to end, ``width_m`` wide (about the beam diameter)."""

    start_x_m: float
    start_y_m: float
    end_x_m: float
    end_y_m: float
    width_m: float

    def length_m(self) -> float:
        return math.hypot(self.end_x_m - self.start_x_m, self.end_y_m - self.start_y_m)

    def bounding_box(self) -> BoundingBox:
        h = self.width_m / 2
        return BoundingBox(
            min(self.start_x_m, self.end_x_m) - h,
            min(self.start_y_m, self.end_y_m) - h,
            max(self.start_x_m, self.end_x_m) + h,
            max(self.start_y_m, self.end_y_m) + h,
        )

    def area_m2(self) -> float:
        return self.length_m() * self.width_m

    def translated(self, dx_m: float, dy_m: float) -> Self:
        return replace(
            self,
            start_x_m=self.start_x_m + dx_m,
            start_y_m=self.start_y_m + dy_m,
            end_x_m=self.end_x_m + dx_m,
            end_y_m=self.end_y_m + dy_m,
        )

    def _values(self, x, y, pixel_size_m):
        # The line's rectangle, at least one pixel wide so it never vanishes.
        angle = math.degrees(
            math.atan2(self.end_y_m - self.start_y_m, self.end_x_m - self.start_x_m)
        )
        corners = rectangle_corners(
            (self.start_x_m + self.end_x_m) / 2,
            (self.start_y_m + self.end_y_m) / 2,
            max(self.length_m(), pixel_size_m),
            max(self.width_m, pixel_size_m),
            angle,
        )
        return _raster.fill_polygon(x, y, pixel_size_m, corners)


@dataclass(frozen=True, kw_only=True)
class CircleShape(Shape):
    """A disc (thickness_m = 0) or an annulus of radial ``thickness_m`` at its rim."""

    x_m: float
    y_m: float
    radius_m: float
    thickness_m: float = 0.0

    def inner_radius_m(self) -> float:
        return 0.0 if self.thickness_m == 0 else self.radius_m - self.thickness_m

    def bounding_box(self) -> BoundingBox:
        r = self.radius_m
        return BoundingBox(self.x_m - r, self.y_m - r, self.x_m + r, self.y_m + r)

    def area_m2(self) -> float:
        return math.pi * (self.radius_m**2 - self.inner_radius_m() ** 2)

    def translated(self, dx_m: float, dy_m: float) -> Self:
        return replace(self, x_m=self.x_m + dx_m, y_m=self.y_m + dy_m)

    def _values(self, x, y, pixel_size_m):
        # Per row: the chord of the outer circle, minus the chord of the inner one.
        dy2 = (y[:, 0] - self.y_m) ** 2
        cols, x0 = x.shape[1], (self.x_m - x[0, 0]) / pixel_size_m

        def chord(r: float) -> np.ndarray:
            half = np.sqrt(np.clip(r * r - dy2, 0, None)) / pixel_size_m
            first = np.ceil(x0 - half).astype(np.intp)
            last = np.floor(x0 + half).astype(np.intp)
            return _raster.fill_spans(cols, first, np.where(dy2 <= r * r, last, first - 1))

        inside = chord(self.radius_m)
        if self.thickness_m > 0:
            inside &= ~chord(self.inner_radius_m() * (1 - 1e-12))
        return inside


@dataclass(frozen=True, kw_only=True)
class PolygonShape(Shape):
    """A simple polygon given by its vertices (absolute image-plane metres)."""

    vertices_m: tuple[Point, ...]

    def bounding_box(self) -> BoundingBox:
        return _box_of(list(self.vertices_m))

    def area_m2(self) -> float:
        return abs(signed_area(self.vertices_m))

    def translated(self, dx_m: float, dy_m: float) -> Self:
        return replace(self, vertices_m=tuple((x + dx_m, y + dy_m) for x, y in self.vertices_m))

    def _values(self, x, y, pixel_size_m):
        return _raster.fill_polygon(x, y, pixel_size_m, self.vertices_m)


@dataclass(frozen=True, kw_only=True, eq=False)
class BitmapShape(Shape):
    """A rectangle whose dose (0..1) follows a small 2-D array (row 0 at the top)."""

    x_m: float
    y_m: float
    width_m: float
    height_m: float
    dose: np.ndarray = field(repr=False)
    rotation_deg: float = 0.0

    def bounding_box(self) -> BoundingBox:
        return _box_of(
            rectangle_corners(self.x_m, self.y_m, self.width_m, self.height_m, self.rotation_deg)
        )

    def area_m2(self) -> float:
        return self.width_m * self.height_m * float(np.mean(self.dose))

    def translated(self, dx_m: float, dy_m: float) -> Self:
        return replace(self, x_m=self.x_m + dx_m, y_m=self.y_m + dy_m)

    def _values(self, x, y, pixel_size_m):
        # One affine map from window pixel (col, row) to bitmap index; nearest sampling.
        n_rows, n_cols = self.dose.shape
        a = math.radians(self.rotation_deg)
        c, s = math.cos(a), math.sin(a)
        dx0, dy0 = x[0, 0] - self.x_m, y[0, 0] - self.y_m
        ku, kv = n_cols / self.width_m, n_rows / self.height_m
        # u = c·dx + s·dy, v = -s·dx + c·dy with dx = dx0 + col·ps, dy = dy0 - row·ps.
        src_col = [ku * c * pixel_size_m, -ku * s * pixel_size_m, ku * (c * dx0 + s * dy0)]
        src_row = [kv * s * pixel_size_m, kv * c * pixel_size_m, -kv * (-s * dx0 + c * dy0)]
        src_col[2] += n_cols / 2 - 0.5
        src_row[2] += n_rows / 2 - 0.5
        return cv2.warpAffine(
            self.dose.astype(np.float32),
            np.array([src_col, src_row], dtype=np.float64),
            (x.shape[1], y.shape[0]),
            flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0.0,
        )
