"""One image normalisation shared by training and inference, and size padding."""

from __future__ import annotations

import numpy as np

from ml.segmentation.models import SIZE_MULTIPLE


def to_unit_float(image: np.ndarray) -> np.ndarray:
    """A 2-D greyscale image as float32 in [0, 1]: integers divided by their dtype's
    maximum, floats clipped. RGB(A) images are averaged to grey."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        array = array[..., :3].mean(axis=-1).astype(array.dtype)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D greyscale image, got shape {array.shape}")
    if np.issubdtype(array.dtype, np.integer):
        return (array / np.iinfo(array.dtype).max).astype(np.float32)
    return np.clip(array, 0.0, 1.0).astype(np.float32)


def pad_to_multiple(image: np.ndarray, multiple: int = SIZE_MULTIPLE) -> np.ndarray:
    """Reflect-pad height and width (bottom/right) up to a multiple; crop back after."""
    height, width = image.shape[-2:]
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    if pad_h == 0 and pad_w == 0:
        return image
    widths = [(0, 0)] * (image.ndim - 2) + [(0, pad_h), (0, pad_w)]
    mode = "reflect" if pad_h < height and pad_w < width else "edge"
    return np.pad(image, widths, mode=mode)
