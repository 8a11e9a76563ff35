"""Class-aware commits of a binary mask into a label image.

A committed mask paints its class only on background and on its own class, so a SAM
mask never overwrites another class unless the user asks (``overwrite=True``).
"""

from __future__ import annotations

import numpy as np


def commit_mask(
    labels: np.ndarray, mask: np.ndarray, class_index: int, *, overwrite: bool = False
) -> tuple[np.ndarray, int]:
    """A new label image with ``mask`` painted as ``class_index``; and how many pixels changed."""
    if mask.shape != labels.shape:
        raise ValueError(f"mask of shape {mask.shape} does not fit labels of shape {labels.shape}")
    if not 0 < class_index <= np.iinfo(labels.dtype).max:
        raise ValueError(f"class_index must be 1..{np.iinfo(labels.dtype).max}, got {class_index}")
    paint = mask.astype(bool)
    if not overwrite:
        paint &= (labels == 0) | (labels == class_index)
    result = labels.copy()
    changed = int(np.count_nonzero(paint & (labels != class_index)))
    result[paint] = class_index
    return result, changed


def erase_mask(labels: np.ndarray, mask: np.ndarray, class_index: int) -> tuple[np.ndarray, int]:
    """A new label image with ``class_index`` removed (set to background) under ``mask``."""
    if mask.shape != labels.shape:
        raise ValueError(f"mask of shape {mask.shape} does not fit labels of shape {labels.shape}")
    erase = mask.astype(bool) & (labels == class_index)
    result = labels.copy()
    result[erase] = 0
    return result, int(np.count_nonzero(erase))
