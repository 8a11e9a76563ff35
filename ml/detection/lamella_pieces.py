"""A lamella the model split into pieces along its length, joined again.

A landed lamella lies on its post, and the model sees the post's grey through the thin
strip: its mask of the lamella breaks into two or three pieces in a row, and the piece
nearest the image centre alone put the lamella's centre and far edge a third of its
length off (benchmarks/bench_keypoint_accuracy.py, landed views). The pieces of one
lamella lie on one line, as thick as it, with short gaps between them, and the lamella's
length (the workflow gives it) bounds how far they reach. Without the length nothing is
joined: pieces cannot then be told from a neighbour in line, and joining across gaps up
to a quarter of the lamella made the image-alone figures worse on three sets of five
(validation 93.1 % -> 92.9 % and seeds 310-349 91.9 % -> 91.7 % within 25 px; 410-449
87.2 % -> 86.9 % within 10 px; 370-409 gained 0.2 points).

A piece (at least ``PIECE_FRACTION`` of the chosen region's area: not a speck on a
post's corner) joins the chosen one when its centroid lies within the chosen box's half
height (at least ``ACROSS_MIN_PX``) of the box's axis, it is no thicker than twice the
box, the gap to the lamella so far is at most ``GAP_FRACTION`` of the given length, and
the lamella with it stays within that length (+ ``LENGTH_SLACK``). Pieces are taken
nearest first, so a gap is bridged only by what lies in it. The joined lamella keeps the
chosen box's axis and thickness; its ends are the outermost pieces'.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .known_size import LENGTH_SLACK
from .lamella_edges import LamellaBox
from .mask_regions import Region, union

ACROSS_MIN_PX = 4.0  # a piece's centroid may lie this far off the axis however thin the box
GAP_FRACTION = 0.25  # the widest gap bridged, a share of the given length
PIECE_FRACTION = 0.1  # a piece has at least this share of the chosen region's area


def _extent(region: Region, box: LamellaBox) -> tuple[float, float, float, float]:
    """The region's pixels along the box's axis (min, max), its centroid's offset across
    it, and its half thickness across it."""
    rows, cols = np.nonzero(region.pixels)
    d = np.stack([cols + region.left - box.centre[0], rows + region.top - box.centre[1]], 1)
    along, across = d @ box.along, d @ box.across
    half_thick = (float(across.max()) - float(across.min())) / 2
    return float(along.min()), float(along.max()), float(across.mean()), half_thick


def joined_pieces(
    regions: Sequence[Region],
    chosen: Region,
    box: LamellaBox,
    length_px: float,
) -> tuple[np.ndarray, int, int, LamellaBox]:
    """The chosen lamella region with the pieces of it among ``regions`` (see the
    module's doc), given the lamella's length: the pixels (bool) in their joint
    bounding box, its (left, top) and the joined lamella's box. The chosen region and
    ``box`` where nothing joins."""
    lo, hi = -box.half_length_px, box.half_length_px
    reach = max(ACROSS_MIN_PX, box.half_height_px)
    candidates = []
    for r in regions:
        if r is chosen or r.area_px < PIECE_FRACTION * chosen.area_px:
            continue
        a, b, across, half_thick = _extent(r, box)
        if abs(across) > reach or half_thick > 2 * box.half_height_px + 1:
            continue
        candidates.append((max(a - hi, lo - b, 0.0), a, b, r))
    taken = [chosen]
    for _gap, a, b, r in sorted(candidates, key=lambda c: c[0]):
        gap = max(a - hi, lo - b, 0.0)  # from the lamella as joined so far
        span = max(hi, b) - min(lo, a)
        if span > length_px * (1 + LENGTH_SLACK) + 2 or gap > GAP_FRACTION * length_px:
            continue
        lo, hi = min(lo, a), max(hi, b)
        taken.append(r)
    if len(taken) == 1:
        return chosen.pixels, chosen.left, chosen.top, box
    joined_box = LamellaBox(
        box.centre + box.along * (lo + hi) / 2, box.along, box.across, (hi - lo) / 2,
        box.half_height_px,
    )  # fmt: skip
    joint, left, top = union(taken)
    return joint, left, top, joined_box
