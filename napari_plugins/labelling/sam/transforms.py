"""Image and coordinate transforms between an image and SAM's encoder input.

The image's longest side is resized to ``size`` px; the result is padded bottom/right
to a square (ViT encoder) or to a multiple of 32 px (TinyViT encoder). Pixel coordinates
have pixel centres at integers; SAM's prompt encoder adds the half pixel itself.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional

PIXEL_MEAN = (123.675, 116.28, 103.53)
PIXEL_STD = (58.395, 57.12, 57.375)
LOW_PERCENTILE, HIGH_PERCENTILE = 0.5, 99.5


def resized_hw(original_hw: tuple[int, int], size: int) -> tuple[int, int]:
    height, width = original_hw
    scale = size / max(height, width)
    return max(1, int(height * scale + 0.5)), max(1, int(width * scale + 0.5))


def to_rgb_255(image: np.ndarray) -> np.ndarray:
    """(3, H, W) float32 in 0..255: greyscale stretched between its 0.5 and 99.5 percentiles
    (microscope images rarely fill their dtype), RGB(A) as it is."""
    array = np.asarray(image)
    if array.ndim == 3:
        rgb = array[..., :3].astype(np.float32)
        if np.issubdtype(array.dtype, np.integer) and array.dtype != np.uint8:
            rgb *= 255.0 / np.iinfo(array.dtype).max
        return np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32)
    grey = array.astype(np.float32)
    low, high = np.percentile(grey, [LOW_PERCENTILE, HIGH_PERCENTILE])
    scaled = np.clip((grey - low) * (255.0 / max(high - low, 1e-6)), 0.0, 255.0)
    return np.broadcast_to(scaled.astype(np.float32), (3, *scaled.shape)).copy()


def encoder_input(
    image: np.ndarray, size: int, square: bool, multiple: int
) -> tuple[torch.Tensor, tuple[int, int]]:
    """(1, 3, H', W') normalised and padded, and the resized image's (h, w) inside it."""
    rgb = torch.from_numpy(to_rgb_255(image))[None]
    in_h, in_w = resized_hw((image.shape[0], image.shape[1]), size)
    resized = functional.interpolate(
        rgb, size=(in_h, in_w), mode="bilinear", align_corners=False, antialias=True
    )
    mean = torch.tensor(PIXEL_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(PIXEL_STD).view(1, 3, 1, 1)
    normalised = (resized - mean) / std
    if square:
        pad_h, pad_w = size - in_h, size - in_w
    else:
        pad_h, pad_w = (-in_h) % multiple, (-in_w) % multiple
    return functional.pad(normalised, (0, pad_w, 0, pad_h)), (in_h, in_w)


def to_input_coords(
    xy_px: np.ndarray, original_hw: tuple[int, int], input_hw: tuple[int, int]
) -> np.ndarray:
    """Image (x, y) px -> encoder-input (x, y) px, both with pixel centres at integers."""
    scale = np.array([input_hw[1] / original_hw[1], input_hw[0] / original_hw[0]])
    return (np.asarray(xy_px, dtype=np.float64) + 0.5) * scale - 0.5


def mask_to_prompt_logits(
    mask: np.ndarray, input_hw: tuple[int, int], grid_hw: tuple[int, int], logit: float = 8.0
) -> torch.Tensor:
    """A binary image-size mask as SAM's low-resolution mask prompt (1, 1, 4gh, 4gw)."""
    tensor = torch.from_numpy(mask.astype(np.float32))[None, None]
    resized = functional.interpolate(tensor, size=input_hw, mode="bilinear", align_corners=False)
    padded_hw = (grid_hw[0] * 16, grid_hw[1] * 16)
    padded = functional.pad(resized, (0, padded_hw[1] - input_hw[1], 0, padded_hw[0] - input_hw[0]))
    low = functional.avg_pool2d(padded, 4)
    return (low * 2.0 - 1.0) * logit


def logits_to_image(
    low_res: torch.Tensor, input_hw: tuple[int, int], original_hw: tuple[int, int]
) -> torch.Tensor:
    """(K, 4gh, 4gw) low-resolution mask logits -> (K, H, W) logits over the original image.

    One bilinear resampling straight from the low-resolution grid (4 input px per cell)
    to the image, with the exact scale, rather than two (to the input, then the image)."""
    scale_y = 4.0 * original_hw[0] / input_hw[0]
    scale_x = 4.0 * original_hw[1] / input_hw[1]
    rows = min(low_res.shape[-2], math.ceil(input_hw[0] / 4) + 1)
    cols = min(low_res.shape[-1], math.ceil(input_hw[1] / 4) + 1)
    resized = functional.interpolate(
        low_res[None, :, :rows, :cols],
        scale_factor=(scale_y, scale_x),
        mode="bilinear",
        align_corners=False,
        recompute_scale_factor=False,
    )[0]
    return resized[:, : original_hw[0], : original_hw[1]]
