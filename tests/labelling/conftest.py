"""Small labelling folders (mixed TIFF/PNG, mixed sizes) and a tiny random SAM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from napari_plugins.labelling.sam.config import SamConfig, TinyVitEncoderSpec

TINY_TINYVIT = TinyVitEncoderSpec(
    embed_dims=(16, 32, 48, 64), depths=(1, 1, 1, 1), num_heads=(1, 2, 2, 4)
)
TINY_IMAGE_SIZE_PX = 128


def tiny_sam_config(cache_dir: Path, **overrides) -> SamConfig:
    values = {
        "backend": "mobile_sam",
        "random_weights": True,
        "image_size_px": TINY_IMAGE_SIZE_PX,
        "encoder": TINY_TINYVIT,
        "cache_dir": cache_dir,
    }
    values.update(overrides)
    return SamConfig(**values)


def scene(height: int, width: int, seed: int) -> np.ndarray:
    """A bright rectangle on noise, uint8."""
    rng = np.random.default_rng(seed)
    image = rng.normal(60, 10, (height, width))
    image[height // 4 : height // 2, width // 4 : width // 2] += 120
    return np.clip(image, 0, 255).astype(np.uint8)


def write_mixed_folder(folder: Path) -> Path:
    """a.png (40x60), b.tif (48x32, uint16), c.tiff (30x30)."""
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(scene(40, 60, 0)).save(folder / "a.png")
    tifffile.imwrite(folder / "b.tif", scene(48, 32, 1).astype(np.uint16) * 200)
    tifffile.imwrite(folder / "c.tiff", scene(30, 30, 2))
    return folder


@pytest.fixture(scope="session")
def _display():
    from .qt_support import start_xvfb

    yield from start_xvfb()


@pytest.fixture
def viewer(_display, make_napari_viewer):
    return make_napari_viewer()


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    return write_mixed_folder(tmp_path / "images")
