"""Sliding-window inference the way nnU-Net v2 predicts: overlapping tiles, Gaussian weights.

An image smaller than the tile is zero-padded around it (evenly on both sides) up to the
tile. Tiles overlap by half (``step_fraction`` 0.5) and their first and last tiles touch
the image borders; each tile's logits are weighted by a Gaussian centred on the tile
(sigma 1/8 of the tile size, so tile borders count less) and the weighted sum is divided
by the summed weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
from scipy import ndimage

Logits = Callable[[np.ndarray], np.ndarray]
"""(H, W) float32 tile -> (C, H, W) logits"""


def tile_starts(size: int, tile: int, step_fraction: float = 0.5) -> list[int]:
    """Start offsets along one axis so that tiles of ``tile`` cover ``size`` (>= tile)."""
    if size <= tile:
        return [0]
    count = math.ceil((size - tile) / (tile * step_fraction)) + 1
    step = (size - tile) / (count - 1)
    return [round(step * i) for i in range(count)]


@cache
def gaussian_weights(tile: tuple[int, int], sigma_fraction: float = 1 / 8) -> np.ndarray:
    """Tile weights: a Gaussian peak of 10 at the centre, never exactly zero."""
    impulse = np.zeros(tile, np.float32)
    impulse[tuple(s // 2 for s in tile)] = 1.0
    weights = ndimage.gaussian_filter(
        impulse, [s * sigma_fraction for s in tile], mode="constant", cval=0.0
    )
    weights = weights / weights.max() * 10.0
    weights[weights == 0] = weights[weights > 0].min()
    return weights.astype(np.float32)


def predict_tiled(
    data: np.ndarray, tile: tuple[int, int], logits_of: Logits, step_fraction: float = 0.5
) -> np.ndarray:
    """(C, H, W) logits of a normalised (H, W) image."""
    height, width = data.shape
    pad_h, pad_w = max(tile[0] - height, 0), max(tile[1] - width, 0)
    before = (pad_h // 2, pad_w // 2)
    padded = np.pad(data, [(before[0], pad_h - before[0]), (before[1], pad_w - before[1])])
    weights = gaussian_weights(tile)
    total: np.ndarray | None = None
    norm = np.zeros(padded.shape, np.float32)
    for top in tile_starts(padded.shape[0], tile[0], step_fraction):
        for left in tile_starts(padded.shape[1], tile[1], step_fraction):
            window = (slice(top, top + tile[0]), slice(left, left + tile[1]))
            logits = logits_of(np.ascontiguousarray(padded[window]))
            if total is None:
                total = np.zeros((logits.shape[0], *padded.shape), np.float32)
            total[(slice(None), *window)] += logits * weights
            norm[window] += weights
    assert total is not None  # at least one tile
    out = total / norm
    return out[:, before[0] : before[0] + height, before[1] : before[1] + width]
