"""Per-class IoU/Dice, the confusion matrix and its plot, from a model with known answers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import tifffile
from matplotlib import image as mpimg
from onnx import TensorProto, helper, numpy_helper

from ml.segmentation.evaluate import evaluate_model, main, per_class_metrics, plot_confusion_matrix
from ml.segmentation.metrics import ConfusionMatrix
from ml.segmentation.predictor import clear_model_cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_model_cache()
    yield
    clear_model_cache()


def threshold_model(path: Path) -> Path:
    """Class 1 where the unit-scaled pixel is above 0.5, else class 0 (a 1x1 convolution)."""
    weight = numpy_helper.from_array(np.array([[[[0.0]]], [[[1.0]]]], np.float32), "weight")
    bias = numpy_helper.from_array(np.array([0.0, -0.5], np.float32), "bias")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["image", "weight", "bias"], ["logits"])], "threshold",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, "h", "w"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 2, "h", "w"])],
        [weight, bias],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save_model(model, str(path))
    return path


def known_dataset(root: Path) -> Path:
    """Two 8x8 images, top half bright; labels that disagree with the threshold on purpose."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    image = np.zeros((8, 8), np.uint8)
    image[:4] = 255
    label = (image > 0).astype(np.uint8)
    label[0] = 0  # 8 pixels predicted 1, truly 0
    label[7, 7] = 1  # 1 pixel predicted 0, truly 1
    for name in ("a", "b"):
        tifffile.imwrite(root / "images" / f"{name}.tif", image)
        tifffile.imwrite(root / "labels" / f"{name}.tif", label)
    return root


def test_metrics_match_counts_by_hand(tmp_path: Path) -> None:
    model = threshold_model(tmp_path / "m.onnx")
    report = evaluate_model(model, known_dataset(tmp_path / "data"), tmp_path / "eval",
                            class_names=["background", "lamella"])  # fmt: skip
    # per image: true0/pred0 31, true0/pred1 8, true1/pred0 1, true1/pred1 24; two images
    assert report["confusion_matrix"] == [[62, 16], [2, 48]]
    background, lamella = report["classes"]
    assert lamella["iou"] == pytest.approx(24 / 33) and lamella["dice"] == pytest.approx(48 / 57)
    assert background["iou"] == pytest.approx(31 / 40)
    assert lamella["precision"] == pytest.approx(24 / 32) and lamella["recall"] == pytest.approx(
        24 / 25
    )
    assert report["mean_foreground_iou"] == pytest.approx(24 / 33)

    rows = list(csv.DictReader((tmp_path / "eval" / "metrics.csv").open()))
    assert [r["class"] for r in rows] == ["background", "lamella"]
    assert float(rows[1]["dice"]) == pytest.approx(48 / 57)
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["images"] == 2
    counts = np.loadtxt(tmp_path / "eval" / "confusion_matrix.csv", delimiter=",")
    np.testing.assert_array_equal(counts, [[62, 16], [2, 48]])
    png = mpimg.imread(tmp_path / "eval" / "confusion_matrix.png")
    assert png.ndim == 3 and png.shape[0] > 100 and png[..., :3].std() > 0.05


def test_absent_class_is_nan_not_zero_and_plot_any_size(tmp_path: Path) -> None:
    matrix = ConfusionMatrix(3)
    matrix.update(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    records = per_class_metrics(matrix, ["a", "b", "c"])
    assert np.isnan(records[2].iou) and np.isnan(records[2].dice), "absent: unknown, not 0"
    assert records[1].iou == pytest.approx(2 / 3) and records[1].recall == pytest.approx(2 / 3)
    path = plot_confusion_matrix(matrix.counts, ["a", "b", "c"], tmp_path / "sub" / "cm.png")
    assert path.is_file() and mpimg.imread(path).shape[1] > 100


def test_command_line_and_bad_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = threshold_model(tmp_path / "m.onnx")
    data = known_dataset(tmp_path / "data")
    argv = ["--model", str(model), "--dataset", str(data), "--output", str(tmp_path / "out")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "class_1" in out and "mean foreground IoU 0.7273" in out
    tifffile.imwrite(data / "labels" / "b.tif", np.full((8, 8), 4, np.uint8))
    with pytest.raises(
        ValueError, match=r"b\.tif: labels 4\.\.4 outside the model's classes 0\.\.1"
    ):
        main(argv)
