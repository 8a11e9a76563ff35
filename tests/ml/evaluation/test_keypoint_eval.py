"""Keypoint evaluation on a small dataset written here: masks drawn with numpy, their
features as ground truth, predictors whose answer is known (the true mask shifted by a
known number of pixels) — so every distance and accuracy is known in advance."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from ml.classes import LAMELLA, MANIPULATOR
from ml.detection.mask_features import features_from_mask
from ml.evaluation.keypoint_config import EvalConfigError, load_eval_config, parse_eval_config
from ml.evaluation.keypoint_data import DataError, read_keypoints
from ml.evaluation.keypoint_eval import predict_rows
from ml.evaluation.keypoints import main, run
from ml.layout import KEYPOINT_COLUMNS

H, W = 64, 96
PIXEL_SIZE_M = 20e-9
FEATS = ["LamellaCentre", "LamellaTopEdge", "NeedleTip"]


def _mask(i: int) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[20 + i : 36 + i, 30 : 66 - i] = LAMELLA
    mask[2 + i, 70:] = MANIPULATOR  # needle from the right border, tip inside
    mask[1 + i : 4 + i, 70 + 2 * i :] = MANIPULATOR
    return mask


@dataclass(frozen=True)
class Prediction:
    """What a predictor returns (ml.segmentation.predictor.Prediction's fields; that
    module is not imported here because it brings torch in, seconds per test run)."""

    mask: np.ndarray
    probabilities: np.ndarray


class ShiftedPredictor:
    """Predicts the image's true mask moved right by `shift_px` (a known error). Each
    pixel's value says which image it is of and where (``_pixel_codes``), so a window of
    an image (the needle tip's second look) gets the same window of the mask."""

    backend = "test"
    num_classes = 6

    def __init__(self, masks: dict[int, np.ndarray], shift_px: int) -> None:
        self.masks, self.shift_px = masks, shift_px

    def predict(self, image: np.ndarray) -> Prediction:
        which, at = divmod(int(image[0, 0]), CODES_PER_IMAGE)
        top, left = divmod(at, W)
        mask = np.roll(self.masks[which], self.shift_px, axis=1)
        if self.shift_px > 0:
            mask[:, : self.shift_px] = 0
        mask = mask[top : top + image.shape[0], left : left + image.shape[1]]
        probs = np.eye(6, dtype=np.float32)[mask].transpose(2, 0, 1)
        return Prediction(mask, probs)


CODES_PER_IMAGE = 10_000  # > H * W


def _pixel_codes(which: int) -> np.ndarray:
    """A uint16 image whose pixels say which image they are of, and where."""
    return (which * CODES_PER_IMAGE + np.arange(H * W).reshape(H, W)).astype(np.uint16)


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, dict[int, np.ndarray]]:
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    masks = {}
    rows = []
    for i in range(3):
        masks[i] = _mask(i)
        image = _pixel_codes(i)
        tifffile.imwrite(root / "images" / f"img{i}.tif", image)
        truth = features_from_mask(masks[i], PIXEL_SIZE_M, FEATS)
        for name, result in truth.found().items():
            rows.append([f"img{i}.tif", name, 0, result.keypoint.x_px, result.keypoint.y_px])
    rows.append(["img0.tif", "LandingPost", 0, 10.0, 10.0])  # never predicted
    with (root / "keypoints.csv").open("w", newline="") as f:
        csv.writer(f).writerows([KEYPOINT_COLUMNS, *rows])
    with (root / "metadata.csv").open("w", newline="") as f:
        # img2's pixel size unknown: no distance in nm for it
        csv.writer(f).writerows(
            [
                ["image", "pixel_size_m"],
                ["img0.tif", PIXEL_SIZE_M],
                ["img1.tif", PIXEL_SIZE_M],
                ["img2.tif", ""],
            ]
        )
    return root, masks


def _config(root: Path, tmp_path: Path, checkpoints: list[str], **extra) -> dict:
    for name in checkpoints:
        (tmp_path / name).write_bytes(name.encode())  # stand-ins: the loader is injected
    return {
        "data_path": str(root / "keypoints.csv"),
        "images_path": str(root / "images"),
        "save_path": str(tmp_path / "out"),
        "checkpoints": [str(tmp_path / n) for n in checkpoints],
        "thresholds": [10, 5, 2],
        "thresholds_nm": [100, 50],
        **extra,
    }


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_known_shift_gives_known_distances_and_accuracy(dataset, tmp_path: Path):
    root, masks = dataset
    cfg = parse_eval_config(_config(root, tmp_path, ["exact.pt", "off3.pt"], save_eval_plot=True))
    loads: list[str] = []

    def load(path: Path) -> ShiftedPredictor:
        loads.append(path.name)
        return ShiftedPredictor(masks, 0 if path.name == "exact.pt" else 3)

    table = run(cfg, load)
    assert loads == ["exact.pt", "off3.pt"]  # each model loaded once, not once per image
    out = tmp_path / "out"
    preds = _rows(out / "predictions.csv")
    shifted = [r for r in preds if r["checkpoint"] == "off3.pt" and r["feature"] in FEATS]
    assert len(shifted) == 9
    for r in shifted:
        assert float(r["distance_px"]) == pytest.approx(3.0), r
        nm = float(r["distance_nm"])
        assert math.isnan(nm) if r["image"] == "img2.tif" else nm == pytest.approx(60.0), r
    post = [r for r in preds if r["feature"] == "LandingPost"]
    assert len(post) == 2 and all(
        r["found"] == "False" and "no landing post" in r["reason"] for r in post
    )

    def acc(checkpoint: str, unit: str, threshold: float) -> tuple[int, int]:
        key = (checkpoint, "all", unit, threshold)
        (row,) = [r for r in table if (r.checkpoint, r.feature, r.unit, r.threshold) == key]
        return row.within, row.n

    # 10 true points per checkpoint (9 found features + a post the model never finds)
    assert acc("exact.pt", "px", 2) == (9, 10)
    assert acc("off3.pt", "px", 10) == (9, 10)
    assert acc("off3.pt", "px", 5) == (9, 10)
    assert acc("off3.pt", "px", 2) == (0, 10)
    # nm: img2 has no pixel size -> 7 true points; 3 px = 60 nm
    assert acc("off3.pt", "nm", 100) == (6, 7)
    assert acc("off3.pt", "nm", 50) == (0, 7)
    per_feature = [
        r for r in _rows(out / "accuracy.csv") if r["feature"] == "NeedleTip" and r["unit"] == "px"
    ]
    assert {(r["checkpoint"], float(r["threshold"])): float(r["accuracy"]) for r in per_feature}[
        ("off3.pt", 2.0)
    ] == 0.0
    for png in ("accuracy_px.png", "accuracy_nm.png", "accuracy_features.png"):
        assert (out / png).stat().st_size > 1000


