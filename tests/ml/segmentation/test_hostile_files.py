"""Hostile and broken model files (issue 13): refused before anything runs, errors name the file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from ml.segmentation.checkpoint import CheckpointError, load_checkpoint
from ml.segmentation.onnx_safety import UnsafeModelError
from ml.segmentation.predictor import clear_model_cache, load_model


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_model_cache()
    yield
    clear_model_cache()


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # unpickling this would run a shell command
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [2, 4])
def test_pickle_payload_is_refused_before_it_runs(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "code-ran"
    evil = tmp_path / "best.pt"
    payload = {"format": "fibsem-ophyd-segmentation", "state_dict": {}, "x": _Payload(marker)}
    torch.save(payload, evil, pickle_protocol=protocol)
    with pytest.raises(CheckpointError, match=r"best\.pt: .*pickled code"):
        load_model(evil)
    with pytest.raises(CheckpointError):
        load_checkpoint(evil)
    assert not marker.exists(), "the payload must not have run"
    # the payload is real: unpickling it without weights_only does run it
    torch.load(evil, weights_only=False)
    assert marker.exists()


def tiny_onnx(folder: Path, external: bool) -> Path:
    """A 1x1 convolution (1 -> 2 classes); its weights in weights.bin when ``external``."""
    weight = numpy_helper.from_array(np.array([[[[1.0]]], [[[-1.0]]]], np.float32), "weight")
    node = helper.make_node("Conv", ["image", "weight"], ["logits"])
    graph = helper.make_graph(
        [node], "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, "h", "w"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 2, "h", "w"])],
        [weight],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = folder / "model.onnx"
    onnx.save_model(model, str(path), save_as_external_data=external,
                    location="weights.bin", size_threshold=0)  # fmt: skip
    return path


def point_external_data(path: Path, location: str) -> None:
    model = onnx.load_model(str(path), load_external_data=False)
    for entry in model.graph.initializer[0].external_data:
        if entry.key == "location":
            entry.value = location
    onnx.save_model(model, str(path))


def test_onnx_with_external_data_inside_its_folder_loads(tmp_path: Path) -> None:
    path = tiny_onnx(tmp_path, external=True)
    assert (tmp_path / "weights.bin").is_file()
    prediction = load_model(path).predict(np.full((8, 8), 200, np.uint8))
    assert prediction.mask.shape == (8, 8) and (prediction.mask == 0).all()


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("../../etc/passwd", "climbs out"),
        ("/etc/passwd", "an absolute path"),
        ("sub/../../outside.bin", "climbs out"),
    ],
)
def test_onnx_external_data_outside_its_folder_is_refused(
    tmp_path: Path, location: str, reason: str
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    path = tiny_onnx(folder, external=True)
    point_external_data(path, location)
    for backend in (None, "onnx"):
        with pytest.raises(UnsafeModelError, match=rf"model\.onnx: tensor 'weight' .*{reason}"):
            load_model(path, backend=backend)


def test_onnx_external_data_through_a_symlink_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    path = tiny_onnx(folder, external=True)
    secret = tmp_path / "secret.bin"
    (folder / "weights.bin").rename(secret)
    (folder / "weights.bin").symlink_to(secret)
    with pytest.raises(UnsafeModelError, match="outside the model's folder"):
        load_model(path)


def test_onnx_constant_node_with_external_data_is_checked_too(tmp_path: Path) -> None:
    path = tiny_onnx(tmp_path, external=False)
    model = onnx.load_model(str(path))
    value = numpy_helper.from_array(np.zeros(1, np.float32), "c")
    value.ClearField("raw_data")
    value.data_location = TensorProto.EXTERNAL
    value.external_data.add(key="location", value="/etc/passwd")
    model.graph.node.insert(0, helper.make_node("Constant", [], ["unused"], value=value))
    onnx.save_model(model, str(path))
    with pytest.raises(UnsafeModelError, match=r"tensor 'c' .*absolute path"):
        load_model(path, backend="onnx")


def test_truncated_onnx_and_checkpoint_name_the_file(tmp_path: Path) -> None:
    path = tiny_onnx(tmp_path, external=False)
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match=r"truncated\.onnx: .*corrupt or truncated"):
        load_model(truncated)
    with pytest.raises(ValueError, match=r"truncated\.onnx: not a readable ONNX model"):
        load_model(truncated, backend="onnx")
    checkpoint = tmp_path / "cut.pt"
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, checkpoint)
    checkpoint.write_bytes(checkpoint.read_bytes()[:700])
    with pytest.raises(CheckpointError, match=r"cut\.pt: not a readable segmentation checkpoint"):
        load_model(checkpoint)
