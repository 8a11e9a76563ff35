"""Basic patterns: rectangle, line, circle (disc or annulus), polygon."""

from __future__ import annotations

import math
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from .._base import CrossSection, NonNegative, Number, Positive, Rotation, ScanDirection, fmt
from .._geometry import Point, first_self_intersection, rotate, signed_area
from ..shapes import CircleShape, LineShape, PolygonShape, RectangleShape, Shape
from ._pattern import PatternBase


class RectanglePattern(PatternBase):
    """A rectangle, rotated counter-clockwise about its centre."""

    kind: Literal["rectangle"] = "rectangle"
    width_m: Positive = Field(10e-6, description="Width (image x before rotation), metres (m).")
    height_m: Positive = Field(5e-6, description="Height (image y before rotation), metres.")
    depth_m: Positive = Field(1e-6, description="Milling depth, metres (m).")
    rotation_deg: Rotation = Field(0.0, description="Counter-clockwise rotation, degrees.")
    scan_direction: ScanDirection | None = Field(None, description="None: from parameters.")
    cross_section: CrossSection | None = Field(None, description="None: from parameters.")

    def shapes(self) -> list[Shape]:
        return [
            RectangleShape(
                x_m=self.x_m,
                y_m=self.y_m,
                width_m=self.width_m,
                height_m=self.height_m,
                rotation_deg=self.rotation_deg,
                depth_m=self.depth_m,
                scan_direction=self.scan_direction,
                cross_section=self.cross_section,
            )
        ]


class LinePattern(PatternBase):
    """A straight cut through the centre, ``length_m`` long at ``rotation_deg`` from +x."""

    kind: Literal["line"] = "line"
    length_m: Positive = Field(10e-6, description="Line length, metres (m).")
    rotation_deg: Rotation = Field(0.0, description="Direction, degrees counter-clockwise.")
    width_m: Positive = Field(50e-9, description="Milled line width (≈ beam diameter), m.")
    depth_m: Positive = Field(1e-6, description="Milling depth, metres (m).")

    @classmethod
    def from_points(cls, start_m: Point, end_m: Point, depth_m: float, **kw: object) -> Self:
        """The line from ``start_m`` to ``end_m`` (image-plane metres)."""
        (x0, y0), (x1, y1) = start_m, end_m
        angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
        return cls.model_validate(
            {
                "x_m": (x0 + x1) / 2,
                "y_m": (y0 + y1) / 2,
                "length_m": math.hypot(x1 - x0, y1 - y0),
                "rotation_deg": angle,
                "depth_m": depth_m,
                **kw,
            }
        )

    @property
    def start_m(self) -> Point:
        dx, dy = rotate(self.length_m / 2, 0.0, self.rotation_deg)
        return (self.x_m - dx, self.y_m - dy)

    @property
    def end_m(self) -> Point:
        dx, dy = rotate(self.length_m / 2, 0.0, self.rotation_deg)
        return (self.x_m + dx, self.y_m + dy)

    def shapes(self) -> list[Shape]:
        (x0, y0), (x1, y1) = self.start_m, self.end_m
        return [
            LineShape(
                start_x_m=x0,
                start_y_m=y0,
                end_x_m=x1,
                end_y_m=y1,
                width_m=self.width_m,
                depth_m=self.depth_m,
            )
        ]


class CirclePattern(PatternBase):
    """A filled disc (thickness_m = 0) or an annulus of radial thickness_m."""

    kind: Literal["circle"] = "circle"
    radius_m: Positive = Field(2e-6, description="Outer radius, metres (m).")
    thickness_m: NonNegative = Field(0.0, description="Ring thickness, m; 0 = filled disc.")
    depth_m: Positive = Field(1e-6, description="Milling depth, metres (m).")

    @model_validator(mode="after")
    def _ring_fits(self) -> Self:
        if self.thickness_m > self.radius_m:
            raise ValueError(
                f"thickness_m: got {fmt(self.thickness_m)} m; allowed 0 (filled) to "
                f"radius_m = {fmt(self.radius_m)} m"
            )
        return self

    def shapes(self) -> list[Shape]:
        return [
            CircleShape(
                x_m=self.x_m,
                y_m=self.y_m,
                radius_m=self.radius_m,
                thickness_m=self.thickness_m,
                depth_m=self.depth_m,
            )
        ]


class PolygonPattern(PatternBase):
    """A simple (non-self-intersecting) polygon; vertices relative to the centre."""

    kind: Literal["polygon"] = "polygon"
    vertices_m: list[tuple[Number, Number]] = Field(
        min_length=3, description="Vertices (x, y) relative to (x_m, y_m), metres; ≥ 3."
    )
    depth_m: Positive = Field(1e-6, description="Milling depth, metres (m).")

    @field_validator("vertices_m")
    @classmethod
    def _simple(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        crossing = first_self_intersection(v)
        if crossing is not None:
            i, j = crossing
            raise ValueError(
                f"vertices_m: edges {i} and {j} intersect; a polygon must be simple "
                "(non-self-intersecting) with ≥ 3 vertices"
            )
        if abs(signed_area(v)) <= 0:
            raise ValueError("vertices_m: the polygon has zero area; need ≥ 3 non-collinear")
        return v

    def shapes(self) -> list[Shape]:
        verts = tuple((self.x_m + x, self.y_m + y) for x, y in self.vertices_m)
        return [PolygonShape(vertices_m=verts, depth_m=self.depth_m)]
