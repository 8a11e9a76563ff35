"""Test-time scale averaging: the model sees the frame reduced to several input widths,
and the class probabilities of every scale (brought to one grid) are averaged before the
argmax.

A model trained with rotation and blur augmentation tolerates a few percent of scale; seen
a little larger, thin objects (a polished lamella, the volume block's faint edge under the
adaptor) cover more input pixels, while at the training width the scene's layout is the
one it learnt. The two guesses err in different places, so their mean is better than
either. The shipped model's card names the widths it was measured with
(``test_time_input_widths_px``), chosen on a validation set of other seeds than the
held-out ones (benchmarks/bench_segmentation_accuracy.py prints the figures).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ml.segmentation.predictor import Prediction, Predictor
from ml.segmentation.preprocess import to_unit_float
from ml.segmentation.scaled import resize_probabilities, shrink


class ScaleAveragePredictor:
    """Full-frame predictions averaged over the model run at `input_widths_px` (the frame
    reduced to each width, its aspect kept). The probabilities of every width are brought
    to the widest input's grid and averaged there; the mean alone is interpolated to the
    full frame (one full-size resize and argmax, not one per width)."""

    def __init__(self, inner: Predictor, input_widths_px: Sequence[int]) -> None:
        widths = list(input_widths_px)
        if (
            not widths
            or len(set(widths)) != len(widths)
            or any(not isinstance(w, int) or isinstance(w, bool) or w < 8 for w in widths)
        ):
            raise ValueError(
                f"input_widths_px must be distinct integers >= 8, got {list(input_widths_px)!r}"
            )
        self.inner = inner
        self.input_widths_px = tuple(widths)
        self.backend = inner.backend
        self.num_classes = inner.num_classes

    def predict(self, image: np.ndarray) -> Prediction:
        if image.ndim != 2:
            raise ValueError(f"expected a 2-D greyscale image, got shape {image.shape}")
        unit = to_unit_float(image)
        height, width = unit.shape
        # widest first: its grid is the one the others are brought to
        order = sorted(self.input_widths_px, reverse=True)
        total: np.ndarray | None = None
        grid: tuple[int, int] = (width, height)
        for input_width in order:
            probabilities = self.inner.predict(shrink(unit, input_width / width)).probabilities
            if total is None:
                grid = (probabilities.shape[2], probabilities.shape[1])
                total = probabilities.astype(np.float32, copy=True)
            else:
                total += resize_probabilities(probabilities, grid)
        assert total is not None  # never empty
        mean = resize_probabilities(total / len(order), (width, height)).astype(np.float32)
        return Prediction(mean.argmax(axis=0), np.ascontiguousarray(mean))
