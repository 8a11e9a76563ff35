"""A milling stage: patterns milled with one set of parameters, with exclusions,
optional alignment before milling and optional imaging before/after."""

from __future__ import annotations

from dataclasses import replace
from typing import Self

import numpy as np
from pydantic import Field, StrictInt, model_validator

from ._base import (
    TOUCH_TOLERANCE_M,
    BoundingBox,
    Model,
    NonNegative,
    Number,
    Positive,
    Rotation,
    fmt,
)
from .parameters import MillingParameters
from .patterns import Pattern
from .shapes import RectangleShape, Shape

# Grid used to test a pattern against an exclusion (pixels along the overlap's long side).
_OVERLAP_GRID_PX = 1024


class Exclusion(Model):
    """A rectangle that must not be milled (the lamella, a fiducial), image-plane metres."""

    name: str = Field("exclusion", description="How errors name it, e.g. 'lamella'.")
    x_m: Number = Field(0.0, description="Centre x, metres (m), right.")
    y_m: Number = Field(0.0, description="Centre y, metres (m), up.")
    width_m: Positive = Field(description="Width, metres (m).")
    height_m: Positive = Field(description="Height, metres (m).")
    rotation_deg: Rotation = Field(0.0, description="Counter-clockwise rotation, degrees.")

    def shape(self) -> RectangleShape:
        """The rectangle shrunk by the touch tolerance, so that touching is allowed."""
        t = 2 * TOUCH_TOLERANCE_M
        return RectangleShape(
            x_m=self.x_m,
            y_m=self.y_m,
            width_m=max(self.width_m - t, t),
            height_m=max(self.height_m - t, t),
            rotation_deg=self.rotation_deg,
            depth_m=1.0,
        )


class StageAlignment(Model):
    """Image alignment before milling (beam-shift registration to a reference image), and
    drift correction while milling: every `drift_correction_interval_s` of milling the
    mill pauses, an ion image is registered to the 'before' image and the beam shift
    brings the patterns back onto the specimen."""

    enabled: bool = Field(True, description="Align before milling.")
    hfw_m: Positive = Field(80e-6, description="Reference image field width, metres (m).")
    drift_correction_interval_s: NonNegative = Field(
        0.0, description="Milling time between drift corrections, seconds (s); 0 = none."
    )
    max_drift_m: Positive | None = Field(
        None,
        description="Largest image-plane drift allowed between two corrections, metres (m); "
        "a larger one fails the stage (the patterns moved that far over the specimen).",
    )


class MillingVerification(Model):
    """After milling, ion images before and after must show material removed where the
    patterns were drawn (fibsem_ophyd.alignment.milled_region)."""

    enabled: bool = Field(True, description="Check the milled region after milling.")
    min_coverage: NonNegative = Field(
        0.1, le=1.0, description="Least share of the pattern area that must visibly change."
    )
    min_precision: NonNegative = Field(
        0.5, le=1.0, description="Least share of the change near the patterns that is on them."
    )
    max_offset_m: Positive = Field(
        1.0e-6,
        description="Largest offset of the change from the patterns, metres (m); checked "
        "when most of the pattern area changed (fresh material, not a re-mill).",
    )


class StageImaging(Model):
    """Ion/electron images taken before and after the stage."""

    hfw_m: Positive = Field(80e-6, description="Field width, metres (m).")
    resolution_px: tuple[StrictInt, StrictInt] = Field((1536, 1024), description="[w, h] px.")
    dwell_time_s: Positive = Field(1e-6, description="Pixel dwell time, seconds (s).")


