"""Reading one image (TIFF or PNG) as a 2-D greyscale or RGB array."""

from __future__ import annotations

from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".tif", ".tiff", ".png")


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def read_image(path: Path) -> np.ndarray:
    """A TIFF or PNG as (H, W) or (H, W, 3|4); anything else is a ValueError naming the file."""
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ValueError(f"{path}: not an image file (allowed: {', '.join(IMAGE_SUFFIXES)})")
    try:
        if suffix == ".png":
            from PIL import Image

            with Image.open(path) as handle:
                array = np.asarray(handle)
        else:
            import tifffile

            array = tifffile.imread(path)
    except Exception as error:  # PIL and tifffile raise many kinds for a damaged file
        raise ValueError(f"{path}: unreadable image: {type(error).__name__}: {error}") from error
    if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4)):
        return array
    raise ValueError(
        f"{path}: expected one 2-D image (H, W) or (H, W, 3|4), got shape {array.shape}"
    )


def image_hw(image: np.ndarray) -> tuple[int, int]:
    return int(image.shape[0]), int(image.shape[1])
