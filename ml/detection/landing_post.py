"""Classical detector for a lift-out landing post (the keypoint a lamella is landed on:
the middle of the post's top).

A post is a rectangle of known size (about 20 µm wide and 60 µm long seen from above;
foreshortened along the image vertical by ``vertical_scale``) standing out from what
surrounds it by a step in grey level, brighter or darker. The rectangle is found by its
outline (ml/detection/rectangle.py); each axis is then refined from the gradient of the
grey-level profile across it: of the steps near its two expected sides, the opposite
pair (rising into the post on one side, falling out of it on the other, for either
polarity) whose spacing is nearest the expected size and whose weaker step is within
half of the strongest pair's; a step beyond the post's surroundings (say, onto a grid
bar) has the wrong sign and cannot pair. The centre is the pair's midpoint.

Score (0..1): the weaker step of the chosen pairs in robust noise units, mapped like
the grid-square detector's; 0 when no post-sized rectangle stands out.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .keypoints import Keypoint
from .rectangle import check_size, find_candidate, profile_across, profile_noise, score

_SIDE_TOLERANCE = 0.2  # a side is searched within ± this share of the expected size
_PAIR_SHARE = 0.5  # pairs whose weaker step is this close to the best pair's qualify


def find_landing_post(
    image: np.ndarray,
    pixel_size_m: float,
    vertical_scale: float = 1.0,
    width_m: float = 20e-6,
    length_m: float = 60e-6,
    beam: str = "electron",
    name: str = "LandingPost",
) -> Keypoint:
    """Centre (col, row) of the landing post nearest the image centre.

    ``width_m`` (image x) and ``length_m`` (specimen; shown × ``vertical_scale`` along
    the image vertical) are the post's size seen from above, right to ~15 %. ``beam``
    only labels the input ("electron" or "ion").
    """
    check_size(width_m, length_m, ("width_m", "length_m"))
    found, centre = find_candidate(image, pixel_size_m, vertical_scale, width_m, length_m, beam)
    if found is None:
        return Keypoint(name, *centre, 0.0)
    x, y, w, h = found.x_px, found.y_px, found.width_px, found.height_px
    snr_x = snr_y = 0.0
    for _pass in range(2):  # the second pass starts from the first's better centre
        x, snr_x = _refine(profile_across(found.smooth, y, h, axis=1), x, w)
        y, snr_y = _refine(profile_across(found.smooth, x, w, axis=0), y, h)
    return Keypoint(name, float(x), float(y), score(min(snr_x, snr_y)))


def _refine(profile: np.ndarray, centre: float, size: float) -> tuple[float, float]:
    """Sub-pixel centre along `profile` and the weaker step in noise units (0: none)."""
    grad = np.gradient(gaussian_filter1d(profile, 1.0))
    noise = profile_noise(grad)
    tol = max(2, round(_SIDE_TOLERANCE * size))
    best: tuple[float, float] | None = None  # (weaker step, centre)
    for sign in (1.0, -1.0):  # +1: brighter than its surroundings
        first = _steps(sign * grad, centre - size / 2, tol)
        second = _steps(-sign * grad, centre + size / 2, tol)
        pairs = [(a, b) for a in first for b in second]
        if not pairs:
            continue
        top = max(min(a[1], b[1]) for a, b in pairs)
        good = [(a, b) for a, b in pairs if min(a[1], b[1]) >= _PAIR_SHARE * top]
        a, b = min(good, key=lambda p: abs(p[1][0] - p[0][0] - size))
        if best is None or top > best[0]:
            best = (top, (a[0] + b[0]) / 2)
    if best is None:
        return centre, 0.0
    return best[1], best[0] / noise


def _steps(g: np.ndarray, at: float, tol: int) -> list[tuple[float, float]]:
    """(sub-pixel position, height) of the positive local maxima of `g` within at ± tol."""
    lo, hi = max(1, round(at) - tol), min(len(g) - 1, round(at) + tol + 1)
    out = []
    for i in range(lo, hi):
        if g[i] > 0 and g[i] >= g[i - 1] and g[i] > g[i + 1]:
            denom = g[i - 1] - 2 * g[i] + g[i + 1]
            offset = 0.5 * (g[i - 1] - g[i + 1]) / denom if denom < 0 else 0.0
            out.append((i + offset, float(g[i])))
    return out
