"""Checkpoints that explain themselves and load without running pickled code.

A checkpoint is a plain dict saved with ``torch.save`` and read back with
``torch.load(weights_only=True)``: tensors, numbers, strings, lists and dicts only.
It carries the model spec (architecture, encoder, classes), the training input size,
the training config, the epoch, the optimizer state (to resume) and the metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ml.segmentation.models import ModelSpec, build_model

FORMAT = "fibsem-ophyd-segmentation"
VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a usable segmentation checkpoint."""


@dataclass
class Checkpoint:
    spec: ModelSpec
    state_dict: dict[str, torch.Tensor]
    input_size: tuple[int, int]
    """(height, width) in pixels of the training images."""
    epoch: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    optimizer: dict[str, Any] | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    best_metric: float = float("-inf")

    def build(self) -> nn.Module:
        """The model with these weights, in eval mode."""
        model = build_model(self.spec)
        model.load_state_dict(self.state_dict)
        return model.eval()


def save_checkpoint(checkpoint: Checkpoint, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "spec": checkpoint.spec.model_dump(),
        "state_dict": checkpoint.state_dict,
        "input_size": list(checkpoint.input_size),
        "epoch": checkpoint.epoch,
        "config": checkpoint.config,
        "optimizer": checkpoint.optimizer,
        "metrics": checkpoint.metrics,
        "best_metric": checkpoint.best_metric,
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # never leave a half-written best checkpoint behind


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by ``save_checkpoint``; anything else is a CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a damaged file
        raise CheckpointError(
            f"{path}: not a readable segmentation checkpoint (corrupt, truncated, or "
            f"containing pickled code): {type(error).__name__}: {str(error)[:200]}"
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a torch file, but not a {FORMAT} checkpoint")
    try:
        return Checkpoint(
            spec=ModelSpec.model_validate(payload["spec"]),
            state_dict=payload["state_dict"],
            input_size=(int(payload["input_size"][0]), int(payload["input_size"][1])),
            epoch=int(payload["epoch"]),
            config=dict(payload.get("config") or {}),
            optimizer=payload.get("optimizer"),
            metrics=dict(payload.get("metrics") or {}),
            best_metric=float(payload.get("best_metric", float("-inf"))),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(
            f"{path}: checkpoint is missing or has bad fields: {error}"
        ) from error
