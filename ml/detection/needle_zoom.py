"""A second look at the needle tip: the model again, on the part of the frame around it.

The segmentation model sees the frame reduced to about 200 px wide. A needle's end is a
few pixels across at full resolution and vanishes at that scale, so the tip taken from
the mask lies 10-25 px back along the shaft (benchmarks/bench_keypoint_accuracy.py).
The model is run once more on a window ``zoom`` times smaller than the frame (same
aspect), centred on that first tip and kept inside the frame: the predictor reduces the
window to the same width, so the needle is ``zoom`` times larger to the model. Its tip
there replaces the first one; where the window shows no needle, or its needle ends
short of the first tip (``BACK_LIMIT_PX``), the first tip stands.

Zoom 2 was chosen on validation images (seeds 90-97; windows of 1/6 to 2/3 of the frame
tried): 2 gave 88 % of tips within 10 px against 44 % without it; 4 gave 56 %. A window
much smaller than the frame shows the model a scale it was not trained on.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ml.classes import MANIPULATOR

from .mask_features import MaskFeatures, found_feature, region_score
from .mask_regions import ClassRegions
from .needle_mask import needle_tip
from .needle_pieces import joined_needle
from .zoom_window import predict_around

if TYPE_CHECKING:
    from ml.segmentation.predictor import Predictor

TIP_ZOOM = 2.0
#: A zoomed tip this far behind the first one, along the needle towards where it enters,
#: is kept out: the window's mask lost the needle's end. The first tip lies back along the
#: shaft, so the second look moves it forwards (validation seeds 200-239, 96 tips: median
#: 6.6 px forwards, 10th percentile 0.8 px back); the three moved back by more than 5 px
#: (9, 15 and 58 px) were all worse than the first (5.8 -> 15.4, 3.3 -> 17.9, 2.0 -> 59.9
#: px from the true tip).
BACK_LIMIT_PX = 5.0


def zoomed_tip(
    predictor: Predictor,
    image: np.ndarray,
    found: MaskFeatures,
    zoom: float,
    min_area_px: int,
) -> MaskFeatures:
    """``found`` with its NeedleTip from the model's mask of the window around it."""
    first = found.require("NeedleTip")
    prediction, _window, left, top = predict_around(
        predictor, image, (first.keypoint.x_px, first.keypoint.y_px), zoom
    )
    mask = np.ascontiguousarray(prediction.mask, dtype=np.uint8)
    needle = ClassRegions(mask, MANIPULATOR, min_area_px)
    if needle.missing("needle", min_area_px):
        return found
    # Only the needle's shape: whether its end is hidden was decided on the whole frame,
    # where the adaptor is seen at the scale the model knows.
    px, r_left, r_top = joined_needle(needle.regions, needle.largest(), mask)
    col, row = needle_tip(px, r_left, r_top, mask.shape)
    rows, cols = np.nonzero(px)
    shaft = np.array([cols.mean() + r_left, rows.mean() + r_top])
    forwards = np.array([col, row]) - shaft
    forwards /= max(float(np.hypot(*forwards)), 1e-9)
    moved = np.array([col + left - first.keypoint.x_px, row + top - first.keypoint.y_px])
    if float(moved @ forwards) < -BACK_LIMIT_PX:
        return found  # the window's mask stops short of the needle's end
    score = first.keypoint.score
    if prediction.probabilities is not None:
        score = region_score(prediction.probabilities, MANIPULATOR, px, r_left, r_top)
    results = dict(found.results)
    results["NeedleTip"] = found_feature(
        "NeedleTip", (col + left, row + top), score, found.image_shape, found.pixel_size_m
    )
    return replace(found, results=results)
