"""ONNX export: dynamic height/width, agreement with torch, and the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from ml.segmentation.checkpoint import load_checkpoint
from ml.segmentation.export import ExportMismatch, export_onnx, main

pytestmark = pytest.mark.slow  # tens of seconds: started first (tests/conftest.py)


def test_export_agrees_with_torch_at_any_size(trained_checkpoint: Path, tmp_path: Path) -> None:
    output = tmp_path / "m.onnx"
    agreement = export_onnx(trained_checkpoint, output)
    assert agreement >= 0.999
    dims = onnx.load(str(output)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims[2:]] == ["height", "width"]

    model = load_checkpoint(trained_checkpoint).build()
    session = onnxruntime.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    image = np.random.default_rng(1).random((1, 1, 160, 96), dtype=np.float32)
    with torch.inference_mode():
        expected = model(torch.from_numpy(image)).numpy()
    got = session.run(None, {"image": image})[0]
    assert got.shape == expected.shape
    assert (got.argmax(1) == expected.argmax(1)).mean() >= 0.999


def test_export_refuses_when_agreement_too_low(trained_checkpoint: Path, tmp_path: Path) -> None:
    output = tmp_path / "m.onnx"
    with pytest.raises(ExportMismatch):
        export_onnx(trained_checkpoint, output, min_agreement=1.01)
    assert not output.exists(), "a model that failed its check is not left behind"


def test_export_command_line(
    trained_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out" / "m.onnx"
    assert main(["--checkpoint", str(trained_checkpoint), "--output", str(output)]) == 0
    assert output.is_file() and "agreement" in capsys.readouterr().out
