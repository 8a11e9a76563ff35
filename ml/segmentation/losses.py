"""Cross entropy + Dice + focal loss for multi-class masks."""

from __future__ import annotations

import torch
from segmentation_models_pytorch.losses import DiceLoss, FocalLoss
from torch import nn


class CombinedLoss(nn.Module):
    """Sum of cross entropy, soft Dice and focal loss on (N, C, H, W) logits."""

    def __init__(self) -> None:
        super().__init__()
        self.cross_entropy = nn.CrossEntropyLoss()
        self.dice = DiceLoss(mode="multiclass", from_logits=True)
        self.focal = FocalLoss(mode="multiclass")

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (
            self.cross_entropy(logits, target)
            + self.dice(logits, target)
            + self.focal(logits, target)
        )
