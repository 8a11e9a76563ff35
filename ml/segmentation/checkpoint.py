"""Checkpoints that explain themselves and load without running pickled code.

A checkpoint is a plain dict saved with ``torch.save`` and read back with
``torch.load(weights_only=True)``: tensors, numbers, strings, lists and dicts only; or a
safetensors file (a path ending ``.safetensors``; see ``safetensors_io``), the config in
its metadata. Which one a file is comes from its content, not its name.
It carries the model spec (architecture, encoder, classes), the training input size,
the training config, the epoch, the optimizer state (to resume) and the metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ml.segmentation import safetensors_io
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
    """Write ``path``: safetensors when it ends ``.safetensors`` (no optimizer state),
    otherwise a weights-only torch file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == safetensors_io.SUFFIX:
        safetensors_io.save_safetensors(checkpoint, path, FORMAT, VERSION)
        return
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
    if safetensors_io.looks_like_safetensors(path):
        return _load_safetensors(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a damaged file
        raise CheckpointError(
            f"{path}: not a readable segmentation checkpoint (corrupt, truncated, or "
            f"containing pickled code): {type(error).__name__}: {str(error)[:200]}"
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a torch file, but not a {FORMAT} checkpoint")
    return _from_payload(path, payload)


def _load_safetensors(path: Path) -> Checkpoint:
    try:
        metadata, tensors = safetensors_io.read_safetensors(path)
    except ValueError as error:
        raise CheckpointError(str(error)) from error
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a safetensors file, but not a {FORMAT} checkpoint")
    try:
        payload = safetensors_io.decode_metadata(metadata)
    except (KeyError, ValueError) as error:
        raise CheckpointError(f"{path}: checkpoint metadata missing or bad: {error}") from error
    return _from_payload(path, {**payload, "state_dict": tensors})


def _from_payload(path: Path, payload: dict[str, Any]) -> Checkpoint:
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


def convert_checkpoint(source: str | Path, target: str | Path) -> Checkpoint:
    """Read any checkpoint and write it again at ``target`` (format from its suffix)."""
    checkpoint = load_checkpoint(source)
    save_checkpoint(checkpoint, target)
    return checkpoint


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        description="Convert a segmentation checkpoint (.pt <-> .safetensors, by suffix)"
    )
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path, help="ends .safetensors for safetensors")
    args = parser.parse_args(argv)
    checkpoint = convert_checkpoint(args.source, args.target)
    print(
        f"{args.target}: {checkpoint.spec.model_type}/{checkpoint.spec.encoder}, "
        f"{checkpoint.spec.num_classes} classes, epoch {checkpoint.epoch}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
