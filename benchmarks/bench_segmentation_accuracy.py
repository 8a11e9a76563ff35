"""Benchmark: the shipped segmentation model's IoU on held-out twin images.

Generates (or reads) a labelled twin dataset at full frame size, 1536x1024, from seeds
(hence specimens and sites) that the shipped model never saw in training, predicts every
image through ``load_shipped_model()`` and prints the IoU and Dice per class (pixels
pooled over the set), the mean IoU over the five foreground classes, and per stage.
Target (issue 10): mean foreground IoU >= 0.93.

Run: .venv/bin/python benchmarks/bench_segmentation_accuracy.py [--data DIR]
     [--n-images 48] [--seeds 100-103] [--json out.json] [--model-dir DIR]
     [--flips none,horizontal] [--input-widths 192,256]
  (without --data, the images are generated into a temporary folder first:
   python -m fibsem_ophyd.sim.groundtruth --output DIR --n-images 48 --seeds 100-103)
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

TARGET_MIOU = 0.93


def confusion(pred: np.ndarray, truth: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(truth.ravel() * n + pred.ravel(), minlength=n * n).reshape(n, n)


def scores(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tp = np.diag(matrix).astype(float)
    fp, fn = matrix.sum(0) - tp, matrix.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return tp / (tp + fp + fn), 2 * tp / (2 * tp + fp + fn)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a twin dataset folder (else generated)")
    parser.add_argument("--n-images", type=int, default=48)
    parser.add_argument("--seeds", default="100-103", help="held-out twin seeds")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="a candidate model's folder (as shipped/)"
    )
    parser.add_argument(
        "--flips",
        default=None,
        help="views averaged at test time, e.g. none or none,horizontal (default: the card's)",
    )
    parser.add_argument(
        "--input-widths",
        default=None,
        help="model input widths (px) averaged at test time, e.g. 192 or 192,256 "
        "(default: the card's)",
    )
    args = parser.parse_args()
    from ml.classes import class_table
    from ml.segmentation.shipped import SHIPPED_DIR, averaging_setup, load_shipped_model

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "heldout"
            cmd = [sys.executable, "-m", "fibsem_ophyd.sim.groundtruth", "--output", str(data),
                   "--n-images", str(args.n_images), "--seeds", args.seeds, "--quiet"]  # fmt: skip
            subprocess.run(cmd, check=True)
        with (data / "metadata.csv").open() as file:
            meta = list(csv.DictReader(file))
        names = class_table().names
        n = len(names)
        flips = None if args.flips is None else tuple(args.flips.split(","))
        widths = None
        if args.input_widths is not None:
            widths = [int(w) for w in args.input_widths.split(",")]
        model = load_shipped_model(
            folder=args.model_dir or SHIPPED_DIR, flips=flips, input_widths_px=widths
        )
        setup = averaging_setup(model)
        total = np.zeros((n, n), np.int64)
        by_stage: dict[str, np.ndarray] = {}
        times = []
        for row in meta:
            image = tifffile.imread(data / "images" / row["image"])
            truth = tifffile.imread(data / "labels" / row["image"]).astype(np.int64)
            t = time.perf_counter()
            pred = model.predict(image).mask.astype(np.int64)
            times.append(time.perf_counter() - t)
            m = confusion(pred, truth, n)
            total += m
            by_stage.setdefault(row["stage"], np.zeros((n, n), np.int64))
            by_stage[row["stage"]] += m
    iou, dice = scores(total)
    miou = float(np.nanmean(iou[1:]))
    print(f"{len(meta)} held-out images ({meta[0]['width_px']}x{meta[0]['height_px']}), "
          f"median predict {np.median(times):.3f} s, views: {', '.join(setup['flips'])}, "
          f"input widths (px): {setup['input_widths_px']}")  # fmt: skip
    for k, name in enumerate(names):
        print(f"  {name:15s} IoU {iou[k]:.4f}  Dice {dice[k]:.4f}")
    print(f"mean IoU over the foreground classes: {miou:.4f} (target >= {TARGET_MIOU})")
    stage_iou = {}
    for stage, m in sorted(by_stage.items()):
        s_iou, _ = scores(m)
        present = m.sum(1)[1:] > 0
        stage_iou[stage] = float(np.mean(s_iou[1:][present])) if present.any() else float("nan")
        print(f"  stage {stage:16s} mean IoU of the classes present {stage_iou[stage]:.4f}")
    if args.json:
        record = {
            "images": len(meta),
            "heldout_seeds": sorted({int(r["seed"]) for r in meta}),
            "heldout_sites": sorted({f"seed {r['seed']}: {r['site']}" for r in meta}),
            "frame": [int(meta[0]["height_px"]), int(meta[0]["width_px"])],
            "iou": dict(zip(names, map(float, iou), strict=True)),
            "dice": dict(zip(names, map(float, dice), strict=True)),
            "mean_foreground_iou": miou,
            "target_mean_foreground_iou": TARGET_MIOU,
            "median_predict_s": float(np.median(times)),
            "test_time_flips": setup["flips"],
            "test_time_input_widths_px": setup["input_widths_px"],
            "per_stage_mean_iou": stage_iou,
        }
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    return 0 if miou >= TARGET_MIOU else 1


if __name__ == "__main__":
    raise SystemExit(main())
