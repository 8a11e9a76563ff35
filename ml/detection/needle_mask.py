"""The needle tip from a segmentation mask's manipulator region.

The twin's needle (sim/needles.py) is a 3 mm tapered shaft (8° half-angle) ending in a
rounded tip; it enters the image from a border. The tip keypoint is the centre of the
rounded end (the point the twin calls the tip, ``scene.needle_tip_m``), as the classical
detector (needle_tip.py) also reports it.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ml.classes import MANIPULATOR

from .mask_regions import Region

_APEX_WEIGHT = 0.5  # > any needle taper seen in an image, < 1
_TIP_WINDOW_PX = 64  # half-size of the window around the apex: > the end's radius
ADAPTOR_REACH_PX = 30  # needle pixels this near its apex are its end ...
ADAPTOR_GAP_PX = 6  # ... which touches an adaptor this near ...
# ... of at least this area. A copper adaptor is a piece cut from a grid bar, several
# micrometres a side (the twin's: 8-15 x 5-10 um, at least 40 um^2); a quarter of the
# smallest is not one. The model leaves specks of the class on the needle's end or on a
# lamella it carries (0.1 and 6.5 um^2 in the twin's held-out views; real adaptors there
# were 60 um^2 and more), and such a speck hid a tip in plain view.
ADAPTOR_MIN_AREA_M2 = 10e-12


def needle_tip(
    region_px: np.ndarray, left: int, top: int, shape: tuple[int, int]
) -> tuple[float, float]:
    """Centre (col, row) of the needle's rounded end, in image pixels."""
    return needle_end(region_px, left, top, shape)[0]


