"""Small hand-drawn class masks for the mask-feature tests: a 160 x 100 px frame at
10 nm per pixel, rectangles of one class, and a found feature's point."""

from __future__ import annotations

import numpy as np

from ml.detection.mask_features import FoundFeature

H, W = 100, 160
PS = 10e-9


def box(mask: np.ndarray, top: int, left: int, height: int, width: int, cls: int) -> None:
    """Class ``cls`` on the rectangle of ``height`` x ``width`` px at ``top``, ``left``."""
    mask[top : top + height, left : left + width] = cls


def xy(result) -> tuple[float, float]:
    """The (col, row) of a found feature; fails with the reason where it was not found."""
    assert isinstance(result, FoundFeature), result
    return result.keypoint.x_px, result.keypoint.y_px
