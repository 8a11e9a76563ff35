"""A predictor that runs its model on a down-scaled copy of the image.

A model trained on frames reduced by ``scale`` (e.g. 1536x1024 twin views at 384x256)
predicts on the image area-averaged to that size; its class probabilities are
interpolated (bilinear) back to the full frame and the mask is their argmax, so the
caller always gets full-size results. Far faster than running at full size, and the
model sees the image at the pixel size it was trained on.
"""

from __future__ import annotations

import cv2
import numpy as np

from ml.segmentation.predictor import Prediction, Predictor
from ml.segmentation.preprocess import to_unit_float


class ScaledPredictor:
    def __init__(self, inner: Predictor, scale: float) -> None:
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        self.inner = inner
        self.scale = scale
        self.backend = inner.backend
        self.num_classes = inner.num_classes

    def predict(self, image: np.ndarray) -> Prediction:
        unit = to_unit_float(image)
        height, width = unit.shape
        small_size = (max(1, round(width * self.scale)), max(1, round(height * self.scale)))
        if self.scale == 1.0:
            return self.inner.predict(unit)
        small = cv2.resize(unit, small_size, interpolation=cv2.INTER_AREA)
        probabilities = self.inner.predict(small).probabilities  # (C, h, w)
        channels_last = np.ascontiguousarray(probabilities.transpose(1, 2, 0))
        full = cv2.resize(channels_last, (width, height), interpolation=cv2.INTER_LINEAR)
        if full.ndim == 2:  # cv2 drops a single channel axis
            full = full[:, :, None]
        mask = full.argmax(axis=2)
        return Prediction(mask, np.ascontiguousarray(full.transpose(2, 0, 1)))
