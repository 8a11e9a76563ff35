"""SAM configuration: which backend, where its weights lie, where embeddings are cached.

Weights are only ever read from ``checkpoint`` (a local file); nothing is downloaded.
The YAML lives at ``$FIBSEM_OPHYD_SAM_CONFIG`` or ``<user config dir>/fibsem-ophyd/sam.yaml``.
``random_weights`` builds the model with seeded random weights: for tests and timing only,
its masks mean nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import yaml
from platformdirs import user_cache_dir, user_config_dir
from pydantic import BaseModel, ConfigDict, Field, model_validator

SamBackend = Literal["vit_b", "vit_l", "vit_h", "mobile_sam"]
CONFIG_ENV = "FIBSEM_OPHYD_SAM_CONFIG"


class VitEncoderSpec(BaseModel):
    """Segment Anything's ViT image encoder (square input, absolute position embedding)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["vit"] = "vit"
    embed_dim: int = Field(ge=16, le=2048)
    depth: int = Field(ge=1, le=64)
    num_heads: int = Field(ge=1, le=32)
    global_attn_indexes: tuple[int, ...]
    window_size: int = Field(default=14, ge=1)


class TinyVitEncoderSpec(BaseModel):
    """A TinyViT (timm) image encoder with a SAM neck: MobileSAM's size class."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["tiny_vit"] = "tiny_vit"
    embed_dims: tuple[int, int, int, int] = (64, 128, 160, 320)
    depths: tuple[int, int, int, int] = (2, 2, 6, 2)
    num_heads: tuple[int, int, int, int] = (2, 4, 5, 10)
    window_sizes: tuple[int, int, int, int] = (7, 7, 14, 7)


EncoderSpec = Annotated[VitEncoderSpec | TinyVitEncoderSpec, Field(discriminator="kind")]

PRESETS: dict[str, VitEncoderSpec | TinyVitEncoderSpec] = {
    "vit_b": VitEncoderSpec(
        embed_dim=768, depth=12, num_heads=12, global_attn_indexes=(2, 5, 8, 11)
    ),
    "vit_l": VitEncoderSpec(
        embed_dim=1024, depth=24, num_heads=16, global_attn_indexes=(5, 11, 17, 23)
    ),
    "vit_h": VitEncoderSpec(
        embed_dim=1280, depth=32, num_heads=16, global_attn_indexes=(7, 15, 23, 31)
    ),
    "mobile_sam": TinyVitEncoderSpec(),
}
WEIGHT_FILES = {
    "vit_b": "sam_vit_b_01ec64.pth",
    "vit_l": "sam_vit_l_0b3195.pth",
    "vit_h": "sam_vit_h_4b8939.pth",
    "mobile_sam": "mobile_sam.pt (MobileSAM's checkpoint)",
}


def default_cache_dir() -> Path:
    return Path(user_cache_dir("fibsem-ophyd")) / "sam-embeddings"


class SamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: SamBackend = "mobile_sam"
    checkpoint: Path | None = None
    """Local weights file (torch state dict, read with weights_only=True, or .safetensors)."""
    random_weights: bool = False
    image_size_px: int = Field(default=1024, ge=64, le=4096)
    """The longest side the image is resized to before encoding (SAM: 1024)."""
    encoder: EncoderSpec | None = None
    """Override the backend's encoder architecture (tests use a tiny one)."""
    cache_dir: Path = Field(default_factory=default_cache_dir)
    prefetch_images: int = Field(default=2, ge=0, le=16)
    """How many next images to embed in the background."""
    threads: int = Field(default=1, ge=1, le=256)
    """torch CPU threads for SAM. One is the fastest on a shared, busy CPU: with more, each
    small operation waits for the slowest thread (measured: the decoder took 2.6 s with
    two threads and 0.2 s with one, on two cores with ten other jobs)."""
    bfloat16: bool | None = None
    """Run the encoder in bfloat16 autocast and the decoder in bfloat16; None: when the CPU
    does bfloat16 natively (AMX/AVX512-BF16: encoder about twice, decoder about 1.7 times
    as fast; 99.7 % of mask pixels as in float32, measured with random weights)."""

    @model_validator(mode="after")
    def _size(self) -> SamConfig:
        if self.image_size_px % 64:
            raise ValueError(f"image_size_px must be a multiple of 64, got {self.image_size_px}")
        return self

    @property
    def encoder_spec(self) -> VitEncoderSpec | TinyVitEncoderSpec:
        return self.encoder or PRESETS[self.backend]


def default_config_path() -> Path:
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else Path(user_config_dir("fibsem-ophyd")) / "sam.yaml"


def read_sam_config(path: str | Path | None = None) -> SamConfig:
    """The SAM config at ``path`` (default: ``default_config_path()``); errors name the file."""
    path = Path(path) if path else default_config_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"no SAM config at {path}: write one with at least `backend:` "
            f"({', '.join(PRESETS)}) and `checkpoint:` (a local weights file)"
        )
    try:
        data = yaml.safe_load(path.read_text()) or {}
        config = SamConfig.model_validate(data)
    except (yaml.YAMLError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from error
    if config.checkpoint is not None and not config.checkpoint.is_absolute():
        config = config.model_copy(update={"checkpoint": (path.parent / config.checkpoint)})
    return config
