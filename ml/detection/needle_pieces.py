"""A needle the model broke into pieces along its length, joined again.

Where the needle is dark over a dark trench the model can lose a stretch of it; the
largest piece alone then puts the tip where the loss begins, hundreds of pixels short
(the twin's held-out lift-out views: one tip 735 px off). The needle is straight and
only tapers towards its tip, so a piece beyond the largest one's end, on its centre line
and no wider than it is there, is the rest of the needle.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ml.classes import BACKGROUND, MANIPULATOR

from .mask_regions import Region, union
from .needle_mask import border_entry, narrow_end

JOIN_ANGLE_DEG = 6.0  # a piece lies this near the needle's centre line (seen from its back)
JOIN_GAP_FRACTION = 1.0  # across a gap of at most this times the needle's length in view
_NECK_PX = 64.0  # the needle's width is measured over this much behind its end
_WIDTH_SLACK_PX = 2.0
_STRETCH = 1.5  # a piece of shaft is at least this much longer along the line than across
_CROSSED_PX = 2  # pixels of another object the gap may cross (mask noise)


def _points(region: Region) -> np.ndarray:
    rows, cols = np.nonzero(region.pixels)
    return np.stack([cols + region.left, rows + region.top], 1).astype(float)


def _centre_line(main: Region, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """(origin, unit axis) of the needle's centre line: its long axis through its
    centroid (a tapered shaft is symmetric about it), pointing away from where it enters
    the image (a mask that stops short of the border: towards its narrow end); the origin
    is the line's point level with the region's back end. None for a region too small
    to have a line."""
    h, w = shape
    pts = _points(main)
    if len(pts) < 3:
        return None
    axis, _ = narrow_end(main.pixels, main.left, main.top)
    centre = pts.mean(0)
    entry = border_entry(main.pixels, main.left, main.top, h, w)
    if entry is not None and float((centre - entry) @ axis) < 0:
        axis = -axis  # away from where it enters
    along = (pts - centre) @ axis
    if float(along.max() - along.min()) < 1.0:
        return None
    return centre + float(along.min()) * axis, axis


def _gap_is_clear(mask: np.ndarray, start: np.ndarray, stop: np.ndarray) -> bool:
    """Whether the straight gap from ``start`` to ``stop`` (col, row) crosses no other
    object: a stretch of needle the model lost is background in its mask, and a needle
    does not pass through a lamella, post, adaptor or block."""
    steps = int(np.ceil(np.hypot(*(stop - start)))) + 1
    cols = np.clip(np.rint(np.linspace(start[0], stop[0], steps)).astype(int), 0, mask.shape[1] - 1)
    rows = np.clip(np.rint(np.linspace(start[1], stop[1], steps)).astype(int), 0, mask.shape[0] - 1)
    seen = mask[rows, cols]
    return int(((seen != BACKGROUND) & (seen != MANIPULATOR)).sum()) <= _CROSSED_PX


def joined_needle(
    regions: Sequence[Region], main: Region, mask: np.ndarray
) -> tuple[np.ndarray, int, int]:
    """The needle's pixels (bool, in their box) and the box's (left, top): ``main`` (the
    largest needle region) with the pieces beyond its end. A piece joins when all of it
    lies past ``main``'s far end along the centre line, across a gap of at most
    ``JOIN_GAP_FRACTION`` times ``main``'s length along it; its centroid is within
    ``JOIN_ANGLE_DEG`` of the line seen from its origin; it is no wider across the line
    than ``main`` over its last ``_NECK_PX`` and ``_STRETCH`` times longer along it than
    wide (a stretch of shaft, not a blob); and the gap crosses no other object in ``mask``."""
    px, left, top = main.pixels, main.left, main.top
    line = None if len(regions) < 2 else _centre_line(main, mask.shape)
    if line is None:
        return px, left, top
    origin, axis = line
    normal = np.array([-axis[1], axis[0]])
    own = _points(main) - origin
    own_along = own @ axis
    end = float(own_along.max())
    neck = own[own_along >= end - _NECK_PX] @ normal
    width = float(neck.max() - neck.min())
    cos_limit = np.cos(np.deg2rad(JOIN_ANGLE_DEG))
    pieces = [main]
    for region in regions:
        if region is main:
            continue
        pts = _points(region) - origin
        along = pts @ axis
        if along.min() <= end or along.min() - end > JOIN_GAP_FRACTION * end:
            continue  # not past the end, or too far past it
        centre = pts.mean(0)
        if centre @ axis < cos_limit * float(np.hypot(*centre)):
            continue  # off the needle's line
        across = pts @ normal
        thick = float(across.max() - across.min())
        if thick > width + _WIDTH_SLACK_PX:
            continue  # wider than the needle where it was lost
        if float(along.max() - along.min()) < _STRETCH * thick:
            continue  # a blob, not a stretch of shaft
        near = pts[int(np.argmin(along))] + origin
        if not _gap_is_clear(mask, origin + end * axis, near):
            continue
        pieces.append(region)
    if len(pieces) == 1:
        return px, left, top
    return union(pieces)
