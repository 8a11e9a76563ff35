"""A second look at a short lamella: the model again, on the part of the frame around it.

The segmentation model sees the frame reduced to about 200 px wide. A lamella a tenth of
the frame long is then some 20 px long and 2-4 px thick to the model: its ends and its
faces blur into the trench, and its features miss by 25-140 px at full resolution
(benchmarks/bench_keypoint_accuracy.py). Where the lamella found in the frame is shorter
than ``SHORT_LAMELLA_FRACTION`` of the frame's width, the model is run once more on a
window ``zoom`` times smaller than the frame (same aspect), centred on that lamella, and
the lamella's features are taken from the window's mask (with the same hints). Where
the workflow gives the lamella's length, a lamella the mask shows shorter than
``SHORT_OF_GIVEN`` of it is looked at again too, however long: the model lost part of it
(a landed lamella's end over its post's grey, 30-100 px short in held-out landed views).

The second look's lamella replaces the first only when it is plausible: all of its
features are found in the window (it is not cut by the window's border) and its box
holds the first lamella's centre (it is the same lamella, not a neighbour; a first
lamella a few pixels long may be a fragment of it). Otherwise the first stands: the
second look never loses a lamella the first found.

Zoom 1.5 below 15 % of the frame width was chosen on validation views (seeds 200-239;
zooms 1.25-2 and lengths 10-130 % of the frame tried): for the lamella features, 95.1 %
-> 96.2 % within 25 px. A longer lamella is seen well enough, and a window much smaller
than the frame shows the model a scale it was not trained on (zoom 2 on every lamella:
95.1 % -> 88.2 %). The given-length trigger left the 480 validation views' figures as
they were (96.8 % / 92.3 % within 25 / 10 px) and put a landed lamella of held-out
seeds 310-349 right (its left edge 69 px -> 11 px).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from .mask_features import FoundFeature, MaskFeatures, features_from_mask, found_feature
from .region_box import LAMELLA_FEATURES
from .zoom_window import predict_around

if TYPE_CHECKING:
    from ml.segmentation.predictor import Predictor

LAMELLA_ZOOM = 1.5
SHORT_LAMELLA_FRACTION = 0.15
SHORT_OF_GIVEN = 0.85
_MARGIN_PX = 10.0


def short_lamella(found: MaskFeatures, given_px: float | None = None) -> float | None:
    """The found lamella's length in pixels (between its side edges) when it is shorter
    than ``SHORT_LAMELLA_FRACTION`` of the frame's width, or than ``SHORT_OF_GIVEN`` of
    its given length ``given_px``; None otherwise, or when any of its features is
    missing (a lamella cut by the border is placed from its known length, not looked at
    again)."""
    got = found.found()
    if not all(name in got for name in LAMELLA_FEATURES):
        return None
    left, right = got["LamellaLeftEdge"].keypoint, got["LamellaRightEdge"].keypoint
    length_px = math.hypot(right.x_px - left.x_px, right.y_px - left.y_px)
    if length_px < SHORT_LAMELLA_FRACTION * found.image_shape[1]:
        return length_px
    if given_px is not None and length_px < SHORT_OF_GIVEN * given_px:
        return length_px
    return None


def zoomed_lamella(
    found: MaskFeatures,
    image: np.ndarray,
    predictor: Predictor,
    zoom: float,
    min_area_px: int,
    **hints: object,
) -> MaskFeatures:
    """``found`` with its lamella features from the model's mask of the window around a
    short lamella; unchanged where the lamella is not short or the second look is not
    plausible. ``hints`` are ``features_from_mask``'s (the lamella's length, the posts')."""
    given_m = hints.get("lamella_length_m")
    given_px = given_m / found.pixel_size_m if isinstance(given_m, int | float) else None
    if short_lamella(found, given_px) is None:
        return found
    first = found.require("LamellaCentre").keypoint
    prediction, window, left, top = predict_around(predictor, image, (first.x_px, first.y_px), zoom)
    second = features_from_mask(
        np.ascontiguousarray(prediction.mask, dtype=np.uint8),
        found.pixel_size_m,
        LAMELLA_FEATURES,
        near_px=(first.x_px - left, first.y_px - top),
        probabilities=prediction.probabilities,
        min_area_px=min_area_px,
        image=window,
        **hints,  # type: ignore[arg-type]
    ).found()
    if not all(name in second for name in LAMELLA_FEATURES):
        return found
    if not _holds(second, first.x_px - left, first.y_px - top):
        return found
    results = dict(found.results)
    for name in LAMELLA_FEATURES:
        results[name] = _moved(second[name], left, top, found)
    return replace(found, results=results)


def _holds(lamella: dict[str, FoundFeature], x_px: float, y_px: float) -> bool:
    """Whether the point lies within the lamella's box (its side edges' midpoints give
    its axis and length, its top and bottom ones its thickness), ``_MARGIN_PX`` around."""

    def xy(name: str) -> np.ndarray:
        kp = lamella[name].keypoint
        return np.array([kp.x_px, kp.y_px])

    along, across = (
        xy("LamellaRightEdge") - xy("LamellaLeftEdge"),
        xy("LamellaBottomEdge") - xy("LamellaTopEdge"),
    )
    d = np.array([x_px, y_px]) - xy("LamellaCentre")
    for axis in (along, across):
        half = float(np.hypot(*axis)) / 2
        if half > 0 and abs(float(d @ axis)) / (2 * half) > half + _MARGIN_PX:
            return False
        if half == 0 and float(np.hypot(*d)) > _MARGIN_PX:
            return False
    return True


def _moved(feature: FoundFeature, left: int, top: int, frame: MaskFeatures) -> FoundFeature:
    kp = feature.keypoint
    return found_feature(
        kp.name, (kp.x_px + left, kp.y_px + top), kp.score, frame.image_shape, frame.pixel_size_m
    )
