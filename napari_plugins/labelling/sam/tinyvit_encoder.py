"""A MobileSAM-size image encoder: timm's TinyViT-5M body, MobileSAM's layout.

As in MobileSAM, the last stage does not downsample (its patch merging has stride 1), so
the body ends at stride 16 with 320 channels, and SAM's neck (1x1 and 3x3 convolutions
with channel LayerNorm) brings it to the 256 channels SAM's prompt encoder and mask
decoder take. MobileSAM's own checkpoint loads after renaming its keys
(``mobile_sam_keys``). The body is windowed/convolutional, so the input need not be
square, only a multiple of 32 px on each side, which saves padding a wide image.
"""

from __future__ import annotations

import torch
from segment_anything.modeling.common import LayerNorm2d
from timm.models.tiny_vit import TinyVit
from torch import nn

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
        # MobileSAM keeps stride 16 into the last stage (a 64x64 grid for 1024 px)
        self.body.stages[3].downsample.conv2.conv.stride = (1, 1)
        self.neck = nn.Sequential(
            nn.Conv2d(spec.embed_dims[3], OUT_CHANNELS, 1, bias=False),
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
        for stage in self.body.stages:
            x = stage(x)
        return self.neck(x)
