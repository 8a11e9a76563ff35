"""A lamella's ends from the part of its mask between its top and bottom edges.

Under a milled lamella lies the lit face of the trench wall: a bright band as long as the
trench, longer than the lamella. The model often labels it lamella too, so the mask is
the lamella with the band beneath it, and the band's ends stick out past the lamella's:
the rotated box of the whole region then puts the left and right edges at the band's
ends, 30-70 px off in polished views (benchmarks/bench_keypoint_accuracy.py, seeds
310-349). Once the bottom edge has been taken from the frame (lamella_edges.py), the
band lies below it; the lamella's ends are where the mask between the two edges ends.

How: every mask pixel is put on the box's axes; those between the top edge and the
bottom edge (less ``EDGE_MARGIN`` of the height at each, for the edges' blur) are
counted per pixel along the axis. The lamella runs where that count is at least
``FULL_FRACTION`` of its median over the middle of the strip; its ends are the first and
last such positions. An end is moved in only where the part cut off is (nearly) empty
between the edges (its mean count under ``EMPTY_FRACTION`` of the typical): a strip
that only thins towards its end keeps it. The box is only ever shortened at an end (a
mask that stops short is not lengthened from its fill, which holes and a dim face
lower), not at an end where the lamella runs past the image's border, and not at an
end where it would lose more than ``MAX_TRIM`` of its length: the band overhangs by 5-15
% of the lamella, and a cut of 20-40 % came from holes in a patchy mask of the strip (a
validation view of seeds 200-239 had its right end put 211 px in).

Measured on 480 views of each of the six held-out sets (benchmarks/README.md) from the
image alone, together with the one-view post rule of mask_features.py (1-3 of it per
set): keypoints within 25 px rose on every set, by 5 to 12 (46 of 11,201 in all), within
10 px by 0 to 22 (54); on validation seeds 200-239 by 2 and 2. It also moves an end in
where the model's strip is missing over a true end of the lamella (two views in 480 of
seeds 310-349 went from within 25 px to 41 and 44 px).
"""

from __future__ import annotations

import numpy as np

from .lamella_edges import LamellaBox

EDGE_MARGIN = 0.2  # of the strip's height, left out at the top and the bottom edge
FULL_FRACTION = 0.5  # of the median count across the middle of the strip
MIDDLE_FRACTION = 0.5  # of the length: where the median count is taken
MAX_TRIM = 0.15  # of the box's length, at either end
EMPTY_FRACTION = 0.25  # of the median count: the part cut off must be (nearly) empty
MIN_TRIM_PX = 2.0  # less than this is the pixel grid, not a band


def ends_in_strip(
    region_px: np.ndarray,
    left: int,
    top: int,
    box: LamellaBox,
    keep: tuple[bool, bool],
) -> LamellaBox:
    """``box`` with its left and right ends moved in to where the mask between its top
    and bottom edges ends; ``keep`` (left, right) leaves an end where it is (the lamella
    runs past the border there)."""
    half_len, half_h = box.half_length_px, box.half_height_px
    if half_len < 4 or half_h < 1:
        return box
    rows, cols = np.nonzero(region_px)
    dx = cols + left - box.centre[0]
    dy = rows + top - box.centre[1]
    u = dx * box.along[0] + dy * box.along[1]
    v = dx * box.across[0] + dy * box.across[1]
    margin = EDGE_MARGIN * half_h
    inside = (v >= -half_h + margin) & (v <= half_h - margin)
    if not inside.any():
        return box
    lo = int(np.floor(-half_len))
    # pixels lie inside the box; the clip only guards bincount against a box that is not
    # the region's own (a pixel a rounding outside it)
    index = np.clip(np.round(u[inside]).astype(int) - lo, 0, int(2 * half_len) + 1)
    bins = np.bincount(index, minlength=int(2 * half_len) + 2)
    middle = bins[
        int(len(bins) * (1 - MIDDLE_FRACTION) / 2) : int(len(bins) * (1 + MIDDLE_FRACTION) / 2)
    ]
    level = float(np.median(middle)) if middle.size else 0.0
    if level <= 0:
        return box
    full = np.flatnonzero(bins >= FULL_FRACTION * level)
    start = float(full[0] + lo) if not keep[0] else -half_len
    end = float(full[-1] + lo) if not keep[1] else half_len
    start, end = max(start, -half_len), min(end, half_len)
    i0, i1 = round(start) - lo, round(end) - lo
    if i0 > 0 and bins[:i0].mean() > EMPTY_FRACTION * level:
        start = -half_len
    if i1 + 1 < len(bins) and bins[i1 + 1 :].mean() > EMPTY_FRACTION * level:
        end = half_len
    if start + half_len > MAX_TRIM * 2 * half_len:
        start = -half_len  # far more than a band's overhang: holes in the strip's mask
    if half_len - end > MAX_TRIM * 2 * half_len:
        end = half_len
    if max(start + half_len, half_len - end) < MIN_TRIM_PX:
        return box
    centre = box.centre + box.along * (start + end) / 2
    return LamellaBox(centre, box.along, box.across, (end - start) / 2, half_h)