def test_plot_only_rereads_the_saved_predictions(dataset, tmp_path: Path):
    root, masks = dataset
    raw = _config(root, tmp_path, ["off3.pt"], save_det_plot=True)
    run(parse_eval_config(raw), lambda p: ShiftedPredictor(masks, 3))
    assert sorted(p.name for p in (tmp_path / "out" / "detections" / "off3.pt").iterdir()) == [
        "img0.png", "img1.png", "img2.png",
    ]  # fmt: skip
    again = run(parse_eval_config({**raw, "run_eval": False}), load=lambda p: pytest.fail("loaded"))
    first = _rows(tmp_path / "out" / "accuracy.csv")
    assert len(again) == len(first)


def test_the_command_line_reads_the_yaml(dataset, tmp_path: Path, monkeypatch, capsys):
    root, masks = dataset
    import ml.evaluation.keypoints as cli

    monkeypatch.setattr(cli, "default_loader", lambda p: ShiftedPredictor(masks, 0))
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump(_config(root, tmp_path, ["exact.pt"], plot_eval=False)))
    assert main(["--config", str(path)]) == 0
    out = capsys.readouterr().out
    # the exact model finds all 9 features, never the labelled post: 9/10 at every threshold
    assert "exact.pt" in out and out.count(" 90.0% (9/10;") == 3
    assert out.count(" 85.7% (6/7;") == 2  # in nm: img2 has no pixel size
    assert not (tmp_path / "out" / "accuracy_px.png").exists()


def test_malformed_yaml_names_the_file_and_key(tmp_path: Path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "data_path: a.csv\nimages_path: i\nsave_path: o\n"
        "checkpoints: [m.pt]\nthresholds: [10, -5]\n"
    )
    with pytest.raises(EvalConfigError, match=r"bad\.yaml.*thresholds: .*> 0"):
        load_eval_config(bad)
    bad.write_text("data_path: a.csv\nimages_path: i\nsave_path: o\ncheckpoint: m.pt\n")
    with pytest.raises(EvalConfigError, match=r"bad\.yaml.*checkpoint: Extra inputs"):
        load_eval_config(bad)
    bad.write_text("data_path: [unclosed\n")
    with pytest.raises(EvalConfigError, match=r"bad\.yaml: not valid YAML"):
        load_eval_config(bad)
    bad.write_text("data_path: a.csv\nimages_path: i\nsave_path: o\n")
    with pytest.raises(EvalConfigError, match="checkpoints: at least one"):
        load_eval_config(bad)
    assert main(["--config", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: no such config file" in capsys.readouterr().err


HEAD = "image,feature,instance,x_px,y_px\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "image,feature,x_px,y_px\na.tif,LamellaCentre,1,2\n",
            r"missing column\(s\) \['instance'\]",
        ),
        (HEAD + "a.tif,LamellaMiddle,0,1,2\n", r"line 2: column 'feature'"),
        (
            HEAD + "a.tif,NeedleTip,0,1,2\na.tif,NeedleTip,1,abc,2\n",
            r"line 3: column 'x_px': 'abc'",
        ),
        (HEAD + "a.tif,NeedleTip,-1,1,2\n", r"line 2: column 'instance'"),
    ],
)
def test_malformed_csv_names_the_file_line_and_column(tmp_path: Path, text: str, message: str):
    path = tmp_path / "keypoints.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=r"keypoints\.csv: .*" + message):
        read_keypoints(path)


def test_an_image_missing_from_images_path_is_named(dataset, tmp_path: Path):
    root, masks = dataset
    (root / "images" / "img1.tif").unlink()
    cfg = parse_eval_config(_config(root, tmp_path, ["exact.pt"]))
    with pytest.raises(DataError, match=r"image 'img1\.tif' is not in"):
        predict_rows(cfg, lambda p: ShiftedPredictor(masks, 0))


def test_the_example_config_is_valid():
    cfg = load_eval_config(Path("ml/evaluation/example_keypoints_eval.yaml"))
    assert cfg.thresholds == [250, 100, 50, 25, 10] and cfg.run_eval
