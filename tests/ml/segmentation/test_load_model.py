"""load_model: backend from content (not name), one predictor interface, once per session."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ml.segmentation.checkpoint import CheckpointError, load_checkpoint
from ml.segmentation.export import export_onnx
from ml.segmentation.predictor import clear_model_cache, detect_backend, load_model
from tests.ml.segmentation.conftest import HEIGHT, NUM_CLASSES, WIDTH, synthetic_pair


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_model_cache()
    yield
    clear_model_cache()


@pytest.fixture(scope="module")
def onnx_file(trained_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_onnx(trained_checkpoint, path)
    return path


def test_predictor_gives_mask_and_probabilities(trained_checkpoint: Path) -> None:
    predictor = load_model(trained_checkpoint)
    assert predictor.backend == "smp" and predictor.num_classes == NUM_CLASSES
    image, _ = synthetic_pair(np.random.default_rng(5))
    odd = image[:50, :70]  # not a multiple of 32: padded inside, cropped back
    prediction = predictor.predict(odd)
    assert prediction.mask.shape == (50, 70)
    assert prediction.probabilities.shape == (NUM_CLASSES, 50, 70)
    np.testing.assert_allclose(prediction.probabilities.sum(axis=0), 1.0, atol=1e-5)
    np.testing.assert_array_equal(prediction.mask, prediction.probabilities.argmax(axis=0))


def test_backend_read_from_content_not_name(
    trained_checkpoint: Path, onnx_file: Path, tmp_path: Path
) -> None:
    torch_named_onnx = shutil.copy(trained_checkpoint, tmp_path / "model.onnx")
    onnx_named_torch = shutil.copy(onnx_file, tmp_path / "smp_checkpoint.pt")
    assert detect_backend(torch_named_onnx) == "smp"
    assert detect_backend(onnx_named_torch) == "onnx"
    image, _ = synthetic_pair(np.random.default_rng(6))
    by_torch = load_model(torch_named_onnx).predict(image)
    by_onnx = load_model(onnx_named_torch).predict(image)
    assert load_model(onnx_named_torch).backend == "onnx"
    assert (by_torch.mask == by_onnx.mask).mean() >= 0.999
    np.testing.assert_allclose(by_torch.probabilities, by_onnx.probabilities, atol=1e-3)


def test_model_loaded_once_and_reloaded_when_rewritten(
    trained_checkpoint: Path, tmp_path: Path
) -> None:
    path = shutil.copy(trained_checkpoint, tmp_path / "m.pt")
    first = load_model(path)
    assert load_model(path) is first
    assert load_model(str(path), backend="smp") is first
    payload = torch.load(path, weights_only=True)
    torch.save(payload, path)
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert load_model(path) is not first


def test_corrupt_checkpoint_is_a_clear_error(trained_checkpoint: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(trained_checkpoint.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="not a readable segmentation checkpoint"):
        load_model(truncated)


class _Sneaky:
    def __reduce__(self):  # what a malicious checkpoint would do on unpickling
        return (os.system, ("echo pwned",))


def test_checkpoint_with_pickled_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format": "fibsem-ophyd-segmentation", "x": _Sneaky()}, path, pickle_protocol=2)
    with pytest.raises(CheckpointError, match="pickled code") as refused:
        load_checkpoint(path)
    assert isinstance(refused.value.__cause__, pickle.UnpicklingError)
    legacy = tmp_path / "legacy.pkl"
    legacy.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    assert detect_backend(legacy) == "smp"
    with pytest.raises(CheckpointError):
        load_model(legacy)


def test_unknown_file_and_backends(tmp_path: Path) -> None:
    junk = tmp_path / "model.pt"
    junk.write_bytes(b"hello, not a model at all" * 10)
    with pytest.raises(ValueError, match="nor an ONNX model"):
        load_model(junk)
    with pytest.raises(ValueError, match="unknown backend"):
        load_model(junk, backend="tensorflow")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="is a folder, not a model file"):
        load_model(tmp_path, backend="nnunet")
    (tmp_path / "plans.json").write_text("{}")
    with pytest.raises(ValueError, match="nnU-Net training folder; export it first"):
        load_model(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.pt")


def test_tiny_model_learned_the_shapes(trained_checkpoint: Path) -> None:
    """Not an accuracy target: a check that training + loading produce a working model."""
    predictor = load_model(trained_checkpoint)
    rng = np.random.default_rng(99)  # images the model never saw
    accuracies = []
    for _ in range(4):
        image, mask = synthetic_pair(rng)
        assert image.shape == (HEIGHT, WIDTH)
        accuracies.append((predictor.predict(image).mask == mask).mean())
    assert np.mean(accuracies) > 0.8
