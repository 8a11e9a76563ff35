"""Plots of a keypoint evaluation (matplotlib): an image with its true and predicted
points, and accuracy against threshold per checkpoint.

Figures are drawn on ``matplotlib.figure.Figure`` (no pyplot, no display needed) and
saved as PNG; pyplot is imported only to show one when asked (``show=True``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ml.detection.mask_features import MaskFeatures, NotFound

from .keypoint_data import TruePoint
from .keypoint_eval import ALL, AccuracyRow


def _show(fig: Figure) -> None:
    import matplotlib.pyplot as plt

    # A window from the user's backend, showing this figure instead of its own.
    manager = plt.figure().canvas.manager
    if manager is not None:
        manager.canvas.figure = fig
        fig.set_canvas(manager.canvas)
    plt.show()


def detection_figure(
    image: np.ndarray, truth: dict[str, TruePoint], found: MaskFeatures, title: str
) -> Figure:
    fig = Figure(figsize=(8, 8 * image.shape[0] / max(image.shape[1], 1)), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(image, cmap="gray")
    for i, (name, result) in enumerate(found.results.items()):
        colour = f"C{i % 10}"
        if name in truth:
            t = truth[name]
            ax.plot(t.x_px, t.y_px, "o", mfc="none", mec=colour, ms=10, mew=2)
        if not isinstance(result, NotFound):
            kp = result.keypoint
            ax.plot(kp.x_px, kp.y_px, "x", color=colour, ms=10, mew=2, label=name)
    ax.set_title(f"{title}  (o true, x predicted)")
    ax.set_axis_off()
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right", fontsize="small")
    return fig


def accuracy_figure(rows: Sequence[AccuracyRow], unit: str) -> Figure:
    """Accuracy (all features) against threshold, one line per checkpoint."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    picked = [r for r in rows if r.feature == ALL and r.unit == unit and not math.isnan(r.accuracy)]
    for checkpoint in dict.fromkeys(r.checkpoint for r in picked):
        mine = sorted((r for r in picked if r.checkpoint == checkpoint), key=lambda r: r.threshold)
        ax.plot([r.threshold for r in mine], [r.accuracy for r in mine], "o-", label=checkpoint)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"threshold ({unit})")
    ax.set_ylabel("fraction within threshold")
    ax.set_title(f"Keypoint accuracy ({unit})")
    ax.grid(True, alpha=0.3)
    if picked:
        ax.legend(fontsize="small")
    return fig


def feature_figure(rows: Sequence[AccuracyRow], threshold_px: float) -> Figure:
    """Accuracy per feature at one pixel threshold, one bar group per checkpoint."""
    picked = [
        r
        for r in rows
        if r.unit == "px" and r.threshold == threshold_px and r.feature != ALL and r.n > 0
    ]
    features = list(dict.fromkeys(r.feature for r in picked))
    checkpoints = list(dict.fromkeys(r.checkpoint for r in picked))
    fig = Figure(figsize=(max(6, 0.8 * len(features) + 2), 4), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / max(len(checkpoints), 1)
    for i, checkpoint in enumerate(checkpoints):
        acc = {r.feature: r.accuracy for r in picked if r.checkpoint == checkpoint}
        xs = np.arange(len(features)) + i * width
        ax.bar(xs, [acc.get(f, 0.0) for f in features], width, label=checkpoint)
    ax.set_xticks(np.arange(len(features)) + 0.4 - width / 2, features, rotation=30, ha="right")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(f"fraction within {threshold_px:g} px")
    if checkpoints:
        ax.legend(fontsize="small")
    return fig


def finish(fig: Figure, path: Path | None, show: bool) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    if show:
        _show(fig)
