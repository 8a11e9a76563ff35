"""A second look: the model again on a window of the frame ``zoom`` times smaller than it,
around a point, so that what is there is ``zoom`` times larger to the model (the
predictor reduces every image to the same input width). Used at the needle tip
(needle_zoom.py) and at a short lamella (lamella_zoom.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ml.segmentation.predictor import Prediction, Predictor

_MIN_WINDOW_PX = 32


def checked_zoom(name: str, zoom: object) -> float:
    """``zoom`` as a float, or ValueError naming ``name`` unless it is a number >= 1."""
    if (
        isinstance(zoom, bool)
        or not isinstance(zoom, int | float)
        or not (np.isfinite(zoom) and zoom >= 1)
    ):
        raise ValueError(f"{name} must be >= 1 (1: no second look), got {zoom!r}")
    return float(zoom)


def window_around(
    shape: tuple[int, int], point: tuple[float, float], zoom: float
) -> tuple[int, int, int, int]:
    """``(left, top, width, height)`` of the window ``zoom`` times smaller than an image of
    ``shape`` (rows, cols), centred on ``point`` (col, row) and moved inside the image."""
    h, w = shape
    ww = max(min(w, _MIN_WINDOW_PX), round(w / zoom))
    wh = max(min(h, _MIN_WINDOW_PX), round(h / zoom))
    left = round(min(max(point[0] - ww / 2, 0), w - ww))
    top = round(min(max(point[1] - wh / 2, 0), h - wh))
    return left, top, ww, wh


def predict_around(
    predictor: Predictor, image: np.ndarray, point: tuple[float, float], zoom: float
) -> tuple[Prediction, np.ndarray, int, int]:
    """The model's prediction of the window ``zoom`` times smaller than ``image`` around
    ``point`` (col, row); the window itself, and its ``left``, ``top`` in the image."""
    left, top, ww, wh = window_around(image.shape[:2], point, zoom)
    window = np.ascontiguousarray(image[top : top + wh, left : left + ww])
    return predictor.predict(window), window, left, top
