"""A trainable checkpoint from an exported ONNX file (BatchNorm folded away by the export),
and fine-tuning it with the BatchNorms frozen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ml.segmentation.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ml.segmentation.config import parse_config
from ml.segmentation.export import export_onnx
from ml.segmentation.onnx_import import checkpoint_from_onnx
from ml.segmentation.train import train

from .conftest import base_config

pytestmark = pytest.mark.slow  # an export and two short trainings


@pytest.fixture(scope="module")
def exported(trained_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "m.onnx"
    export_onnx(trained_checkpoint, path)
    return path


def _batchnorms(model: nn.Module) -> list[nn.BatchNorm2d]:
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


def test_the_rebuilt_model_computes_what_the_original_did(
    trained_checkpoint: Path, exported: Path
) -> None:
    original = load_checkpoint(trained_checkpoint)
    rebuilt = checkpoint_from_onnx(exported, original.spec, original.input_size)
    image = torch.from_numpy(np.random.default_rng(3).random((2, 1, 96, 128), dtype=np.float32))
    with torch.inference_mode():
        expected = original.build()(image)
        got = rebuilt.build()(image)
    assert torch.allclose(got, expected, atol=1e-4)
    # the weights are not the original ones: the BatchNorms were folded into the convs
    norms = _batchnorms(rebuilt.build())
    assert norms and all(torch.count_nonzero(n.running_mean) == 0 for n in norms)
    assert rebuilt.epoch == 0 and rebuilt.optimizer is None


def test_another_architecture_is_refused_by_name(trained_checkpoint: Path, exported: Path) -> None:
    original = load_checkpoint(trained_checkpoint)
    wider = original.spec.model_copy(update={"decoder_channels": (128, 64, 32, 16, 8)})
    with pytest.raises(CheckpointError, match=r"convolution \d+ has weight"):
        checkpoint_from_onnx(exported, wider, original.input_size)
    other = original.spec.model_copy(update={"encoder": "tu-resnet10t"})
    with pytest.raises(CheckpointError, match="tu-resnet10t"):
        checkpoint_from_onnx(exported, other, original.input_size)


def test_a_damaged_file_is_a_checkpoint_error(trained_checkpoint: Path, tmp_path: Path) -> None:
    spec = load_checkpoint(trained_checkpoint).spec
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07not an onnx model" * 10)
    with pytest.raises(CheckpointError, match="not a readable ONNX model"):
        checkpoint_from_onnx(bad, spec, (64, 96))
    with pytest.raises(CheckpointError, match="multiples of 32"):
        checkpoint_from_onnx(bad, spec, (60, 96))


@pytest.mark.parametrize("freeze", [True, False])
def test_fine_tuning_keeps_the_folded_statistics_only_when_frozen(
    trained_checkpoint: Path, exported: Path, dataset_dirs, tmp_path: Path, freeze: bool
) -> None:
    original = load_checkpoint(trained_checkpoint)
    start = tmp_path / "start.pt"
    save_checkpoint(checkpoint_from_onnx(exported, original.spec, original.input_size), start)
    images, labels = dataset_dirs
    config = base_config(
        images, labels, tmp_path / "run", checkpoint=str(start), lr=1e-3,
        freeze_batchnorm=freeze,
    )  # fmt: skip
    result = train(parse_config(config), progress=False)
    tuned = load_checkpoint(result.last_path).build()
    means = [float(n.running_mean.abs().max()) for n in _batchnorms(tuned)]
    if freeze:
        assert max(means) == 0.0, "frozen BatchNorms keep the folded (identity) statistics"
    else:
        assert max(means) > 0.0, "unfrozen, batch statistics overwrite the folded ones"
    before = load_checkpoint(start).state_dict
    after = load_checkpoint(result.last_path).state_dict
    assert any(not torch.equal(before[k], v) for k, v in after.items()), "the weights trained"


def test_command_line_rebuilds_a_cards_model(
    trained_checkpoint: Path, exported: Path, tmp_path: Path
) -> None:
    import yaml

    from ml.segmentation.onnx_import import main

    spec = load_checkpoint(trained_checkpoint).spec
    card = tmp_path / "card"
    card.mkdir()
    (card / "m.onnx").write_bytes(exported.read_bytes())
    architecture = {
        "model_type": spec.model_type,
        "encoder": spec.encoder,
        "decoder_channels": spec.decoder_channels,
        "encoder_weights": None,
        "in_channels": 1,
    }
    info = {
        "file": "m.onnx",
        "input_scale": 1.0,
        "input_size_px": [64, 96],
        "classes": [f"c{i}" for i in range(spec.num_classes)],
        "architecture": architecture,
    }
    (card / "model.yaml").write_text(yaml.safe_dump(info))
    output = tmp_path / "start.safetensors"
    assert main(["--model-dir", str(card), "--output", str(output)]) == 0
    rebuilt = load_checkpoint(output)
    assert rebuilt.spec == spec and rebuilt.input_size == (64, 96)
    image = torch.from_numpy(np.random.default_rng(5).random((1, 1, 64, 96), dtype=np.float32))
    with torch.inference_mode():
        expected = load_checkpoint(trained_checkpoint).build()(image)
        assert torch.allclose(rebuilt.build()(image), expected, atol=1e-4)
