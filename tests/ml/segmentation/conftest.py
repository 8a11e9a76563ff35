"""Tiny synthetic segmentation data (shapes on noise) and a tiny trained model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
import torch

# the smallest smp-compatible encoder that builds without downloaded weights (~0.3 M params)
TINY_ENCODER = "tu-mobilenetv3_small_050"
HEIGHT, WIDTH = 64, 96
NUM_CLASSES = 3


@pytest.fixture(autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)


def synthetic_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A uint8 image with a bright rectangle (class 1) and a dark disc (class 2)."""
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    top, left = rng.integers(4, 30), rng.integers(4, 50)
    mask[top : top + 20, left : left + 30] = 1
    cy, cx, r = rng.integers(15, 50), rng.integers(15, 80), rng.integers(6, 12)
    yy, xx = np.mgrid[:HEIGHT, :WIDTH]
    mask[(yy - cy) ** 2 + (xx - cx) ** 2 < r**2] = 2
    levels = np.array([120.0, 220.0, 30.0])[mask]
    image = np.clip(levels + rng.normal(0, 12, mask.shape), 0, 255).astype(np.uint8)
    return image, mask


def write_dataset(root: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    images, labels = root / "images", root / "labels"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        image, mask = synthetic_pair(rng)
        tifffile.imwrite(images / f"img_{i:03d}.tif", image)
        tifffile.imwrite(labels / f"img_{i:03d}.tif", mask)
    return images, labels


@pytest.fixture
def dataset_dirs(tmp_path: Path) -> tuple[Path, Path]:
    return write_dataset(tmp_path / "data", 8)


def base_config(images: Path, labels: Path, save_path: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "data_paths": [str(images)],
        "label_paths": [str(labels)],
        "save_path": str(save_path),
        "checkpoint": None,
        "encoder": TINY_ENCODER,
        "num_classes": NUM_CLASSES,
        "epochs": 1,
        "split": 0.25,
        "batch_size": 4,
        "lr": 1e-3,
        "apply_transforms": True,
        "train_log_freq": 1,
        "val_log_freq": 1,
        "wandb": False,
        "model_type": "unet",
        "note": "test",
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny model trained for six epochs (~3 s), shared by the load/export tests."""
    from ml.segmentation.config import parse_config
    from ml.segmentation.train import train

    root = tmp_path_factory.mktemp("trained")
    images, labels = write_dataset(root / "data", 16)
    overrides = {"epochs": 6, "lr": 1e-2, "apply_transforms": False}
    config = parse_config(base_config(images, labels, root / "run", **overrides))
    torch.set_num_threads(2)
    return train(config, progress=False).best_path
