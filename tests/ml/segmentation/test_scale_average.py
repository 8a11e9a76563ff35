"""Test-time scale averaging: the model run at several input widths, averaged full-frame."""

from __future__ import annotations

import numpy as np
import pytest

from ml.segmentation.predictor import Prediction
from ml.segmentation.scale_average import ScaleAveragePredictor


class _Threshold:
    """Scale-equivariant: class 1 where the image is bright. Records the input shapes."""

    backend = "test"
    num_classes = 2

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def predict(self, image: np.ndarray) -> Prediction:
        self.shapes.append(image.shape)
        bright = (image > 0.5).astype(np.float32)
        probabilities = np.stack([1.0 - bright, bright])
        return Prediction(probabilities.argmax(axis=0), probabilities)


class _WidthDependent:
    """Sure of class 1 when shown a wide input, of class 0 when shown a narrow one."""

    backend = "test"
    num_classes = 2

    def predict(self, image: np.ndarray) -> Prediction:
        one = 0.8 if image.shape[1] >= 128 else 0.1
        probabilities = np.stack(
            [np.full(image.shape, 1.0 - one, np.float32), np.full(image.shape, one, np.float32)]
        )
        return Prediction(probabilities.argmax(axis=0), probabilities)


def test_the_model_sees_every_width_and_the_mask_is_full_size() -> None:
    image = np.zeros((256, 384), np.uint8)
    image[96:160, 120:280] = 255  # a bright block, well inside the frame
    inner = _Threshold()
    prediction = ScaleAveragePredictor(inner, [96, 128]).predict(image)
    assert sorted(inner.shapes) == [(64, 96), (85, 128)]  # each width, aspect kept
    assert prediction.mask.shape == (256, 384)
    assert prediction.probabilities.shape == (2, 256, 384)
    assert np.allclose(prediction.probabilities.sum(axis=0), 1.0, atol=1e-5)
    # the block is found where it is at both scales: only its border pixels may differ
    truth = (image > 128).astype(int)
    assert np.mean(prediction.mask != truth) < 0.02
    assert prediction.mask[110:146, 140:260].all() and not prediction.mask[:80].any()


def test_the_scales_are_averaged_not_one_of_them_kept() -> None:
    image = np.full((256, 384), 100, np.uint8)
    wide_only = ScaleAveragePredictor(_WidthDependent(), [128, 160]).predict(image)
    assert wide_only.mask.all()  # 0.8 at both widths
    both = ScaleAveragePredictor(_WidthDependent(), [96, 128]).predict(image)
    assert np.allclose(both.probabilities[1], 0.45, atol=1e-5)  # (0.1 + 0.8) / 2
    assert not both.mask.any()  # so class 0 wins, which neither order of "last" would give
    reversed_order = ScaleAveragePredictor(_WidthDependent(), [128, 96]).predict(image)
    assert np.array_equal(reversed_order.probabilities, both.probabilities)


@pytest.mark.parametrize("widths", [[], [96, 96], [0], [96, 4], [True, 96], [96.5]])
def test_bad_widths_are_refused_naming_the_field(widths: list) -> None:
    with pytest.raises(ValueError, match="input_widths_px"):
        ScaleAveragePredictor(_Threshold(), widths)


def test_colour_images_are_refused() -> None:
    with pytest.raises(ValueError, match="2-D greyscale"):
        ScaleAveragePredictor(_Threshold(), [96, 128]).predict(np.zeros((64, 96, 3)))
