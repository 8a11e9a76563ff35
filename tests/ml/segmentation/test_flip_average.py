"""Test-time flip averaging: each view mirrored back onto the frame, then averaged."""

from __future__ import annotations

import numpy as np
import pytest

from ml.segmentation.flip_average import FLIPS, FlipAveragePredictor
from ml.segmentation.predictor import Prediction


class _Threshold:
    """Flip-equivariant: class 1 where the image is bright. Records what it was shown."""

    backend = "test"
    num_classes = 2

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def predict(self, image: np.ndarray) -> Prediction:
        self.seen.append(image.copy())
        bright = (image > 128).astype(np.float32)
        probabilities = np.stack([1.0 - bright, bright])
        return Prediction(probabilities.argmax(axis=0), probabilities)


class _LeansRight:
    """Not equivariant: the more to the right (of what it is shown), the more class 1."""

    backend = "test"
    num_classes = 2

    def predict(self, image: np.ndarray) -> Prediction:
        height, width = image.shape
        right = np.broadcast_to(np.arange(width, dtype=np.float32) / (width - 1), (height, width))
        probabilities = np.stack([1.0 - right, right])
        return Prediction(probabilities.argmax(axis=0), probabilities)


def _asymmetric_image() -> np.ndarray:
    image = np.zeros((24, 40), np.uint8)
    image[3:9, 5:30] = 255  # a bar near the top-left, nothing like it mirrored
    image[15:22, 33:36] = 200
    return image


def test_every_view_is_mirrored_back_onto_the_frame() -> None:
    image = _asymmetric_image()
    inner = _Threshold()
    prediction = FlipAveragePredictor(inner).predict(image)
    assert np.array_equal(prediction.mask, (image > 128).astype(int))  # not a mirrored mask
    assert np.allclose(prediction.probabilities.sum(axis=0), 1.0)
    # the model saw four different views: the image and its three mirror images
    assert [view.tobytes() for view in inner.seen] == [
        image.tobytes(),
        image[:, ::-1].tobytes(),
        image[::-1, :].tobytes(),
        image[::-1, ::-1].tobytes(),
    ]


def test_the_views_are_averaged() -> None:
    image = _asymmetric_image()
    once = FlipAveragePredictor(_LeansRight(), ("none",)).predict(image)
    assert once.probabilities[1, 0, 0] == 0.0 and once.probabilities[1, 0, -1] == 1.0
    both = FlipAveragePredictor(_LeansRight(), ("none", "horizontal")).predict(image)
    # a left-right bias cancels: the mean of x and its mirror is the same everywhere
    assert np.allclose(both.probabilities[1], 0.5)
    assert both.probabilities.dtype == np.float32


@pytest.mark.parametrize("flips", [(), ("none", "none"), ("none", "diagonal")])
def test_bad_flips_are_named(flips: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="flips must be distinct names from") as error:
        FlipAveragePredictor(_Threshold(), flips)
    assert all(name in str(error.value) for name in FLIPS)


def test_a_colour_image_is_refused() -> None:
    with pytest.raises(ValueError, match="2-D greyscale"):
        FlipAveragePredictor(_Threshold()).predict(np.zeros((8, 8, 3), np.uint8))