def needle_end(
    region_px: np.ndarray, left: int, top: int, shape: tuple[int, int]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(tip, apex), (col, row) image pixels: the centre of the needle's rounded end, and
    the region's outermost point there (farthest from where it enters)."""
    h, w = shape
    entry = border_entry(region_px, left, top, h, w)
    if entry is not None:
        # The farthest point from the entry lies on the convex hull: a few hundred
        # points instead of every pixel of the shaft.
        far = _farthest_on_hull(region_px, left, top, entry)
        axis = far - entry
    else:
        axis, far = narrow_end(region_px, left, top)
    axis = axis / max(float(np.hypot(*axis)), 1e-9)
    # Only the end matters: a window around the apex. Outside the region's own box is
    # background (padded with zeros) except where the box meets the image border or the
    # window cuts the shaft: OpenCV's distance transform treats beyond-the-array as inside.
    rh, rw = region_px.shape
    c0, r0 = int(far[0]) - left, int(far[1]) - top
    r_lo, r_hi = max(r0 - _TIP_WINDOW_PX, 0), min(r0 + _TIP_WINDOW_PX + 1, rh)
    c_lo, c_hi = max(c0 - _TIP_WINDOW_PX, 0), min(c0 + _TIP_WINDOW_PX + 1, rw)
    window = region_px[r_lo:r_hi, c_lo:c_hi].view(np.uint8)
    pad = (
        int(r_lo == 0 and top > 0),
        int(r_hi == rh and top + rh < h),
        int(c_lo == 0 and left > 0),
        int(c_hi == rw and left + rw < w),
    )
    padded = cv2.copyMakeBorder(window, *pad, cv2.BORDER_CONSTANT, value=0)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    dist = dist[pad[0] : pad[0] + window.shape[0], pad[2] : pad[2] + window.shape[1]]
    wr, wc = np.nonzero(window)
    wpts = np.stack([wc + c_lo + left, wr + r_lo + top], 1).astype(float)
    # Along the shaft's centre line the distance to the outline equals the distance to
    # the apex inside the rounded end, and then grows only with the taper (sim/needles.py:
    # 8° half-angle, tan = 0.14). So DT - _APEX_WEIGHT * (distance behind the apex)
    # peaks at the end's centre; off the centre line DT is smaller.
    behind = float(far @ axis) + 1.0 - wpts @ axis
    score = dist[wr, wc] - _APEX_WEIGHT * behind
    best = score >= score.max() - 0.25
    tip = wpts[best].mean(0)
    return (float(tip[0]), float(tip[1])), (float(far[0]), float(far[1]))


def border_entry(region_px: np.ndarray, left: int, top: int, h: int, w: int) -> np.ndarray | None:
    """Mean (col, row) of the region's pixels on the image border, None if it has none."""
    rh, rw = region_px.shape
    pts: list[np.ndarray] = []
    for on_edge, line, fixed, along_cols in (
        (top == 0, region_px[0], 0, True),
        (top + rh == h, region_px[rh - 1], h - 1, True),
        (left == 0, region_px[:, 0], 0, False),
        (left + rw == w, region_px[:, rw - 1], w - 1, False),
    ):
        if not on_edge:
            continue
        idx = np.flatnonzero(line).astype(float)
        if idx.size:
            if along_cols:
                pts.append(np.stack([idx + left, np.full_like(idx, fixed)], 1))
            else:
                pts.append(np.stack([np.full_like(idx, fixed), idx + top], 1))
    if not pts:
        return None
    return np.concatenate(pts).mean(0)


def _farthest_on_hull(region_px: np.ndarray, left: int, top: int, entry: np.ndarray) -> np.ndarray:
    contours, _ = cv2.findContours(
        region_px.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    hull = cv2.convexHull(np.concatenate(contours)).reshape(-1, 2).astype(float)
    hull += (left, top)
    return hull[int(np.argmax(((hull - entry) ** 2).sum(1)))]


def narrow_end(region_px: np.ndarray, left: int, top: int) -> tuple[np.ndarray, np.ndarray]:
    """(axis towards the narrower end, that end's outermost pixel) for a needle that
    touches no image border: the long axis, oriented by the taper."""
    rows, cols = np.nonzero(region_px)
    pts = np.stack([cols + left, rows + top], 1).astype(float)
    centre = pts.mean(0)
    _, vecs = np.linalg.eigh(np.cov((pts - centre).T))
    axis = vecs[:, 1]
    along = (pts - centre) @ axis
    across = np.abs((pts - centre) @ vecs[:, 0])
    span = float(along.max() - along.min())
    # the narrower end (the taper): the mean width over each end's last fifth
    width_lo = across[along <= along.min() + 0.2 * span].mean()
    width_hi = across[along >= along.max() - 0.2 * span].mean()
    if width_lo < width_hi:
        axis = -axis
    return axis, pts[int(np.argmax((pts - centre) @ axis))]


def hidden_by_adaptor(
    mask: np.ndarray,
    apex: tuple[float, float],
    adaptors: Sequence[Region],
    pixel_size_m: float,
) -> bool:
    """Whether the needle's end (``apex``: its region's outermost point) touches a
    copper adaptor: a needle attached to an adaptor ends behind it, and its region's end
    is the adaptor's edge, not the tip. Touching: a pixel of an adaptor region
    (``adaptors``, of at least ``ADAPTOR_MIN_AREA_M2``) within ``ADAPTOR_REACH_PX`` of
    the apex, or within ``ADAPTOR_GAP_PX`` of a needle pixel that near it (the model can
    lose the needle's last pixels before the adaptor, leaving a gap: 26 px in one
    validation view). From the apex, not the tip found inside the end: where the adaptor
    cuts a wide shaft, that point lies deep inside it, beyond the reach."""
    floor_px = ADAPTOR_MIN_AREA_M2 / pixel_size_m**2
    big = [r for r in adaptors if r.area_px >= floor_px]
    if not big:
        return False
    h, w = mask.shape
    reach, gap = ADAPTOR_REACH_PX, ADAPTOR_GAP_PX
    c0, c1 = max(0, int(apex[0] - reach - gap)), min(w, int(apex[0] + reach + gap) + 1)
    r0, r1 = max(0, int(apex[1] - reach - gap)), min(h, int(apex[1] + reach + gap) + 1)
    rows, cols = np.mgrid[r0:r1, c0:c1]
    near_apex = (cols - apex[0]) ** 2 + (rows - apex[1]) ** 2 <= reach**2
    end = ((mask[r0:r1, c0:c1] == MANIPULATOR) & near_apex).view(np.uint8)
    grown = cv2.dilate(end, np.ones((2 * gap + 1, 2 * gap + 1), np.uint8)).view(bool)
    grown |= near_apex
    for region in big:
        rh, rw = region.pixels.shape
        top, bottom = max(r0, region.top), min(r1, region.top + rh)
        left, right = max(c0, region.left), min(c1, region.left + rw)
        if top >= bottom or left >= right:
            continue
        own = region.pixels[
            top - region.top : bottom - region.top, left - region.left : right - region.left
        ]
        if (own & grown[top - r0 : bottom - r0, left - c0 : right - c0]).any():
            return True
    return False
