"""Rename MobileSAM checkpoint keys (its own TinyViT code) to this project's encoder
(timm's TinyViT inside ``TinyVitSamEncoder``); decoder and prompt encoder keys are SAM's
in both. MobileSAM's classification head is not part of the SAM model and is dropped."""

from __future__ import annotations

import re

import torch

PREFIX = "image_encoder."
_DROPPED = re.compile(r"^image_encoder\.(norm_head|head)\.")
_PATCH_EMBED = re.compile(r"^image_encoder\.patch_embed\.seq\.(0|2)\.")
_BLOCKS = re.compile(r"^image_encoder\.layers\.(\d+)\.blocks\.")
_DOWNSAMPLE = re.compile(r"^image_encoder\.layers\.(\d+)\.downsample\.")
_CONV_BN_CONV = re.compile(r"\.c\.weight$")


def is_mobile_sam_layout(state: dict[str, torch.Tensor]) -> bool:
    return any(
        key.startswith(("image_encoder.layers.", "image_encoder.patch_embed.seq.")) for key in state
    )


def _rename(key: str) -> str | None:
    if _DROPPED.match(key):
        return None
    if not key.startswith(PREFIX) or key.startswith(PREFIX + "neck."):
        return key
    if match := _PATCH_EMBED.match(key):
        conv = "conv1" if match.group(1) == "0" else "conv2"
        key = f"image_encoder.body.patch_embed.{conv}." + key[match.end() :]
    elif match := _BLOCKS.match(key):
        key = f"image_encoder.body.stages.{match.group(1)}.blocks." + key[match.end() :]
    elif match := _DOWNSAMPLE.match(key):
        # MobileSAM merges at the end of a stage, timm at the start of the next one
        stage = int(match.group(1)) + 1
        key = f"image_encoder.body.stages.{stage}.downsample." + key[match.end() :]
    else:
        raise ValueError(f"unexpected MobileSAM image-encoder key {key!r}")
    return _CONV_BN_CONV.sub(".conv.weight", key)


def from_mobile_sam(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    renamed: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        new = _rename(key)
        if new is not None:
            renamed[new] = value
    return renamed
