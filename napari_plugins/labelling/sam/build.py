"""Build a SAM model (image encoder, prompt encoder, mask decoder) and load local weights.

The prompt encoder and mask decoder are Segment Anything's, with its sizes, so SAM and
MobileSAM checkpoints' decoder weights fit. Weights are read with
``torch.load(weights_only=True)`` (or safetensors), never downloaded; without a file the
error says which file to put where.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from pathlib import Path

import torch
from torch import nn

from napari_plugins.labelling.provenance import file_sha256
from napari_plugins.labelling.sam.config import (
    WEIGHT_FILES,
    SamConfig,
    TinyVitEncoderSpec,
    VitEncoderSpec,
)
from napari_plugins.labelling.sam.mobile_sam_keys import from_mobile_sam, is_mobile_sam_layout

PROMPT_DIM = 256
PATCH_PX = 16
RANDOM_SEED = 0


class SamUnavailable(RuntimeError):
    """SAM cannot run here: the package or the weights are missing. The message says how
    to fix it."""


def require_segment_anything() -> None:
    try:
        import segment_anything  # noqa: F401
    except ImportError as error:
        raise SamUnavailable(
            "SAM-assisted labelling needs the segment-anything package: "
            "pip install 'fibsem-ophyd[sam]' (segment-anything==1.0, no weights included)"
        ) from error


def _encoder(config: SamConfig) -> nn.Module:
    spec = config.encoder_spec
    if isinstance(spec, TinyVitEncoderSpec):
        from napari_plugins.labelling.sam.tinyvit_encoder import TinyVitSamEncoder

        return TinyVitSamEncoder(spec, config.image_size_px)
    assert isinstance(spec, VitEncoderSpec)
    from segment_anything.modeling import ImageEncoderViT

    return ImageEncoderViT(
        img_size=config.image_size_px,
        patch_size=PATCH_PX,
        embed_dim=spec.embed_dim,
        depth=spec.depth,
        num_heads=spec.num_heads,
        mlp_ratio=4,
        out_chans=PROMPT_DIM,
        qkv_bias=True,
        norm_layer=partial(nn.LayerNorm, eps=1e-6),
        use_rel_pos=True,
        global_attn_indexes=spec.global_attn_indexes,
        window_size=spec.window_size,
    )


def build_sam_model(config: SamConfig) -> nn.Module:
    """An untrained SAM for ``config`` (seeded, so random weights are the same each time)."""
    require_segment_anything()
    from segment_anything.modeling import MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    grid = config.image_size_px // PATCH_PX
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_SEED)
        model = Sam(
            image_encoder=_encoder(config),
            prompt_encoder=PromptEncoder(
                embed_dim=PROMPT_DIM,
                image_embedding_size=(grid, grid),
                input_image_size=(config.image_size_px, config.image_size_px),
                mask_in_chans=16,
            ),
            mask_decoder=MaskDecoder(
                num_multimask_outputs=3,
                transformer=TwoWayTransformer(
                    depth=2, embedding_dim=PROMPT_DIM, mlp_dim=2048, num_heads=8
                ),
                transformer_dim=PROMPT_DIM,
                iou_head_depth=3,
                iou_head_hidden_dim=256,
            ),
            pixel_mean=[123.675, 116.28, 103.53],
            pixel_std=[58.395, 57.12, 57.375],
        )
    return model.eval()


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch/safetensors raise many kinds for a bad file
        raise SamUnavailable(
            f"{path}: not a readable SAM weights file (a state dict of tensors, no pickled "
            f"code): {type(error).__name__}: {str(error)[:200]}"
        ) from error
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise SamUnavailable(f"{path}: expected a state dict, got {type(state).__name__}")
    return state


def load_sam(
    config: SamConfig, config_source: str = "the SAM config"
) -> tuple[nn.Module, str | None]:
    """The model with its weights, and the weights' sha256 (None for random weights).
    The weights file is checked before the (slow) model build."""
    require_segment_anything()
    if config.checkpoint is None:
        if config.random_weights:
            return build_sam_model(config), None
        raise SamUnavailable(
            f"SAM backend {config.backend!r} has no weights: put {WEIGHT_FILES[config.backend]} "
            f"on this machine and set `checkpoint: /path/to/that/file` in {config_source}. "
            "Nothing is downloaded."
        )
    path = config.checkpoint
    if not path.is_file():
        raise SamUnavailable(
            f"SAM weights not found at {path} (checkpoint in {config_source}); expected "
            f"{WEIGHT_FILES[config.backend]}. Nothing is downloaded."
        )
    state = _read_state_dict(path)
    if config.backend == "mobile_sam" and is_mobile_sam_layout(state):
        state = from_mobile_sam(state)
    model = build_sam_model(config)
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise SamUnavailable(
            f"{path}: weights do not fit backend {config.backend!r}: "
            f"{len(result.missing_keys)} missing (e.g. {result.missing_keys[:3]}), "
            f"{len(result.unexpected_keys)} unexpected (e.g. {result.unexpected_keys[:3]})"
        )
    return model.eval(), file_sha256(path)


def model_id(config: SamConfig, weights_sha256: str | None) -> str:
    """A short id of architecture + weights: the embedding cache's key."""
    description = {
        "backend": config.backend,
        "encoder": config.encoder_spec.model_dump(),
        "image_size_px": config.image_size_px,
        "weights": weights_sha256 or f"random-seed-{RANDOM_SEED}",
    }
    digest = hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()
    return f"{config.backend}-{digest[:16]}"
