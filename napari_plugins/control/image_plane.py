"""Image-plane arithmetic for the layers (no Qt): napari data coordinates are (row,
column) pixels whose centres sit at integer indices; the microscope's offsets are
metres from the image centre, x right, y up (docs/coordinates.md). Milling rectangles
go both ways between the two."""

from __future__ import annotations

import math

import numpy as np

from fibsem_ophyd.milling import RectanglePattern


def offset_m(
    row: float, col: float, shape: tuple[int, int], pixel_size_m: float
) -> tuple[float, float]:
    """(dx, dy) metres of pixel (row, col) from the centre of an image of `shape`."""
    h, w = shape
    if not (0 <= row <= h - 1 and 0 <= col <= w - 1):
        raise ValueError(f"point (row {row:.1f}, col {col:.1f}) is outside the {w}x{h} image")
    return (col - (w - 1) / 2) * pixel_size_m, -(row - (h - 1) / 2) * pixel_size_m


def pixel_of(
    dx_m: float, dy_m: float, shape: tuple[int, int], pixel_size_m: float
) -> tuple[float, float]:
    """(row, col) of the offset (dx, dy) metres; the inverse of `offset_m`."""
    h, w = shape
    return (h - 1) / 2 - dy_m / pixel_size_m, (w - 1) / 2 + dx_m / pixel_size_m


def rectangle_world_corners(
    pattern: RectanglePattern, centre_rc_m: tuple[float, float]
) -> np.ndarray:
    """The four corners (world row, col metres) of a rectangle pattern whose image has
    its centre at `centre_rc_m`, in the order napari draws rectangles."""
    a = math.radians(pattern.rotation_deg)
    half = np.array([[-1, 1], [1, 1], [1, -1], [-1, -1]]) * 0.5
    xs, ys = half[:, 0] * pattern.width_m, half[:, 1] * pattern.height_m
    dx = pattern.x_m + xs * math.cos(a) - ys * math.sin(a)
    dy = pattern.y_m + xs * math.sin(a) + ys * math.cos(a)
    return np.array([world_of_offset(x, y, centre_rc_m) for x, y in zip(dx, dy, strict=True)])


def rectangle_from_world(
    corners_rc_m: np.ndarray, centre_rc_m: tuple[float, float], depth_m: float
) -> RectanglePattern:
    """A rectangle pattern (centre, sides, rotation) from four world corners in drawing
    order (the inverse of `rectangle_world_corners`)."""
    pts = np.array([(c - centre_rc_m[1], -(r - centre_rc_m[0])) for r, c in corners_rc_m])
    if len(pts) != 4:
        raise ValueError(f"a milling rectangle has 4 corners, this shape has {len(pts)}")
    side_w, side_h = pts[1] - pts[0], pts[0] - pts[3]
    rotation = math.degrees(math.atan2(side_w[1], side_w[0]))
    centre = pts.mean(axis=0)
    return RectanglePattern(
        x_m=float(centre[0]), y_m=float(centre[1]), width_m=float(np.hypot(*side_w)),
        height_m=float(np.hypot(*side_h)), depth_m=depth_m,
        rotation_deg=((rotation + 180.0) % 360.0) - 180.0,
    )  # fmt: skip


def image_centre_world(
    shape: tuple[int, int], pixel_size_m: float, translate_m: tuple[float, float]
) -> tuple[float, float]:
    """World (row, col) metres of the centre of an image layer placed at `translate_m`."""
    h, w = shape
    return translate_m[0] + (h - 1) / 2 * pixel_size_m, translate_m[1] + (w - 1) / 2 * pixel_size_m


def offset_of_world(
    world_rc_m: tuple[float, float],
    centre_rc_m: tuple[float, float],
    shape: tuple[int, int],
    pixel_size_m: float,
) -> tuple[float, float]:
    """(dx, dy) metres from the image centre of a world point; refused outside the image."""
    row = (world_rc_m[0] - centre_rc_m[0]) / pixel_size_m + (shape[0] - 1) / 2
    col = (world_rc_m[1] - centre_rc_m[1]) / pixel_size_m + (shape[1] - 1) / 2
    return offset_m(row, col, shape, pixel_size_m)


def world_of_offset(
    dx_m: float, dy_m: float, centre_rc_m: tuple[float, float]
) -> tuple[float, float]:
    return centre_rc_m[0] - dy_m, centre_rc_m[1] + dx_m


def placements(
    fields: dict[str, tuple[tuple[int, int], float]], gap_m: float = 0.0
) -> dict[str, tuple[float, float]]:
    """Translate (row, col metres) of each detector's image so they sit side by side,
    'sem' centred on the origin, the others to its right; `fields` maps detector to
    (shape, pixel size)."""
    out: dict[str, tuple[float, float]] = {}
    right = 0.0
    for name in sorted(fields, key=lambda n: (n != "sem", n)):
        (h, w), ps = fields[name]
        width = w * ps
        if not out:
            out[name] = (-(h - 1) / 2 * ps, -(w - 1) / 2 * ps)
            right = (w - 1) / 2 * ps + ps
        else:
            left = right + (gap_m or 0.05 * width)
            out[name] = (-(h - 1) / 2 * ps, left)
            right = left + width
    return out
