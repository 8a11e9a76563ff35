"""Safetensors checkpoints: config in the metadata, detected by content, same predictions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ml.segmentation.checkpoint import CheckpointError, load_checkpoint, main, save_checkpoint
from ml.segmentation.predictor import clear_model_cache, detect_backend, load_model
from tests.ml.segmentation.conftest import synthetic_pair


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_model_cache()
    yield
    clear_model_cache()


def test_round_trip_carries_config_and_weights(trained_checkpoint: Path, tmp_path: Path) -> None:
    original = load_checkpoint(trained_checkpoint)
    path = tmp_path / "best.safetensors"
    save_checkpoint(original, path)
    # the config is readable text in the header, no pickle anywhere
    header_length = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8 : 8 + header_length])
    assert json.loads(header["__metadata__"]["spec"])["encoder"] == original.spec.encoder
    loaded = load_checkpoint(path)
    assert loaded.spec == original.spec
    assert loaded.input_size == original.input_size and loaded.epoch == original.epoch
    assert loaded.config == original.config and loaded.best_metric == original.best_metric
    assert loaded.metrics == pytest.approx(original.metrics, nan_ok=True)
    assert loaded.optimizer is None, "optimizer state stays in the .pt (resume from that)"
    assert loaded.state_dict.keys() == original.state_dict.keys()
    for key, tensor in original.state_dict.items():
        assert torch.equal(loaded.state_dict[key], tensor), key


def test_load_model_detects_safetensors_by_content(
    trained_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    converted = tmp_path / "m.safetensors"
    assert main([str(trained_checkpoint), str(converted)]) == 0
    assert "epoch" in capsys.readouterr().out
    misnamed = shutil.copy(converted, tmp_path / "model.onnx")
    assert detect_backend(misnamed) == "smp"
    image, _ = synthetic_pair(np.random.default_rng(8))
    by_pt = load_model(trained_checkpoint).predict(image)
    by_safetensors = load_model(misnamed).predict(image)
    np.testing.assert_allclose(by_safetensors.probabilities, by_pt.probabilities, atol=1e-6)


def test_safetensors_of_another_kind_or_damaged_is_refused(
    trained_checkpoint: Path, tmp_path: Path
) -> None:
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign), metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="not a fibsem-ophyd-segmentation checkpoint"):
        load_model(foreign)
    good = tmp_path / "good.safetensors"
    save_checkpoint(load_checkpoint(trained_checkpoint), good)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"truncated\.safetensors: not a readable"):
        load_model(truncated)
