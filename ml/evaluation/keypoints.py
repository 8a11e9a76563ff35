"""Evaluate keypoint models from a YAML config (ml/evaluation/keypoint_config.py):

    python -m ml.evaluation.keypoints --config eval.yaml   # or fibsem-ophyd-eval-keypoints

Writes predictions.csv, accuracy.csv and (plot_eval) accuracy_px.png, accuracy_nm.png,
accuracy_features.png to save_path; detection plots per image in save_path/detections/
<checkpoint>/ with save_det_plot. Prints the accuracy table.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ml.detection.mask_features import MaskFeatures

from .keypoint_config import EvalConfigError, KeypointEvalConfig, load_eval_config
from .keypoint_data import DataError, TruePoint
from .keypoint_eval import (
    ACCURACY_CSV,
    ALL,
    PREDICTIONS_CSV,
    AccuracyRow,
    Loader,
    accuracy,
    default_loader,
    predict_rows,
    read_predictions,
    write_accuracy,
    write_predictions,
)


def run(config: KeypointEvalConfig, load: Loader | None = None) -> list[AccuracyRow]:
    """The whole evaluation as the config asks; returns the accuracy rows. `load` makes
    a predictor from a model file (default: ``load_model``)."""
    from . import keypoint_plots as plots

    config.save_path.mkdir(parents=True, exist_ok=True)
    predictions_csv = config.save_path / PREDICTIONS_CSV
    want_det = config.show_det_plot or config.save_det_plot

    def det_plot(
        name: str,
        image: np.ndarray,
        truth: dict[str, TruePoint],
        found: MaskFeatures,
        checkpoint: str,
    ) -> None:
        fig = plots.detection_figure(image, truth, found, f"{name} — {checkpoint}")
        path = config.save_path / "detections" / checkpoint / f"{Path(name).stem}.png"
        plots.finish(fig, path if config.save_det_plot else None, config.show_det_plot)

    if config.run_eval:
        rows = predict_rows(config, load or default_loader, det_plot if want_det else None)
        write_predictions(predictions_csv, rows)
    else:
        rows = read_predictions(predictions_csv)
    table = accuracy(rows, config)
    write_accuracy(config.save_path / ACCURACY_CSV, table)
    if config.plot_eval and (config.save_eval_plot or config.show_eval_plot):
        save = config.save_eval_plot
        for unit in ("px", "nm"):
            fig = plots.accuracy_figure(table, unit)
            path = config.save_path / f"accuracy_{unit}.png"
            plots.finish(fig, path if save else None, config.show_eval_plot)
        middle = config.thresholds[len(config.thresholds) // 2]
        fig = plots.feature_figure(table, middle)
        plots.finish(
            fig, config.save_path / "accuracy_features.png" if save else None, config.show_eval_plot
        )
    return table


def format_table(rows: Sequence[AccuracyRow]) -> str:
    lines = []
    for r in rows:
        if r.feature != ALL:
            continue
        acc = "  n/a" if math.isnan(r.accuracy) else f"{100 * r.accuracy:5.1f}%"
        lines.append(
            f"{r.checkpoint:30s} within {r.threshold:7g} {r.unit}: {acc} "
            f"({r.within}/{r.n}; false positives {r.false_positives})"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate keypoint models (YAML config).")
    parser.add_argument("--config", required=True, type=Path, help="evaluation YAML")
    args = parser.parse_args(argv)
    try:
        config = load_eval_config(args.config)
        table = run(config)
    except (EvalConfigError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_table(table))
    print(f"results in {config.save_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
