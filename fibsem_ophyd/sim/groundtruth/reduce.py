"""Reduce a rendered labelled view by an integer factor, the way a model meant for
reduced frames sees a full frame: the image area-averaged (each output pixel the mean
of a factor x factor block, as ``cv2.INTER_AREA`` does at an integer factor), the mask
the majority class of each block, keypoints and pixel size scaled to match."""

from __future__ import annotations

import cv2
import numpy as np

from .labels import CLASS_INDEX
from .scene import LabelledImage


def reduce_view(view: LabelledImage, factor: int) -> LabelledImage:
    """``view`` at 1/``factor`` of its size; ``factor`` 1 returns it unchanged."""
    if factor < 1:
        raise ValueError(f"reduce factor must be >= 1, got {factor}")
    if factor == 1:
        return view
    h, w = view.image.shape
    if h % factor or w % factor:
        raise ValueError(f"frame {w}x{h} px is not divisible by the reduce factor {factor}")
    size = (w // factor, h // factor)
    image = cv2.resize(view.image.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    n_classes = len(CLASS_INDEX)
    shares = np.stack(
        [
            cv2.resize((view.mask == k).astype(np.float32), size, interpolation=cv2.INTER_AREA)
            for k in range(n_classes)
        ]
    )
    keypoints = [
        (feature, instance, (x + 0.5) / factor - 0.5, (y + 0.5) / factor - 0.5)
        for feature, instance, x, y in view.keypoints
    ]
    return LabelledImage(
        np.clip(image + 0.5, 0, 255).astype(np.uint8),
        shares.argmax(axis=0).astype(np.uint8),
        keypoints,
        view.site,
        dict(view.lamella_lengths_m),
        view.vertical_scale,
    )
