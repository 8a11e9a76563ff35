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
        small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if small_size == (width, height):
            return self.inner.predict(unit)
        shrink = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
        small = cv2.resize(unit, small_size, interpolation=shrink)
        probabilities = self.inner.predict(small).probabilities  # (C, h, w)
        channels_last = np.ascontiguousarray(probabilities.transpose(1, 2, 0))
        full = cv2.resize(channels_last, (width, height), interpolation=cv2.INTER_LINEAR)
        if full.ndim == 2:  # cv2 drops a single channel axis
            full = full[:, :, None]
        mask = full.argmax(axis=2)
        return Prediction(mask, np.ascontiguousarray(full.transpose(2, 0, 1)))
