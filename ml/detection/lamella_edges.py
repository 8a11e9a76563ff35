"""A lamella's bottom edge from the image at full resolution.

The segmentation model sees a frame reduced eight times, and a lamella only a few model
pixels high: its mask's lower side runs into whatever lies under the lamella (the lit
trench wall, a band of similar grey) and ends 10-25 px below the true edge in ion views
of milled lamellae (benchmarks/bench_keypoint_accuracy.py). The image itself has the edge
— a grey step between the lamella's face and what is under it — so the bottom edge is
looked for there, near where the mask puts it.

How: the frame is sampled on a grid aligned with the lamella's box (``box`` from the mask:
centre, unit axes along and across it, half lengths), over the middle 60 % of its length
and from its top edge to ``SEARCH_PX`` below its mask's bottom edge. The median across
the length gives one grey profile through the lamella, free of noise and texture. Walking
down the profile from a quarter of the way below the top (past the bright coating along
the top), the bottom edge is the first step: the mean grey of the ``STEP_WINDOW_PX`` rows
beyond a point differs by at least ``STEP_MIN`` of full scale from that of the rows before
it (one row left out either side for the edge's blur). Slow shading across the face moves
neither window's mean enough; a band of texture is narrower than a window. Where no such
step is found the mask's edge stands.

The search reaches only ``SEARCH_PX`` (10 px) below the mask's edge: far enough for a mask
that stops a little short, not so far that it takes the next edge down. A lamella landed
on its post has the post's grey under it, so the first step beneath it can be the post's
own lower edge, and a 25-px reach took it there in landed views. On the first
validation views, 90 % of bottom edges lie within 10 px of the truth with the 10-px
reach, against 83 % with 25 px.

The top edge, and the two ends, stay the mask's here: the top edge is where the model is
already within a few pixels, and a lamella's ends can join the material beside it with no
step at all in thinned and polished views (looking for each end alone, the same way,
made them worse). Given the lamella's length, both ends are looked for together
(lamella_ends.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

STEP_MIN = 0.06  # of full scale; the twin's lamella/wall step is at least 0.12 (EDGE_CONTRAST)
STEP_WINDOW_PX = 5
STEP_GAP_PX = 1
SEARCH_PX = 10.0  # how far below the mask's bottom edge to look
START_FRACTION = 0.25  # of the box's height below its top: past the coating
LENGTH_FRACTION = 0.6  # of the box's length sampled, about its centre


@dataclass(frozen=True)
class LamellaBox:
    """A lamella's rotated box in image pixels: centre (col, row), unit vectors along
    it (pointing right) and across it (pointing down), half length and half height."""

    centre: np.ndarray
    along: np.ndarray
    across: np.ndarray
    half_length_px: float
    half_height_px: float


def unit_grey(image: np.ndarray, window: tuple[slice, slice] | None = None) -> np.ndarray:
    """The image, or its ``window`` (rows, cols), as float32 grey in 0..1 of the image
    type's full scale (a float image: of the whole image's range). Only the window is
    converted: the profile needs a few thousand of a frame's 1.5 million pixels."""
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D grey (rows, cols), got shape {image.shape}")
    part = image if window is None else image[window]
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        lo, span = float(info.min), float(info.max - info.min)
    else:
        lo = float(np.nanmin(image))
        span = float(np.nanmax(image)) - lo
        if not span > 0:
            return np.zeros(part.shape, np.float32)
    return ((part.astype(np.float32) - lo) / span).astype(np.float32)


def box_grey(image: np.ndarray, box: LamellaBox, along_px: np.ndarray, across_px: np.ndarray):
    """The image's grey (``unit_grey``) at ``centre + u * along + v * across`` for every
    (v, u), rows are v; NaN outside the image."""
    u, v = np.meshgrid(along_px, across_px)
    cols = box.centre[0] + u * box.along[0] + v * box.across[0]
    rows = box.centre[1] + u * box.along[1] + v * box.across[1]
    h, w = np.shape(image)
    c0, c1 = max(int(np.floor(cols.min())) - 1, 0), min(int(np.ceil(cols.max())) + 2, w)
    r0, r1 = max(int(np.floor(rows.min())) - 1, 0), min(int(np.ceil(rows.max())) + 2, h)
    if c1 <= c0 or r1 <= r0:
        return np.full(u.shape, np.nan, np.float32)
    grey = unit_grey(image, (slice(r0, r1), slice(c0, c1)))
    return cv2.remap(
        grey,
        (cols - c0).astype(np.float32),
        (rows - r0).astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=np.nan,
    )


def first_step(profile: np.ndarray, start: int, window: int = STEP_WINDOW_PX,
               gap: int = STEP_GAP_PX, step_min: float = STEP_MIN) -> float | None:  # fmt: skip
    """Where (in samples; 29.5 is between samples 29 and 30) the first step of at least
    ``step_min`` in ``profile`` lies, looking past ``start``; None if there is none.

    The step at sample i is the mean of the ``window`` samples from ``i + gap + 1`` less
    that of the ``window`` samples up to ``i - gap - 1``, so it is symmetric about i; the
    first one over ``step_min`` is followed to where the step is largest (the middle of
    that run where several are equal, as for an unblurred edge)."""
    n = len(profile)
    lo = max(start, 0) + window + gap  # the window before the step starts at `start`
    hi = n - window - gap
    if hi <= lo:
        return None
    sums = np.concatenate([[0.0], np.cumsum(profile, dtype=np.float64)])
    i = np.arange(lo, hi)
    after = (sums[i + 1 + gap + window] - sums[i + 1 + gap]) / window
    before = (sums[i - gap] - sums[i - gap - window]) / window
    step = np.abs(after - before)
    over = np.flatnonzero(step >= step_min)
    if over.size == 0:
        return None
    near = step[over[0] : over[0] + 2 * window]
    top = near >= near.max() - 1e-6
    first = last = int(np.argmax(top))
    while last + 1 < len(top) and top[last + 1]:
        last += 1
    return float(i[over[0]] + (first + last) / 2)


def bottom_edge_offset(image: np.ndarray, box: LamellaBox) -> float | None:
    """The bottom edge's distance below the box's centre, in pixels along ``box.across``,
    from the (H, W) grey ``image``; None where the image shows no step (the mask's edge
    then stands) or the profile leaves the image."""
    half_len, half_h = box.half_length_px, box.half_height_px
    if half_len < 1 or half_h < 1:
        return None
    span = LENGTH_FRACTION * half_len
    along = np.arange(-span, span + 1.0, 1.0)
    across = np.arange(-half_h, half_h + SEARCH_PX + 1.0, 1.0)
    strip = box_grey(image, box, along, across)
    if np.isnan(strip).all(axis=1).any():
        return None  # the profile leaves the image
    profile = np.nanmedian(strip, axis=1)
    start = int(np.ceil(START_FRACTION * 2 * half_h))
    index = first_step(profile, start)
    if index is None:
        return None
    return float(-half_h + index)
