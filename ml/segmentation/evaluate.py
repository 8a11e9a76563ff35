"""Evaluate a segmentation model on a labelled dataset: per-class IoU/Dice and a confusion matrix.

    python -m ml.segmentation.evaluate --model model.onnx --dataset data/ --output eval/

``--dataset`` is a folder in the layout of ``ml/layout.py`` (``images/``, ``labels/``).
The model (any ``load_model`` backend) is loaded once. Writes ``metrics.csv`` (one row
per class: pixels, IoU, Dice, precision, recall), ``metrics.json`` (the same, the
foreground means and the confusion matrix), ``confusion_matrix.csv`` and
``confusion_matrix.png`` (rows: true class, columns: predicted; each row normalised).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from ml.classes import class_table
from ml.layout import IMAGES_DIR, LABELS_DIR
from ml.segmentation.dataset import find_pairs
from ml.segmentation.metrics import ConfusionMatrix


@dataclass(frozen=True)
class ClassMetrics:
    index: int
    name: str
    true_pixels: int
    predicted_pixels: int
    iou: float
    dice: float
    precision: float
    recall: float


def per_class_metrics(matrix: ConfusionMatrix, names: Sequence[str]) -> list[ClassMetrics]:
    """One record per class; NaN where a class is absent from truth and prediction."""
    counts = matrix.counts
    tp = np.diag(counts).astype(float)
    predicted, true = counts.sum(0), counts.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(true > 0, tp / true, np.nan)
    iou, dice = matrix.iou(), matrix.dice()
    return [
        ClassMetrics(c, names[c], int(true[c]), int(predicted[c]), float(iou[c]),
                     float(dice[c]), float(precision[c]), float(recall[c]))
        for c in range(matrix.num_classes)
    ]  # fmt: skip


def plot_confusion_matrix(
    counts: np.ndarray, names: Sequence[str], path: str | Path, title: str = ""
) -> Path:
    """Save the row-normalised confusion matrix (with counts) as a PNG; no display needed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    counts = np.asarray(counts)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = np.where(totals > 0, counts / totals, 0.0)
    n = len(names)
    figure = Figure(figsize=(1.2 * n + 2.5, 1.1 * n + 1.8), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(fractions, vmin=0.0, vmax=1.0, cmap="Blues")
    figure.colorbar(image, ax=axes, label="fraction of the true class")
    axes.set_xticks(range(n), names, rotation=45, ha="right")
    axes.set_yticks(range(n), names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    for row in range(n):
        for col in range(n):
            colour = "white" if fractions[row, col] > 0.5 else "black"
            axes.text(col, row, f"{fractions[row, col]:.2f}\n{counts[row, col]}",
                      ha="center", va="center", fontsize=7, color=colour)  # fmt: skip
    axes.set_title(title or "confusion matrix")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path


def _class_names(num_classes: int, names: Sequence[str] | None) -> list[str]:
    if names is not None:
        if len(names) != num_classes:
            raise ValueError(f"class_names: {len(names)} names for a {num_classes}-class model")
        return list(names)
    table = class_table().names
    return list(table) if len(table) == num_classes else [f"class_{c}" for c in range(num_classes)]


def _nan_to_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def evaluate_model(
    model: str | Path,
    dataset: str | Path,
    output: str | Path,
    backend: str | None = None,
    class_names: Sequence[str] | None = None,
) -> dict:
    """Run the model on every image of the dataset, write the reports, return the summary."""
    from ml.segmentation.predictor import load_model

    dataset = Path(dataset)
    pairs = find_pairs([dataset / IMAGES_DIR], [dataset / LABELS_DIR])
    predictor = load_model(model, backend=backend)  # type: ignore[arg-type]
    labels = getattr(predictor, "labels", None)  # an nnU-Net model knows its class names
    if class_names is None and labels:
        class_names = sorted(labels, key=labels.__getitem__)
    names = _class_names(predictor.num_classes, class_names)
    matrix = ConfusionMatrix(predictor.num_classes)
    for image_path, label_path in pairs:
        image, label = tifffile.imread(image_path), np.asarray(tifffile.imread(label_path))
        if label.shape != image.shape[:2]:
            raise ValueError(f"{label_path}: shape {label.shape} != image shape {image.shape}")
        if label.min() < 0 or label.max() >= predictor.num_classes:
            raise ValueError(
                f"{label_path}: labels {int(label.min())}..{int(label.max())} outside the "
                f"model's classes 0..{predictor.num_classes - 1}"
            )
        matrix.update(predictor.predict(image).mask, label)
    records = per_class_metrics(matrix, names)
    summary = matrix.summary("test")
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    with (output / "metrics.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["index", "class", "true_pixels", "predicted_pixels", "iou", "dice",
                         "precision", "recall"])  # fmt: skip
        for r in records:
            writer.writerow([r.index, r.name, r.true_pixels, r.predicted_pixels, r.iou, r.dice,
                             r.precision, r.recall])  # fmt: skip
    np.savetxt(output / "confusion_matrix.csv", matrix.counts, fmt="%d", delimiter=",",
               header="rows: true class, columns: predicted; " + ",".join(names))  # fmt: skip
    report = {
        "model": str(model),
        "backend": predictor.backend,
        "dataset": str(dataset),
        "images": len(pairs),
        "classes": [
            {k: _nan_to_none(v) if isinstance(v, float) else v for k, v in r.__dict__.items()}
            for r in records
        ],
        "mean_foreground_iou": summary["test_mean_iou"],
        "mean_foreground_dice": summary["test_mean_dice"],
        "confusion_matrix": matrix.counts.tolist(),
    }
    (output / "metrics.json").write_text(json.dumps(report, indent=2))
    plot_confusion_matrix(
        matrix.counts, names, output / "confusion_matrix.png",
        title=f"{Path(model).name} on {dataset.name} ({len(pairs)} images)",
    )  # fmt: skip
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path, help="checkpoint or ONNX file")
    parser.add_argument("--dataset", required=True, type=Path, help="folder with images/, labels/")
    parser.add_argument("--output", required=True, type=Path, help="folder for the reports")
    parser.add_argument("--backend", choices=("smp", "onnx", "nnunet"), default=None)
    args = parser.parse_args(argv)
    report = evaluate_model(args.model, args.dataset, args.output, args.backend)
    for c in report["classes"]:
        iou, dice = (("n/a" if v is None else f"{v:.4f}") for v in (c["iou"], c["dice"]))
        print(f"{c['index']} {c['name']:<16} IoU {iou}  Dice {dice}")
    print(f"mean foreground IoU {report['mean_foreground_iou']:.4f}; reports in {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
