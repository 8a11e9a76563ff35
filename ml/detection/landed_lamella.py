"""Classical detector for a lifted-out lamella on its landing post (the keypoint the
thinning stages centre on at the post).

A landed chunk is a rectangle of known size (about 10 µm wide and 4 µm thick seen from
above; foreshortened along the image vertical by ``vertical_scale``), set apart from
the post by a gap: its face is a plateau, the gap a narrow trough darker than the face
and than what lies beyond it (few secondary electrons or ions escape a gap), and the
face's edge often carries a bright rim (edge effect). The rectangle is found by its
outline (ml/detection/rectangle.py); each axis is then refined from the grey-level
profile across it: each side is where the profile, going out from the centre, first
falls halfway from the plateau to the trough (a rim on the edge is still face, and
nothing beyond the trough is reached), and the centre is the midpoint (refined twice,
the second time from the first's centre).

Score (0..1): the weaker side's face-to-trough contrast in robust noise units, mapped
like the grid-square detector's; 0 when no chunk-sized rectangle with a trough around
it stands out (e.g. nothing landed, or a block of texture).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .keypoints import Keypoint
from .rectangle import check_size, find_candidate, profile_across, profile_noise, score

_SIZE_TOLERANCE = 0.35  # the face found may differ this much from the expected size
_MAX_GAP = 0.75  # the gap beside the face is narrower than this share of its size
_SIDE_TOLERANCE = 0.35  # a side is searched within ± this share of the expected size


def find_landed_lamella(
    image: np.ndarray,
    pixel_size_m: float,
    vertical_scale: float = 1.0,
    width_m: float = 10e-6,
    thickness_m: float = 4e-6,
    beam: str = "electron",
    name: str = "LandedLamella",
) -> Keypoint:
    """Centre (col, row) of the landed lamella nearest the image centre.

    ``width_m`` (image x) and ``thickness_m`` (specimen; shown × ``vertical_scale`` along
    the image vertical) are the chunk's size seen from above, right to ~20 %. ``beam``
    only labels the input ("electron" or "ion").
    """
    check_size(width_m, thickness_m, ("width_m", "thickness_m"))
    found, centre = find_candidate(image, pixel_size_m, vertical_scale, width_m, thickness_m,
                                   beam)  # fmt: skip
    if found is None:
        return Keypoint(name, *centre, 0.0)
    x, y, w, h = found.x_px, found.y_px, found.width_px, found.height_px
    snr_x = snr_y = 0.0
    for _pass in range(2):  # the second pass starts from the first's better centre
        x, snr_x = _refine(profile_across(found.smooth, y, h, axis=1), x, w)
        y, snr_y = _refine(profile_across(found.smooth, x, w, axis=0), y, h)
    return Keypoint(name, float(x), float(y), score(min(snr_x, snr_y)))


def _refine(profile: np.ndarray, centre: float, size: float) -> tuple[float, float]:
    """Sub-pixel centre along `profile` and the weaker side's contrast in noise units
    (0: no chunk here)."""
    smooth = gaussian_filter1d(profile, max(2.0, 0.05 * size))  # wider than a rim
    noise = profile_noise(profile)
    c, inner = round(centre), max(1, round(0.25 * size))
    reach = round((0.5 + _SIDE_TOLERANCE) * size)
    far = reach + round(_MAX_GAP * size)  # the trough must end within this
    if c - far < 0 or c + far >= len(profile):
        return centre, 0.0
    plateau = float(np.median(profile[c - inner : c + inner + 1]))
    ends, contrasts = [], []
    for out in (slice(c, c - far - 1, -1), slice(c, c + far + 1)):
        side = _side(profile[out], smooth[out], plateau, reach, round(_MAX_GAP * size))
        if side is None:
            return centre, 0.0
        ends.append(side[0])
        contrasts.append((plateau - side[1]) / noise)
    if abs(ends[0] + ends[1] - size) > _SIZE_TOLERANCE * size:
        return centre, 0.0  # not a face of the chunk's size
    return c + (ends[1] - ends[0]) / 2, max(min(contrasts), 0.0)


def _side(
    fine: np.ndarray, smooth: np.ndarray, plateau: float, reach: int, max_gap: int
) -> tuple[float, float] | None:
    """(edge, trough level) going outward from the face centre (index 0): the edge is
    the first fall below halfway to the trough within `reach`; None unless the profile
    rises back above that level within `max_gap` after it (a trough, not a step)."""
    gap = float(smooth[: reach + 1].min())
    level = (plateau + gap) / 2
    edge = _first_crossing(fine[: reach + 1], level)
    if edge is None or gap >= plateau:
        return None
    start = int(edge) + 1
    if not (fine[start : start + max_gap + 1] >= level).any():
        return None
    return edge, gap


def _first_crossing(p: np.ndarray, level: float) -> float | None:
    """Fractional index where `p`, from index 0 on, first falls below `level`."""
    below = np.flatnonzero(p < level)
    if below.size == 0 or below[0] == 0:
        return None
    i = int(below[0]) - 1
    return i + float((p[i] - level) / (p[i] - p[i + 1]))
