"""Segmentation checkpoints as safetensors: weights as tensors, everything else as text.

A safetensors file holds named tensors and a header of string metadata; reading it never
unpickles anything. The model spec, input size, epoch, training config, metrics and best
metric travel as JSON strings in the metadata. The optimizer state does not: a
safetensors checkpoint is for inference and sharing; resume training from the ``.pt``.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ml.segmentation.checkpoint import Checkpoint

SUFFIX = ".safetensors"
_MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit


def looks_like_safetensors(path: Path) -> bool:
    """True when the file starts like safetensors: an 8-byte little-endian header length
    that fits in the file, followed by a JSON object."""
    with path.open("rb") as file:
        head = file.read(9)
    if len(head) < 9 or head[8:9] != b"{":
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 0 < length <= min(_MAX_HEADER_BYTES, path.stat().st_size - 8)


def save_safetensors(checkpoint: Checkpoint, path: Path, format_name: str, version: int) -> None:
    from safetensors.torch import save_file

    metadata = {
        "format": format_name,
        "version": str(version),
        "spec": checkpoint.spec.model_dump_json(),
        "input_size": json.dumps(list(checkpoint.input_size)),
        "epoch": str(checkpoint.epoch),
        "config": json.dumps(checkpoint.config),
        "metrics": json.dumps(checkpoint.metrics),
        "best_metric": json.dumps(checkpoint.best_metric),
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in checkpoint.state_dict.items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    tmp.replace(path)


def read_safetensors(path: Path) -> tuple[dict[str, str], dict]:
    """(metadata, tensors); a damaged file raises ValueError naming it."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as file:
            metadata = dict(file.metadata() or {})
            tensors = {key: file.get_tensor(key) for key in file.keys()}  # noqa: SIM118
    except Exception as error:  # SafetensorError, OSError, ...: a damaged file
        raise ValueError(
            f"{path}: not a readable safetensors file (corrupt or truncated): "
            f"{type(error).__name__}: {str(error)[:200]}"
        ) from error
    return metadata, tensors


def decode_metadata(metadata: dict[str, str]) -> dict:
    """The checkpoint fields from the metadata strings (KeyError/ValueError when missing/bad)."""
    return {
        "spec": json.loads(metadata["spec"]),
        "input_size": json.loads(metadata["input_size"]),
        "epoch": int(metadata["epoch"]),
        "config": json.loads(metadata.get("config", "{}")),
        "optimizer": None,
        "metrics": json.loads(metadata.get("metrics", "{}")),
        # json writes -inf as -Infinity and reads it back
        "best_metric": json.loads(metadata.get("best_metric", "-Infinity")),
    }
