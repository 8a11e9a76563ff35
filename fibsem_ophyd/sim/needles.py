"""Drawing the manipulator needle and the GIS nozzle into an image (they stand above the
specimen, so they occlude it). Tips are chamber points; shafts go up and away."""

from __future__ import annotations

import cv2
import numpy as np

from .projection import ImageGeometry, chamber_to_image

MANIPULATOR_AXIS = np.array([-0.6, 0.45, 0.66]) / np.linalg.norm([-0.6, 0.45, 0.66])
GIS_AXIS = np.array([0.7, -0.35, 0.62]) / np.linalg.norm([0.7, -0.35, 0.62])
GIS_TIP_M = np.array([150e-6, -60e-6, 500e-6])
SHAFT_LENGTH_M = 3e-3
LABEL_NEEDLE = 20
LABEL_GIS = 21
LABEL_LAMELLA = 22  # a lifted-out lamella


def _draw_tapered(
    image: np.ndarray,
    geom: ImageGeometry,
    tip_m: np.ndarray,
    axis: np.ndarray,
    tip_radius_m: float,
    half_angle_deg: float,
    value: int,
    highlight: int | None,
) -> None:
    base_m = tip_m + SHAFT_LENGTH_M * axis
    tip, base = chamber_to_image(np.stack([tip_m, base_m]), geom)
    along = base - tip
    norm = float(np.hypot(*along))
    perp = np.array([-along[1], along[0]]) / norm if norm > 1e-9 else np.array([1.0, 0.0])
    r_tip = tip_radius_m / geom.pixel_m
    r_base = (tip_radius_m + SHAFT_LENGTH_M * np.tan(np.deg2rad(half_angle_deg))) / geom.pixel_m
    size = 4.0 * max(image.shape)
    scale = 16.0  # fixed-point subpixel drawing (shift=4)

    def poly(shrink: float) -> np.ndarray:
        pts = np.array(
            [
                tip + perp * r_tip * shrink,
                base + perp * r_base * shrink,
                base - perp * r_base * shrink,
                tip - perp * r_tip * shrink,
            ]
        )
        return np.round(np.clip(pts, -size, size) * scale).astype(np.int32)

    if abs(tip[0]) > 1e7 or abs(tip[1]) > 1e7:
        return
    cv2.fillConvexPoly(image, poly(1.0), value, lineType=cv2.LINE_AA, shift=4)
    centre = tuple(int(c) for c in np.round(np.clip(tip, -size, size) * scale))
    cv2.circle(image, centre, max(1, round(r_tip * scale)), value, -1, cv2.LINE_AA, shift=4)
    if highlight is not None:
        cv2.fillConvexPoly(image, poly(0.35), highlight, lineType=cv2.LINE_AA, shift=4)


def draw_manipulator(
    image: np.ndarray, geom: ImageGeometry, tip_m: np.ndarray, label: bool
) -> None:
    """Tungsten needle: 0.3 µm tip radius, 8° half-angle taper."""
    value, hi = (LABEL_NEEDLE, None) if label else (215, 245)
    _draw_tapered(image, geom, tip_m, MANIPULATOR_AXIS, 0.3e-6, 8.0, value, hi)


def draw_gis(image: np.ndarray, geom: ImageGeometry, label: bool) -> None:
    """GIS nozzle: a 100 µm tube with a slight taper."""
    value, hi = (LABEL_GIS, None) if label else (190, 225)
    _draw_tapered(image, geom, GIS_TIP_M, GIS_AXIS, 50e-6, 2.0, value, hi)


def draw_lamella_box(
    image: np.ndarray, geom: ImageGeometry, corners_m: np.ndarray, label: bool
) -> None:
    """A carried or landed lamella (sim/liftout.py): the projected hull of its box corners,
    a bright slab (drawn above the specimen, like the needle)."""
    pts = chamber_to_image(np.asarray(corners_m), geom)
    if not np.all(np.isfinite(pts)) or np.abs(pts).max() > 1e7:
        return
    hull = cv2.convexHull(np.round(pts * 16.0).astype(np.int32))
    value = LABEL_LAMELLA if label else 235
    cv2.fillConvexPoly(image, hull, value, lineType=cv2.LINE_AA, shift=4)
