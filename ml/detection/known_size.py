"""Objects of a known size that the image's border cuts, placed from their end in view.

What shows of a lamella or a landing post that runs past the border is not the whole
of it, and the middle of what shows is off by half of what is hidden. A workflow knows
their size (the lamella's length from its protocol, the posts' from the grid), and with
it the object is measured from the end it shows. One showing more than its size (by
``LENGTH_SLACK``) is not the object described: a reason, never a point put somewhere.
So is a pad shown whole along an axis at well under its size there (by ``SHORT_SLACK``):
something else, or a pad partly hidden (a needle in front of it), whose middle the part
in view does not give.
"""

from __future__ import annotations

import numpy as np

from .lamella_edges import LamellaBox

LENGTH_SLACK = 0.15  # an object may show this much more than its size (the mask's blur)
SHORT_SLACK = 0.25
"""A pad whole in view along an axis may show this much less than its size there. On the
twin's 120 posts views of seeds 160-239 and 310-529 the pads' masks span 0.91-1.22 of
their size on every axis a border does not cut but two: 0.71 and 0.51, each the part of
a pad below the needle that crosses it, its centroid 138 and 180 px from the pad's
middle (both now not found; nothing else changes)."""
POST_VIEWS = ("auto", "top", "side")
"""How the landing posts are seen: from above (pads), from the side, or "auto" (by
whether they enter from the lower border)."""


def sizes_ok(size: object) -> bool:
    """A (width, length) pair of finite lengths > 0 (not booleans)."""
    if not isinstance(size, tuple | list) or len(size) != 2:
        return False
    return all(
        isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) and v > 0
        for v in size
    )


def measured_from_end(box: LamellaBox, cut: dict[str, str], length_px: float) -> LamellaBox | str:
    """The box of a lamella cut by one side border, given its length: from its end in
    view, ``length_px`` long. A reason (str) where the part in view is longer than that."""
    left_cut, right_cut = "LamellaLeftEdge" in cut, "LamellaRightEdge" in cut
    if left_cut == right_cut:  # not cut at a side, or at both: the length cannot place it
        return box
    seen = 2 * box.half_length_px
    if seen > length_px * (1 + LENGTH_SLACK) + 2:
        return (
            f"the lamella in view is {seen:.0f} px long, longer than its given length"
            f" ({length_px:.0f} px): not the lamella described"
        )
    half = length_px / 2
    if left_cut:  # its right end is in view
        end = box.centre + box.along * box.half_length_px
        centre = end - box.along * half
    else:
        end = box.centre - box.along * box.half_length_px
        centre = end + box.along * half
    return LamellaBox(centre, box.along, box.across, half, box.half_height_px)


def pad_centre(
    region_px: np.ndarray,
    left: int,
    top: int,
    shape: tuple[int, int],
    centroid: tuple[float, float],
    size_px: tuple[float, float],
) -> tuple[float, float] | str:
    """A pad seen from above (its region's pixels in their box at ``left``, ``top``),
    given its size (width, length in pixels as seen): on an axis where one border cuts
    it, its centre half the size from its end in view; else its centroid. A reason
    (str) where it shows larger than its size."""
    h, w = shape
    x = _on_axis(region_px.any(axis=0), left, w, region_px[:, 0], region_px[:, -1], size_px[0])
    y = _on_axis(region_px.any(axis=1), top, h, region_px[0], region_px[-1], size_px[1])
    for value, what in ((x, "wide"), (y, "long")):
        if isinstance(value, tuple):
            seen, size = value
            if seen < size:
                return (
                    f"the landing post in view is {seen:.0f} px {what} and whole that way, well"
                    f" under its given size ({size:.0f} px): partly hidden, or not the post"
                    " described"
                )
            return (
                f"the landing post in view is {seen:.0f} px {what}, more than its given size"
                f" ({size:.0f} px): not the post described"
            )
    return (
        float(centroid[0]) if x is None else x,
        float(centroid[1]) if y is None else y,
    )


def _on_axis(
    occupied: np.ndarray,
    start: int,
    n: int,
    low_border: np.ndarray,
    high_border: np.ndarray,
    size: float,
) -> float | tuple[float, float] | None:
    """A pad's centre on one axis: ``occupied`` says which of its box's cells along the
    axis it covers (the box starts at ``start`` of the image's ``n``), ``low_border`` and
    ``high_border`` are its pixels in the box's first and last line across. None where
    no border or both cut it (the centroid stands); (seen, size) where it shows longer
    than its size, or, cut by no border, well shorter (``SHORT_SLACK``). A corner grazing
    the border (under a quarter of the line) is no cut."""
    need = max(2.0, len(low_border) / 4)
    low_cut = start == 0 and int(low_border.sum()) >= need
    high_cut = start + len(occupied) == n and int(high_border.sum()) >= need
    cells = np.flatnonzero(occupied)
    seen = float(cells[-1] - cells[0] + 1)
    if not low_cut and not high_cut and seen < size * (1 - SHORT_SLACK) - 2:
        return seen, size
    if low_cut == high_cut:
        return None
    if seen > size * (1 + LENGTH_SLACK) + 2:
        return seen, size
    if high_cut:  # its low end is in view
        return start + float(cells[0]) + (size - 1) / 2
    return start + float(cells[-1]) - (size - 1) / 2
