"""Per-class IoU and Dice from an accumulated confusion matrix."""

from __future__ import annotations

import numpy as np
import torch

Labels = torch.Tensor | np.ndarray


class ConfusionMatrix:
    """Accumulates predicted/true class counts over batches."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.counts = np.zeros((num_classes, num_classes), dtype=np.int64)

    def update(
        self, predicted: torch.Tensor | np.ndarray, target: torch.Tensor | np.ndarray
    ) -> None:
        pred = np.asarray(predicted).reshape(-1).astype(np.int64)
        true = np.asarray(target).reshape(-1).astype(np.int64)
        index = true * self.num_classes + pred
        self.counts += np.bincount(index, minlength=self.num_classes**2).reshape(
            self.num_classes, self.num_classes
        )

    def iou(self) -> np.ndarray:
        """Per-class IoU; NaN for a class absent from both prediction and truth."""
        tp = np.diag(self.counts).astype(float)
        union = self.counts.sum(0) + self.counts.sum(1) - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, tp / union, np.nan)

    def dice(self) -> np.ndarray:
        tp = np.diag(self.counts).astype(float)
        total = self.counts.sum(0) + self.counts.sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, 2 * tp / total, np.nan)

    def summary(self, prefix: str = "val") -> dict[str, float]:
        """``{prefix}_iou_<c>``, ``{prefix}_dice_<c>`` per class, and the foreground means
        (classes 1..C-1, NaN classes left out)."""
        iou, dice = self.iou(), self.dice()
        out: dict[str, float] = {}
        for c in range(self.num_classes):
            out[f"{prefix}_iou_{c}"] = float(iou[c])
            out[f"{prefix}_dice_{c}"] = float(dice[c])
        fg_iou, fg_dice = iou[1:], dice[1:]
        out[f"{prefix}_mean_iou"] = float(np.nanmean(fg_iou)) if np.isfinite(fg_iou).any() else 0.0
        out[f"{prefix}_mean_dice"] = (
            float(np.nanmean(fg_dice)) if np.isfinite(fg_dice).any() else 0.0
        )
        return out