def overlaps(shapes: list[Shape], exclusion: Exclusion) -> bool:
    """Whether any shape mills inside ``exclusion`` (touching is not overlap).

    Rasterises both on a local grid over the common bounding box, fine enough to resolve
    the overlap (1/1024 of its long side, at least 1/16 of its short side).
    """
    ex = exclusion.shape()
    ex_box = ex.bounding_box()
    for s in shapes:
        common = s.bounding_box().intersection(ex_box)
        if common is None:
            continue
        cx, cy = (common.min_x_m + common.max_x_m) / 2, (common.min_y_m + common.max_y_m) / 2
        long, short = max(common.width_m, common.height_m), min(common.width_m, common.height_m)
        ps = min(long / _OVERLAP_GRID_PX, short / 16)
        n_cols = int(np.ceil(common.width_m / ps)) + 2
        n_rows = int(np.ceil(common.height_m / ps)) + 2
        a = np.zeros((n_rows, n_cols), np.float32)
        b = np.zeros_like(a)
        s.translated(-cx, -cy).paint(a, ps)
        ex.translated(-cx, -cy).paint(b, ps)
        if np.any((a > 0) & (b > 0)):
            return True
    return False


class MillingStage(Model):
    """Patterns milled together with one set of ``parameters``."""

    name: str = Field("milling", description="Stage name, e.g. 'rough-1'.")
    patterns: list[Pattern] = Field(default_factory=list, description="What to mill.")
    parameters: MillingParameters = Field(default_factory=MillingParameters)
    exclusions: list[Exclusion] = Field(default_factory=list, description="Never milled.")
    alignment: StageAlignment | None = Field(None, description="Align before milling.")
    imaging: StageImaging | None = Field(None, description="Images before/after milling.")
    verification: MillingVerification = Field(
        default_factory=MillingVerification, description="Check what was milled, from images."
    )

    @model_validator(mode="after")
    def _no_exclusion_milled(self) -> Self:
        issues = []
        for i, p in enumerate(self.patterns):
            shapes = p.shapes()
            for e in self.exclusions:
                if overlaps(shapes, e):
                    issues.append(
                        f"patterns[{i}] ({p.label}) overlaps exclusion {e.name!r} "
                        f"(centre ({fmt(e.x_m)}, {fmt(e.y_m)}) m, "
                        f"{fmt(e.width_m)} × {fmt(e.height_m)} m)"
                    )
        if issues:
            raise ValueError(f"stage {self.name!r}: " + "; ".join(issues))
        return self

    def resolved_shapes(self) -> list[Shape]:
        """Every pattern's shapes, unset scan direction / cross-section from parameters."""
        out: list[Shape] = []
        prm = self.parameters
        for p in self.patterns:
            for s in p.shapes():
                out.append(
                    replace(
                        s,
                        scan_direction=s.scan_direction or prm.scan_direction,
                        cross_section=s.cross_section or prm.cross_section,
                    )
                )
        return out

    def bounding_box(self) -> BoundingBox | None:
        """Box holding every pattern, metres; None without patterns."""
        boxes = [p.bounding_box() for p in self.patterns]
        if not boxes:
            return None
        box = boxes[0]
        for b in boxes[1:]:
            box = box.union(b)
        return box

    def estimated_time_s(self) -> float:
        """Milling time, seconds (see ``MillingParameters.estimated_time_s``)."""
        return self.parameters.estimated_time_s(self.patterns)

    def validate_in_field(self, aspect: float = 1.5) -> None:
        """Raise ValueError if a pattern leaves the field (``parameters.hfw_m``, aspect w/h)."""
        errors = []
        for i, p in enumerate(self.patterns):
            try:
                p.validate_in_field(self.parameters.hfw_m, aspect)
            except ValueError as exc:
                errors.append(f"patterns[{i}]: {exc}")
        if errors:
            raise ValueError(f"stage {self.name!r}: " + "; ".join(errors))

    def dose(self, shape_px: tuple[int, int], pixel_size_m: float) -> np.ndarray:
        """Relative dose 0..1 of all patterns on an image (rows, cols), see PatternBase."""
        out = np.zeros(shape_px, np.float32)
        for p in self.patterns:
            np.maximum(out, p.dose(shape_px, pixel_size_m), out=out)
        return out
