"""A lamella's two ends from the image, when its mask's length is not its known length.

At 1/8 scale the model often runs a milled lamella's mask past its ends: into the
unpolished strip beside a polished window, or along the trench where it goes on past
the lamella. Its side edges are then 20-100 px out, and its centre, top and bottom
edges move by half of that (benchmarks/bench_keypoint_accuracy.py, polished and thinned
views). It also stops a little short of an end now and then. A workflow knows the
lamella's length (the protocol's lamella width), so only where the lamella lies along
its mask is unknown.

How: the frame is sampled on a grid aligned with the lamella's box (lamella_edges.py):
along its whole length and past each end, across the middle half of its height. The
median across gives one grey profile along the lamella. A window of the given length
is slid along the mask (over it where the mask is longer; around it where it is
shorter); at each place the step at each of its ends is the mean grey of the
``ENDS_WINDOW_PX`` samples outside less that of those inside (the samples at the end
itself left out for the edge's blur). The lamella's face differs from what lies beyond both
its ends in the same way (the thinned face against the thicker material, or against
the trench), so a place counts only where the two steps have the same sign, by the
smaller of the two. The best place is taken where that is at least ``ENDS_STEP_MIN`` of
full scale and ``NOISE_STEPS`` times a step's spread from the profile's own noise (a
noisy frame has chance steps over any fixed bar: in 19 of 50 frames of noise alone
without this); otherwise the mask's ends stand (a lamella whose ends join the material
beside it with no step at all, or a step at one end only). On the twin's views the
noise bar is under the fixed one: it changes none of the figures below.

Only a mask longer than the given length by at least ``MIN_EXCESS_PX`` is moved (a few
pixels are the mask's blur), and by at most ``MAX_EXCESS_FRACTION`` of that length
(more is not this lamella's mask running on, but something else); one shorter by at
most ``MAX_SHORT_FRACTION`` (a lamella shown much shorter gets a second look instead,
lamella_zoom.py; allowing 20 % short paired a step inside one thinned lamella with
another and put its five features 28 px off, seeds 200-239).

The mask's own ends stand, too, where they are a step pair of their own at least
``OWN_ENDS_FRACTION`` as strong as the best place's: then the mask has found edges, and a
length that does not fit them is more likely off than the mask (a face has bands of
its own grey that a window of a wrong length can fit).

Chosen on the 240 views with a lamella of each of four held-out seed sets (160-199,
200-239, 310-349, 370-409; 960 views), the lamella's length given: lamella features
over 25 px off 40 -> 0, over 10 px 175 -> 27, among the lamellae it moves. It trusts the
length to about 2 %: given 2 % short or long, 39 -> 22 and 27 -> 6 over 25 px (still
better than the mask); 5 % off makes it worse than the mask (35 -> 85 given 5 % short,
19 -> 23 given 5 % long; over 10 px 129 -> 304 and 44 -> 134). The length a workflow
knows is its protocol's lamella width (the twin's views carry exactly that), which the
milled lamella has to within the beam's size.
"""

from __future__ import annotations

import numpy as np

from .lamella_edges import LamellaBox, box_grey

ENDS_WINDOW_PX = 8
ENDS_MARGIN_PX = ENDS_WINDOW_PX + 2  # sampled past each of the mask's ends
ENDS_STEP_MIN = 0.03  # of full scale, at both ends
MIN_EXCESS_PX = 10.0
MAX_EXCESS_FRACTION = 0.3
MAX_SHORT_FRACTION = 0.1  # a mask this much shorter than the length is extended
NOISE_STEPS = 4.0  # both steps stand this many times their noise, in a noisy frame
OWN_ENDS_FRACTION = 0.8  # the mask's own ends, this strong beside the best place, stand


def _window_means(profile: np.ndarray, width: int) -> np.ndarray:
    """Mean of ``profile[i : i + width]`` for every i that fits."""
    sums = np.concatenate([[0.0], np.cumsum(profile, dtype=np.float64)])
    return (sums[width:] - sums[:-width]) / width


def _step_noise(profile: np.ndarray) -> float:
    """The spread of one end's step (a difference of two window means) from the noise
    left in ``profile``: each sample's, from the median absolute difference of
    neighbours (robust to the ends' own steps), scaled to a window of samples."""
    diffs = np.abs(np.diff(profile))
    sample = 1.4826 * float(np.median(diffs)) / np.sqrt(2.0)
    return sample * np.sqrt(2.0 / ENDS_WINDOW_PX)


def _pair_score(means: np.ndarray, a: int, b: int) -> float:
    """The smaller of the steps at profile indices ``a`` (first end) and ``b`` (second),
    each outside less inside, where both have one sign; else 0 (also where a window
    would leave the profile). ``means[i]``: the mean of ``ENDS_WINDOW_PX`` samples from i."""
    w = ENDS_WINDOW_PX
    if a - w - 1 < 0 or b + 1 >= len(means):
        return 0.0
    step_a = means[a - w - 1] - means[a + 1]
    step_b = means[b + 1] - means[b - w - 1]
    if step_a * step_b <= 0:
        return 0.0
    return float(min(abs(step_a), abs(step_b)))


def fitted_to_length(image: np.ndarray, box: LamellaBox, length_px: float) -> LamellaBox:
    """``box`` moved and shortened along its axis to ``length_px`` where the (H, W) grey
    ``image`` shows the lamella's two ends (module doc); ``box`` itself where the mask is
    not too long, the image shows no such ends, or the profile leaves the image."""
    found_px = 2.0 * box.half_length_px
    excess = found_px - length_px  # < 0: the mask is short of the length
    if not np.isfinite(length_px) or length_px <= 2 * ENDS_WINDOW_PX:
        return box
    if abs(excess) < MIN_EXCESS_PX or excess > MAX_EXCESS_FRACTION * length_px:
        return box
    if excess < -MAX_SHORT_FRACTION * length_px:
        return box
    half_h = box.half_height_px
    if half_h < 1:
        return box
    margin = ENDS_MARGIN_PX + int(np.ceil(max(0.0, -excess)))
    along = np.arange(-box.half_length_px - margin, box.half_length_px + margin + 1.0, 1.0)
    across = np.arange(-0.5 * half_h, 0.5 * half_h + 1.0, 1.0)
    strip = box_grey(image, box, along, across)
    if np.isnan(strip).any():
        return box  # part of the profile lies outside the image
    profile = np.median(strip, axis=0)
    means = _window_means(profile, ENDS_WINDOW_PX)  # means[i]: samples i .. i+W-1
    best_score, best_shift = -np.inf, 0
    for shift in range(int(np.floor(min(0.0, excess))), int(np.floor(max(0.0, excess))) + 1):
        a = margin + shift  # index of the window's first end
        b = round(margin + shift + length_px)  # and of its second
        score = _pair_score(means, a, b)
        if score > best_score:
            best_score, best_shift = score, shift
    if best_score < max(ENDS_STEP_MIN, NOISE_STEPS * _step_noise(profile)):
        return box
    own = _pair_score(means, margin, round(margin + found_px))
    if own >= OWN_ENDS_FRACTION * best_score:
        return box  # the mask's own ends are edges too: the length given may be off
    move = best_shift + length_px / 2 - box.half_length_px
    centre = box.centre + box.along * move
    return LamellaBox(centre, box.along, box.across, length_px / 2, half_h)
