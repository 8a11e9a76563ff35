"""A region's rotated box and the lamella features taken from it.

A lamella is a rotated strip: its features are its minimum-area rotated box's centre
and the midpoints of its sides (a centroid, or the row through it, would move with
holes, occlusions and tilt). A lamella that runs past the image's border has no edge
on that border: the box's side there is the border (``cut_edges``).
"""

from __future__ import annotations

import cv2
import numpy as np

from .lamella_edges import LamellaBox

LAMELLA_FEATURES = (
    "LamellaCentre",
    "LamellaLeftEdge",
    "LamellaRightEdge",
    "LamellaTopEdge",
    "LamellaBottomEdge",
)


def box_axes(
    region_px: np.ndarray, left: int, top: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """The region's minimum-area rotated box: centre (col, row), the unit axis nearer the
    image's x (pointing right) and the one across it (pointing down), and the box's half
    lengths along them, between the centres of its extreme pixels."""
    contours, _ = cv2.findContours(
        region_px.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    points = np.concatenate(contours).reshape(-1, 2).astype(np.float32)
    corners = cv2.boxPoints(cv2.minAreaRect(points)).astype(np.float64)
    centre = corners.mean(axis=0) + np.array([left, top], np.float64)
    sides = (corners[1] - corners[0], corners[2] - corners[1])
    along = max(sides, key=lambda v: abs(v[0]) / max(float(np.hypot(*v)), 1e-9))
    across = sides[1] if along is sides[0] else sides[0]
    half_x, half_y = float(np.hypot(*along)) / 2, float(np.hypot(*across)) / 2
    ax = along / max(2 * half_x, 1e-9) if half_x else np.array([1.0, 0.0])
    ay = across / max(2 * half_y, 1e-9) if half_y else np.array([-ax[1], ax[0]])
    ax = ax if ax[0] >= 0 else -ax
    ay = ay if ay[1] >= 0 else -ay
    return centre, ax, ay, half_x, half_y


def lamella_box(region_px: np.ndarray, left: int, top: int) -> LamellaBox:
    """The region's rotated box as a ``LamellaBox``."""
    centre, ax, ay, half_x, half_y = box_axes(region_px, left, top)
    return LamellaBox(centre, ax, ay, half_x, half_y)


def with_bottom(box: LamellaBox, bottom_px: float) -> LamellaBox:
    """The box with its top edge kept and its bottom edge ``bottom_px`` below its centre."""
    half_h = (bottom_px + box.half_height_px) / 2
    centre = box.centre + box.across * (bottom_px - box.half_height_px) / 2
    return LamellaBox(centre, box.along, box.across, box.half_length_px, half_h)


def lamella_points(box: LamellaBox) -> dict[str, tuple[float, float]]:
    """The lamella features (col, row) of a lamella's box: its centre and the midpoints
    of its sides (a lamella is a rotated strip: a region's centroid or its row through
    the centroid would move with holes, occlusions and rotation)."""
    c, ax, ay = box.centre, box.along, box.across
    hx, hy = box.half_length_px, box.half_height_px
    points = (c, c - ax * hx, c + ax * hx, c - ay * hy, c + ay * hy)
    return {n: (float(p[0]), float(p[1])) for n, p in zip(LAMELLA_FEATURES, points, strict=True)}


def cut_edges(
    region_px: np.ndarray, left: int, top: int, shape: tuple[int, int], box: LamellaBox
) -> dict[str, str]:
    """The edges of a lamella that runs past the image's border, with the reason: the
    mask ends there because the image does, and the box's side is the border, not the
    lamella's edge. A region counts as cut where it covers at least a quarter of its box's
    height (length) of the left or right (top or bottom) border column (row): a corner
    that only grazes the border is not a cut."""
    h, w = shape
    rh, rw = region_px.shape
    ends = max(2.0, box.half_height_px / 2)
    sides = max(2.0, box.half_length_px / 2)
    out: dict[str, str] = {}
    for name, touches, count, need, border in (
        ("LamellaLeftEdge", left == 0, region_px[:, 0], ends, "left"),
        ("LamellaRightEdge", left + rw == w, region_px[:, -1], ends, "right"),
        ("LamellaTopEdge", top == 0, region_px[0], sides, "top"),
        ("LamellaBottomEdge", top + rh == h, region_px[-1], sides, "bottom"),
    ):
        if touches and int(count.sum()) >= need:
            out[name] = f"the lamella runs past the image's {border} border: edge not in view"
    return out
