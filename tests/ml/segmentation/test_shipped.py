"""The shipped model: in the package, loaded through load_model, full-size masks, its card."""

from __future__ import annotations

import numpy as np
import pytest

from ml.classes import class_table
from ml.segmentation.config import load_config
from ml.segmentation.flip_average import FlipAveragePredictor
from ml.segmentation.predictor import detect_backend
from ml.segmentation.scaled import ScaledPredictor
from ml.segmentation.shipped import (
    SHIPPED_DIR,
    averaging_setup,
    load_shipped_model,
    shipped_info,
    shipped_metrics,
    shipped_model_path,
)


def test_card_says_how_it_was_made_and_what_it_reaches() -> None:
    info = shipped_info()
    assert info["classes"] == list(class_table().names)
    for key in ("dataset_command", "train_command", "export_command", "train_config"):
        assert info[key], key
    metrics = shipped_metrics()
    assert set(metrics["iou"]) == set(class_table().names)
    assert 0.0 < metrics["mean_foreground_iou"] <= 1.0
    assert shipped_model_path().stat().st_size < 8 * 2**20  # a few MB


def test_loads_from_the_package_and_predicts_full_size_masks() -> None:
    assert detect_backend(shipped_model_path()) == shipped_info()["backend"]
    model = load_shipped_model()
    assert load_shipped_model().inner.inner is model.inner.inner  # loaded once per session
    image = np.full((256, 384), 90, np.uint8)
    image[100:140, 120:260] = 220  # a bright strip on a flat field
    prediction = model.predict(image)
    assert prediction.mask.shape == (256, 384)
    assert prediction.probabilities.shape == (len(class_table().names), 256, 384)
    assert np.allclose(prediction.probabilities.sum(axis=0), 1.0, atol=1e-4)


def test_its_training_configs_are_valid_and_build_the_shipped_architecture() -> None:
    architecture = shipped_info()["architecture"]
    names = sorted(path.name for path in SHIPPED_DIR.glob("train_config*.yaml"))
    assert "train_config.yaml" in names
    for command in shipped_info()["train_command"]:  # every command names a shipped config
        assert command.split("--config ")[1].split()[0].split("/")[-1] in names, command
    for name in names:
        spec = load_config(SHIPPED_DIR / name).model_spec()
        assert spec.encoder == architecture["encoder"], name
        assert list(spec.decoder_channels or []) == architecture["decoder_channels"], name


def test_it_averages_the_flips_its_card_names_and_can_run_once() -> None:
    flips = tuple(shipped_info()["test_time_flips"])
    assert shipped_metrics()["test_time_flips"] == list(flips)  # measured as it runs
    model = load_shipped_model()
    assert isinstance(model.inner, FlipAveragePredictor) and model.inner.flips == flips
    once = load_shipped_model(flips=("none",))
    assert not isinstance(once.inner, FlipAveragePredictor)
    assert once.inner is model.inner.inner  # the same loaded model underneath
    rng = np.random.default_rng(4)
    image = rng.integers(60, 120, (256, 384), dtype=np.uint8)
    image[:, 150:170] = 230  # a bright vertical bar, its own mirror image
    averaged, single = model.predict(image), once.predict(image)
    assert averaged.mask.shape == single.mask.shape == (256, 384)
    # the mean of the views differs from one pass (noise is not mirror-symmetric) ...
    assert not np.allclose(averaged.probabilities, single.probabilities)
    # ... but it is a mean of probability maps: still a distribution per pixel
    assert np.allclose(averaged.probabilities.sum(axis=0), 1.0, atol=1e-4)


def test_it_averages_the_input_widths_its_card_names_and_can_run_at_one() -> None:
    info = shipped_info()
    training_width = int(info["input_size_px"][1])
    widths = list(info.get("test_time_input_widths_px") or [training_width])
    assert shipped_metrics()["test_time_input_widths_px"] == widths  # measured as it runs
    model = load_shipped_model()
    assert averaging_setup(model)["input_widths_px"] == widths
    one = load_shipped_model(input_widths_px=[training_width])
    assert isinstance(one, ScaledPredictor) and one.input_width_px == training_width
    assert one.inner.inner is model.inner.inner  # the same loaded model underneath
    assert averaging_setup(one)["flips"] == averaging_setup(model)["flips"]
    rng = np.random.default_rng(5)
    image = rng.integers(60, 120, (512, 768), dtype=np.uint8)
    image[200:260, 100:600] = 220
    averaged, single = model.predict(image), one.predict(image)
    assert averaged.mask.shape == single.mask.shape == (512, 768)
    assert np.allclose(averaged.probabilities.sum(axis=0), 1.0, atol=1e-4)
    if len(widths) > 1:  # the mean of the scales is not the training width's answer
        assert not np.allclose(averaged.probabilities, single.probabilities)
    with pytest.raises(ValueError, match="input_widths_px"):
        load_shipped_model(input_widths_px=[])
