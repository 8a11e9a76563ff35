"""Lamella-workflow patterns: trench pair, undercut, stress relief, notch, fiducial.

Defaults follow typical cryo on-grid AutoLamella values (lamella ~10 µm wide). Every
pattern is centred on the lamella (or, for the fiducial and notch, on itself).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .._base import CrossSection, Positive, Rotation, ScanDirection
from .._geometry import rotate
from ..shapes import RectangleShape, Shape
from ._pattern import PatternBase


def _rect(x: float, y: float, w: float, h: float, depth: float, **kw) -> RectangleShape:
    return RectangleShape(x_m=x, y_m=y, width_m=w, height_m=h, depth_m=depth, **kw)


class TrenchPattern(PatternBase):
    """Two rectangles above and below the lamella, leaving ``spacing_m`` (the lamella's
    thickness in the image vertical) unmilled between them. Each is milled toward the
    lamella (upper top→bottom, lower bottom→top) so the faces facing it stay clean."""

    kind: Literal["trench"] = "trench"
    width_m: Positive = Field(10e-6, description="Trench width (lamella width), metres.")
    trench_height_m: Positive = Field(10e-6, description="Height of each trench, metres.")
    spacing_m: Positive = Field(1e-6, description="Gap left between trenches, metres (m).")
    depth_m: Positive = Field(1e-6, description="Milling depth, metres (m).")
    cleaning_cross_section: bool = Field(False, description="Cleaning cross-section at faces.")

    def shapes(self) -> list[Shape]:
        dy = self.spacing_m / 2 + self.trench_height_m / 2
        cross = CrossSection.CLEANING if self.cleaning_cross_section else None
        w, h, d = self.width_m, self.trench_height_m, self.depth_m
        return [
            _rect(
                self.x_m,
                self.y_m + dy,
                w,
                h,
                d,
                cross_section=cross,
                scan_direction=ScanDirection.TOP_TO_BOTTOM,
            ),
            _rect(
                self.x_m,
                self.y_m - dy,
                w,
                h,
                d,
                cross_section=cross,
                scan_direction=ScanDirection.BOTTOM_TO_TOP,
            ),
        ]


class UndercutPattern(PatternBase):
    """One rectangle ``offset_m`` below the lamella centre (along the rotated image down),
    cutting under the lamella at the undercut tilt."""

    kind: Literal["undercut"] = "undercut"
    width_m: Positive = Field(16e-6, description="Cut width, metres (m).")
    height_m: Positive = Field(4e-6, description="Cut height, metres (m).")
    depth_m: Positive = Field(1.2e-6, description="Milling depth, metres (m).")
    offset_m: float = Field(
        5e-6, allow_inf_nan=False, description="Lamella centre to cut centre, downward, metres."
    )
    rotation_deg: Rotation = Field(0.0, description="Rotation about the lamella centre, deg.")

    def shapes(self) -> list[Shape]:
        dx, dy = rotate(0.0, -self.offset_m, self.rotation_deg)
        return [
            _rect(
                self.x_m + dx,
                self.y_m + dy,
                self.width_m,
                self.height_m,
                self.depth_m,
                rotation_deg=self.rotation_deg,
                scan_direction=ScanDirection.BOTTOM_TO_TOP,
            )
        ]


class MicroExpansionPattern(PatternBase):
    """Stress-relief cuts: two thin vertical rectangles, ``distance_m`` outside each side
    of a lamella ``lamella_width_m`` wide."""

    kind: Literal["micro_expansion"] = "micro_expansion"
    lamella_width_m: Positive = Field(10e-6, description="Lamella width, metres (m).")
    width_m: Positive = Field(0.5e-6, description="Width of each cut, metres (m).")
    height_m: Positive = Field(18e-6, description="Height of each cut, metres (m).")
    distance_m: Positive = Field(1e-6, description="Lamella side to cut, metres (m).")
    depth_m: Positive = Field(1e-6, description="Milling depth, metres (m).")

    def shapes(self) -> list[Shape]:
        dx = self.lamella_width_m / 2 + self.distance_m + self.width_m / 2
        return [
            _rect(self.x_m + s * dx, self.y_m, self.width_m, self.height_m, self.depth_m)
            for s in (-1, 1)
        ]


class NotchPattern(PatternBase):
    """A partial-release notch at (x_m, y_m): two vertical cuts separated by ``distance_m``
    (the bridge left standing), each with a horizontal cut at its outer end running
    toward +x (toward -x when ``flip``), giving a '[' or ']' bracket."""

    kind: Literal["notch"] = "notch"
    vertical_width_m: Positive = Field(0.2e-6, description="Vertical cut width, m.")
    vertical_height_m: Positive = Field(2e-6, description="Vertical cut height, m.")
    horizontal_width_m: Positive = Field(4e-6, description="Horizontal cut length, m.")
    horizontal_height_m: Positive = Field(0.2e-6, description="Horizontal cut height, m.")
    distance_m: Positive = Field(2e-6, description="Bridge between vertical cuts, m.")
    depth_m: Positive = Field(2.5e-6, description="Milling depth, metres (m).")
    flip: bool = Field(False, description="Horizontal cuts toward -x instead of +x.")

    def shapes(self) -> list[Shape]:
        s = -1.0 if self.flip else 1.0
        vw, vh = self.vertical_width_m, self.vertical_height_m
        hw, hh = self.horizontal_width_m, self.horizontal_height_m
        out: list[Shape] = []
        for side in (1.0, -1.0):
            vy = side * (self.distance_m / 2 + vh / 2)
            hy = side * (self.distance_m / 2 + vh - hh / 2)
            out.append(_rect(self.x_m, self.y_m + vy, vw, vh, self.depth_m))
            out.append(_rect(self.x_m + s * (vw / 2 + hw / 2), self.y_m + hy, hw, hh, self.depth_m))
        return out


class FiducialPattern(PatternBase):
    """An alignment mark: a cross (two bars at right angles) or a single bar."""

    kind: Literal["fiducial"] = "fiducial"
    shape: Literal["cross", "bar"] = Field("cross", description="Cross or single bar.")
    length_m: Positive = Field(10e-6, description="Bar length, metres (m).")
    width_m: Positive = Field(1e-6, description="Bar width, metres (m).")
    rotation_deg: Rotation = Field(45.0, description="Counter-clockwise rotation, degrees.")
    depth_m: Positive = Field(1e-6, description="Milling depth, metres (m).")

    def shapes(self) -> list[Shape]:
        angles = [self.rotation_deg] + ([self.rotation_deg + 90] if self.shape == "cross" else [])
        return [
            _rect(self.x_m, self.y_m, self.length_m, self.width_m, self.depth_m, rotation_deg=a)
            for a in angles
        ]
