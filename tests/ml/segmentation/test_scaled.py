"""ScaledPredictor: full-size results from a model run on a reduced image; small decoders."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ml.segmentation.checkpoint import load_checkpoint
from ml.segmentation.config import ConfigError, parse_config
from ml.segmentation.models import ModelSpec, build_model
from ml.segmentation.predictor import clear_model_cache, load_model
from ml.segmentation.scaled import ScaledPredictor
from tests.ml.segmentation.conftest import HEIGHT, NUM_CLASSES, WIDTH, base_config, synthetic_pair


def test_full_size_results_from_the_reduced_image(trained_checkpoint: Path) -> None:
    clear_model_cache()
    inner = load_model(trained_checkpoint)
    image, _ = synthetic_pair(np.random.default_rng(5))
    big = cv2.resize(image, (WIDTH * 2, HEIGHT * 2), interpolation=cv2.INTER_NEAREST)
    prediction = ScaledPredictor(inner, 0.5).predict(big)
    assert prediction.mask.shape == (HEIGHT * 2, WIDTH * 2)
    assert prediction.probabilities.shape == (NUM_CLASSES, HEIGHT * 2, WIDTH * 2)
    assert np.allclose(prediction.probabilities.sum(axis=0), 1.0, atol=1e-4)
    assert (prediction.probabilities.argmax(axis=0) == prediction.mask).all()
    # the same answer as the model on the small image, scaled up
    direct = inner.predict(image).mask
    expected = cv2.resize(direct.astype(np.uint8), (WIDTH * 2, HEIGHT * 2),
                          interpolation=cv2.INTER_NEAREST)  # fmt: skip
    assert (prediction.mask == expected).mean() > 0.97


def test_scale_is_checked(trained_checkpoint: Path) -> None:
    with pytest.raises(ValueError, match="scale must be in"):
        ScaledPredictor(load_model(trained_checkpoint), 0.0)


def test_small_decoder_is_built_and_survives_a_checkpoint(tmp_path: Path) -> None:
    from ml.segmentation.checkpoint import Checkpoint, save_checkpoint

    spec = ModelSpec(encoder="tu-mobilenetv3_small_050", num_classes=3,
                     decoder_channels=(32, 16, 16, 8, 8))  # fmt: skip
    model = build_model(spec)
    assert model.segmentation_head[0].in_channels == 8
    path = tmp_path / "c.pt"
    save_checkpoint(Checkpoint(spec, model.state_dict(), (64, 96)), path)
    assert load_checkpoint(path).spec == spec


def test_a_bad_decoder_is_named(tmp_path: Path) -> None:
    images, labels = tmp_path / "i", tmp_path / "l"
    with pytest.raises(ConfigError, match=r"decoder_channels \[16, 8\]"):
        parse_config(base_config(images, labels, tmp_path / "run", decoder_channels=[16, 8]))


class _ShapeRecorder:
    """A predictor that records the shape it is given and sees class 1 on the left half."""

    backend = "test"
    num_classes = 2

    def __init__(self) -> None:
        self.shapes: list[tuple[int, int]] = []

    def predict(self, image: np.ndarray):
        from ml.segmentation.predictor import Prediction

        self.shapes.append(image.shape)
        probs = np.zeros((2, *image.shape), np.float32)
        probs[1, :, : image.shape[1] // 2] = 1.0
        probs[0, :, image.shape[1] // 2 :] = 1.0
        return Prediction(probs.argmax(axis=0), probs)


def test_an_input_width_gives_every_frame_width_one_model_input() -> None:
    inner = _ShapeRecorder()
    scaled = ScaledPredictor(inner, 0.25, input_width_px=384)
    for width, height in ((1536, 1024), (768, 512), (3072, 2048), (192, 128)):
        prediction = scaled.predict(np.zeros((height, width), np.uint8))
        assert prediction.mask.shape == (height, width)
        assert prediction.mask[:, : width // 2 - 2].min() == 1  # mapped back to the frame
        assert prediction.mask[:, width // 2 + 2 :].max() == 0
    assert inner.shapes == [(256, 384)] * 4
    # without it, the fixed scale: a 768-px frame is seen at 192 px
    ScaledPredictor(inner, 0.25).predict(np.zeros((512, 768), np.uint8))
    assert inner.shapes[-1] == (128, 192)
    with pytest.raises(ValueError, match="input_width_px"):
        ScaledPredictor(inner, 0.25, input_width_px=0)


def test_the_shipped_model_sees_frames_at_its_training_input_size() -> None:
    from ml.segmentation.shipped import averaging_setup, load_shipped_model, shipped_info

    model = load_shipped_model()
    _height, width = shipped_info()["input_size_px"]
    assert width in averaging_setup(model)["input_widths_px"]  # not a fixed fraction of 768
    small = model.predict(np.full((512, 768), 100, np.uint8))
    assert small.mask.shape == (512, 768)
