"""A MobileSAM-size image encoder: timm's TinyViT-5M body and a SAM-style neck.

The body's third stage (stride 16) and its last stage (stride 32, upsampled 2x) are
projected to SAM's 256 channels, summed and refined (1x1 and 3x3 convolutions with
channel LayerNorm, as SAM's ViT neck), so SAM's prompt encoder and mask decoder take its
output unchanged. It is fully convolutional/windowed: the input need not be square, only
a multiple of 32 px on each side, which saves the padding of a wide image.
"""

from __future__ import annotations

import torch
from segment_anything.modeling.common import LayerNorm2d
from timm.models.tiny_vit import TinyVit
from torch import nn
from torch.nn import functional

from napari_plugins.labelling.sam.config import TinyVitEncoderSpec

OUT_CHANNELS = 256
SIZE_MULTIPLE = 32


class TinyVitSamEncoder(nn.Module):
    def __init__(self, spec: TinyVitEncoderSpec, img_size: int) -> None:
        super().__init__()
        self.img_size = img_size
        self.body = TinyVit(
            num_classes=0,
            embed_dims=spec.embed_dims,
            depths=spec.depths,
            num_heads=spec.num_heads,
            window_sizes=spec.window_sizes,
            drop_path_rate=0.0,
        )
        self.body.head = nn.Identity()
        self.project_16 = nn.Conv2d(spec.embed_dims[2], OUT_CHANNELS, 1, bias=False)
        self.project_32 = nn.Conv2d(spec.embed_dims[3], OUT_CHANNELS, 1, bias=False)
        self.neck = nn.Sequential(
            LayerNorm2d(OUT_CHANNELS),
            nn.Conv2d(OUT_CHANNELS, OUT_CHANNELS, 3, padding=1, bias=False),
            LayerNorm2d(OUT_CHANNELS),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        height, width = images.shape[-2:]
        if height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
            raise ValueError(
                f"input must be a multiple of {SIZE_MULTIPLE} px, got {height}x{width}"
            )
        x = self.body.patch_embed(images)
        x = self.body.stages[0](x)
        x = self.body.stages[1](x)
        stride_16 = self.body.stages[2](x)
        stride_32 = self.body.stages[3](stride_16)
        merged = self.project_16(stride_16) + functional.interpolate(
            self.project_32(stride_32), size=stride_16.shape[-2:], mode="nearest"
        )
        return self.neck(merged)
