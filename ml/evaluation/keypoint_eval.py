"""Keypoint evaluation: every checkpoint's features against the ground truth.

For each checkpoint (loaded once) and each image of the keypoints CSV: take the
features as the workflows do (``ModelKeypoints.detect``: the model's mask, the
lamella's bottom edge from the image, the needle tip's second look) and compare each
with its true position. Where an image has several instances of a feature (several lamellae), the
true one is the instance nearest the image centre — the model's features are taken
the same way — and all lamella features use the lamella whose true centre is nearest.

Outputs in ``save_path``: ``predictions.csv`` (one row per image, feature and
checkpoint: true and predicted position, distance in pixels and, where metadata.csv
gives the pixel size, in nanometres; found or not and why) and ``accuracy.csv`` (per
checkpoint, feature — "all" for every feature — and threshold: how many true points,
how many predicted within the threshold, the fraction). A true point the model did not
find counts as wrong at every threshold; a feature found where there is none is a
false positive (counted, not in the accuracy).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import tifffile

from ml.detection.mask_features import LAMELLA_FEATURES, MaskFeatures, NotFound
from ml.detection.model_keypoints import ModelKeypoints, file_sha256
from ml.layout import FEATURES

from .keypoint_config import KeypointEvalConfig
from .keypoint_data import DataError, TruePoint, read_keypoints, read_pixel_sizes

PREDICTIONS_CSV = "predictions.csv"
ACCURACY_CSV = "accuracy.csv"
ALL = "all"


@dataclass(frozen=True)
class PredictionRow:
    image: str
    feature: str
    checkpoint: str
    model_id: str
    gt_x_px: float
    gt_y_px: float
    pred_x_px: float
    pred_y_px: float
    distance_px: float
    distance_nm: float
    pixel_size_m: float
    found: bool
    score: float
    reason: str

    @property
    def has_truth(self) -> bool:
        return math.isfinite(self.gt_x_px)


@dataclass(frozen=True)
class AccuracyRow:
    checkpoint: str
    feature: str
    unit: str  # "px" or "nm"
    threshold: float
    n: int  # true points (with a known pixel size, for nm)
    within: int
    accuracy: float
    false_positives: int


Loader = Callable[[Path], object]
"""path -> a predictor (``ml.segmentation.predictor.Predictor``: ``predict(image)`` with
``.mask`` and ``.probabilities``)."""


def default_loader(path: Path) -> object:
    from ml.segmentation.predictor import load_model

    return load_model(path)


def choose_truth(points: Sequence[TruePoint], shape: tuple[int, int]) -> dict[str, TruePoint]:
    """One true point per feature of an image: the instance nearest the image centre
    (lamella features: all from the lamella whose centre is nearest)."""
    cx, cy = (shape[1] - 1) / 2.0, (shape[0] - 1) / 2.0

    def nearest(candidates: Iterable[TruePoint]) -> TruePoint:
        return min(candidates, key=lambda p: (p.x_px - cx) ** 2 + (p.y_px - cy) ** 2)

    by_feature: dict[str, list[TruePoint]] = {}
    for p in points:
        by_feature.setdefault(p.feature, []).append(p)
    chosen = {f: nearest(ps) for f, ps in by_feature.items()}
    if "LamellaCentre" in by_feature:
        lamella = chosen["LamellaCentre"].instance
        for f in LAMELLA_FEATURES:
            same = [p for p in by_feature.get(f, []) if p.instance == lamella]
            if same:
                chosen[f] = same[0]
            else:
                chosen.pop(f, None)  # that lamella has no such point labelled
    return chosen


def _rows_for_image(
    image: str,
    truth: dict[str, TruePoint],
    found: MaskFeatures,
    features: Sequence[str],
    checkpoint: str,
    model_id: str,
    pixel_size_m: float,
) -> list[PredictionRow]:
    nan = math.nan
    rows = []
    for feature in features:
        gt = truth.get(feature)
        result = found[feature]
        if isinstance(result, NotFound):
            if gt is None:
                continue  # neither there nor found: nothing to judge
            px, py, score, reason = nan, nan, 0.0, result.reason
        else:
            kp = result.keypoint
            px, py, score, reason = kp.x_px, kp.y_px, kp.score, ""
        gx, gy = (gt.x_px, gt.y_px) if gt is not None else (nan, nan)
        dist = math.hypot(px - gx, py - gy)  # NaN when either is missing
        rows.append(
            PredictionRow(
                image,
                feature,
                checkpoint,
                model_id,
                gx,
                gy,
                px,
                py,
                dist,
                dist * pixel_size_m * 1e9,
                pixel_size_m,
                not isinstance(result, NotFound),
                score,
                reason,
            )
        )
    return rows


def predict_rows(
    config: KeypointEvalConfig,
    load: Loader = default_loader,
    on_image: Callable[[str, np.ndarray, dict[str, TruePoint], MaskFeatures, str], None]
    | None = None,
) -> list[PredictionRow]:
    """Every checkpoint on every image of the keypoints CSV (each model loaded once)."""
    points = read_keypoints(config.data_path)
    sizes = read_pixel_sizes(config.resolved_metadata_path())
    present = {p.feature for p in points}
    features = config.features or [f for f in FEATURES if f in present]
    by_image: dict[str, list[TruePoint]] = {}
    for p in points:
        by_image.setdefault(p.image, []).append(p)
    images: dict[str, np.ndarray] = {}
    for name in sorted(by_image):
        path = config.images_path / name
        if not path.is_file():
            raise DataError(f"{config.data_path}: image {name!r} is not in {config.images_path}")
        image = np.asarray(tifffile.imread(path))
        if image.ndim != 2:
            raise DataError(f"{path}: images must be 2-D, got shape {image.shape}")
        images[name] = image
    rows: list[PredictionRow] = []
    for checkpoint in config.checkpoints:
        model_id = file_sha256(checkpoint)
        # the features as the workflows take them: the mask, then its full-resolution looks
        keypoints = ModelKeypoints(
            load(checkpoint),  # type: ignore[arg-type]
            model_id,
            features,
            min_area_px=config.min_area_px,
        )
        for name, image in images.items():
            pixel_size_m = sizes.get(name, math.nan)
            found = keypoints.detect(
                image,
                pixel_size_m if math.isfinite(pixel_size_m) else 1.0,  # pixels only
            )
            truth = choose_truth(by_image[name], image.shape)
            rows += _rows_for_image(
                name, truth, found, features, checkpoint.name, model_id, pixel_size_m
            )
            if on_image is not None:
                on_image(name, image, truth, found, checkpoint.name)
    return rows


def accuracy(rows: Sequence[PredictionRow], config: KeypointEvalConfig) -> list[AccuracyRow]:
    """Per checkpoint, feature ("all" too), unit and threshold."""
    out: list[AccuracyRow] = []
    checkpoints = list(dict.fromkeys(r.checkpoint for r in rows))
    for checkpoint in checkpoints:
        mine = [r for r in rows if r.checkpoint == checkpoint]
        features = [f for f in FEATURES if any(r.feature == f for r in mine)]
        for feature in [ALL, *features]:
            group = [r for r in mine if feature in (ALL, r.feature)]
            judged = [r for r in group if r.has_truth]
            false_pos = sum(1 for r in group if not r.has_truth and r.found)
            for unit, thresholds, key in (
                ("px", config.thresholds, "distance_px"),
                ("nm", config.thresholds_nm, "distance_nm"),
            ):
                pool = (
                    judged if unit == "px" else [r for r in judged if math.isfinite(r.pixel_size_m)]
                )
                for t in thresholds:
                    within = sum(1 for r in pool if r.found and getattr(r, key) <= t)
                    acc = within / len(pool) if pool else math.nan
                    out.append(
                        AccuracyRow(checkpoint, feature, unit, t, len(pool), within, acc, false_pos)
                    )
    return out


def _write(path: Path, rows: Sequence[object], cls: type) -> None:
    names = [f.name for f in fields(cls)]
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))  # type: ignore[call-overload]


def write_predictions(path: Path, rows: Sequence[PredictionRow]) -> None:
    _write(path, rows, PredictionRow)


def write_accuracy(path: Path, rows: Sequence[AccuracyRow]) -> None:
    _write(path, rows, AccuracyRow)


def read_predictions(path: Path) -> list[PredictionRow]:
    """predictions.csv as written by ``write_predictions`` (for plotting a past run)."""
    if not path.is_file():
        raise DataError(f"{path}: no such file (run the evaluation first: run_eval: true)")
    out = []
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        for row in reader:
            try:
                out.append(
                    PredictionRow(
                        **{
                            f.name: (
                                row[f.name] == "True"
                                if f.type == "bool"
                                else float(row[f.name])
                                if f.type == "float"
                                else row[f.name]
                            )
                            for f in fields(PredictionRow)
                        }
                    )
                )
            except (KeyError, TypeError, ValueError) as error:
                raise DataError(f"{path}: line {reader.line_num}: {error}") from error
    return out
