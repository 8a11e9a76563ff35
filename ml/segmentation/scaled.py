"""A predictor that runs its model on a down-scaled copy of the image.

A model trained on frames reduced by ``scale`` (e.g. 1536x1024 twin views at 384x256)
predicts on the image area-averaged to that size; its class probabilities are
interpolated (bilinear) back to the full frame and the mask is their argmax, so the
caller always gets full-size results. Far faster than running at full size, and the
model sees the image at the pixel size it was trained on.

With ``input_width_px`` the model's input is that wide whatever the frame's width (its
aspect kept): a model trained on whole fields of view at one input size (the shipped
model: 1536x1024 views reduced to 384x256, every field width) then sees a 768x512 frame
as it was trained — at 384x256, not at a quarter of it (a 192x128 input put the needle
tip 19-157 px off on the manipulator calibration's frames, 1-2 px at 384x256;
benchmarks/bench_keypoint_accuracy.py).
"""

from __future__ import annotations

import cv2
import numpy as np

from ml.segmentation.predictor import Prediction, Predictor
from ml.segmentation.preprocess import to_unit_float


def shrink(unit: np.ndarray, scale: float) -> np.ndarray:
    """`unit` (H, W float) resized by `scale` (area-averaged down, linear up); itself when
    the size does not change."""
    height, width = unit.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return unit
    return cv2.resize(unit, size, interpolation=cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR)


def resize_probabilities(probabilities: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(C, h, w) class probabilities interpolated (bilinear) to `size` = (width, height)."""
    if (probabilities.shape[2], probabilities.shape[1]) == size:
        return probabilities
    channels_last = np.ascontiguousarray(probabilities.transpose(1, 2, 0))
    resized = cv2.resize(channels_last, size, interpolation=cv2.INTER_LINEAR)
    if resized.ndim == 2:  # cv2 drops a single channel axis
        resized = resized[:, :, None]
    return np.ascontiguousarray(resized.transpose(2, 0, 1))


class ScaledPredictor:
    def __init__(self, inner: Predictor, scale: float, input_width_px: int | None = None) -> None:
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        if input_width_px is not None and not (
            isinstance(input_width_px, int) and input_width_px >= 8
        ):
            raise ValueError(f"input_width_px must be an integer >= 8, got {input_width_px!r}")
        self.inner = inner
        self.scale = scale
        self.input_width_px = input_width_px
        self.backend = inner.backend
        self.num_classes = inner.num_classes

    def predict(self, image: np.ndarray) -> Prediction:
        unit = to_unit_float(image)
        height, width = unit.shape
        scale = self.scale if self.input_width_px is None else self.input_width_px / width
        small = shrink(unit, scale)
        if small is unit:
            return self.inner.predict(unit)
        full = resize_probabilities(self.inner.predict(small).probabilities, (width, height))
        return Prediction(full.argmax(axis=0), full)
