"""Dataset, split and augmentation: the reference's data pitfalls, each tested."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from ml.segmentation.config import parse_config
from ml.segmentation.dataset import SegmentationDataset, find_pairs, split_indices
from ml.segmentation.train import make_datasets
from ml.segmentation.transforms import EMAugment
from tests.ml.segmentation.conftest import NUM_CLASSES, base_config


def stored(dataset: SegmentationDataset, index: int) -> tuple[np.ndarray, np.ndarray]:
    image_path, label_path = dataset.pairs[index]
    return tifffile.imread(image_path) / 255.0, tifffile.imread(label_path)


def as_arrays(dataset: SegmentationDataset, index: int) -> tuple[np.ndarray, np.ndarray]:
    image, mask = dataset[index]
    # training pads 64 -> 64 and 96 -> 96: the synthetic size is already a multiple of 32
    return image[0].numpy(), mask.numpy()


def test_split_is_shuffled_seeded_and_disjoint() -> None:
    train, val = split_indices(100, 0.1, seed=0)
    assert len(val) == 10 and sorted(train + val) == list(range(100))
    assert sorted(val) != list(range(10)), "validation must not be the first 10 %"
    assert split_indices(100, 0.1, seed=0) == (train, val)
    assert split_indices(100, 0.1, seed=1)[1] != val


def test_split_keeps_one_of_each() -> None:
    train, val = split_indices(3, 0.01, seed=0)
    assert len(val) == 1 and len(train) == 2


def test_apply_transforms_false_is_honoured(dataset_dirs, tmp_path: Path) -> None:
    images, labels = dataset_dirs
    config = parse_config(base_config(images, labels, tmp_path / "run", apply_transforms=False))
    train_set, _ = make_datasets(config)
    assert train_set.augment is None
    for i in range(len(train_set)):
        image, mask = as_arrays(train_set, i)
        want_image, want_mask = stored(train_set, i)
        np.testing.assert_allclose(image, want_image, atol=1e-6)
        np.testing.assert_array_equal(mask, want_mask)


def test_training_samples_augmented_validation_never(dataset_dirs, tmp_path: Path) -> None:
    images, labels = dataset_dirs
    config = parse_config(base_config(images, labels, tmp_path / "run", apply_transforms=True))
    train_set, val_set = make_datasets(config)
    changed = 0
    for _ in range(3):
        for i in range(len(train_set)):
            changed += not np.allclose(as_arrays(train_set, i)[0], stored(train_set, i)[0])
        for i in range(len(val_set)):
            image, mask = as_arrays(val_set, i)
            want_image, want_mask = stored(val_set, i)
            np.testing.assert_allclose(image, want_image, atol=1e-6)
            np.testing.assert_array_equal(mask, want_mask)
    assert changed >= len(train_set), "augmentation should change most training samples"


def test_geometry_moves_image_and_mask_together() -> None:
    mask = np.zeros((64, 64), np.int64)
    mask[5:20, 10:50] = 1
    mask[30:60, 40:55] = 2
    image = mask / 2.0  # the image is a function of the mask, so alignment is checkable
    flips_only = EMAugment(seed=3, max_rotation_deg=0, p_flip=1.0, p_autocontrast=0,
                           p_equalize=0, p_blur=0, brightness=0, contrast=0)  # fmt: skip
    out_image, out_mask = flips_only(image, mask)
    assert not np.array_equal(out_mask, mask)
    np.testing.assert_allclose(out_image, out_mask / 2.0, atol=1e-6)
    rotating = EMAugment(seed=4, max_rotation_deg=30, p_flip=0, p_autocontrast=0,
                         p_equalize=0, p_blur=0, brightness=0, contrast=0)  # fmt: skip
    out_image, out_mask = rotating(image, mask)
    assert set(np.unique(out_mask)) <= {0, 1, 2}, "mask interpolation must keep class indices"
    assert (np.rint(out_image * 2) == out_mask).mean() > 0.97


def test_label_outside_classes_is_a_clear_error(dataset_dirs) -> None:
    images, labels = dataset_dirs
    first = sorted(labels.iterdir())[0]
    tifffile.imwrite(first, np.full((64, 96), 7, np.uint8))
    dataset = SegmentationDataset(find_pairs([images], [labels]), NUM_CLASSES)
    with pytest.raises(ValueError, match=r"labels 7\.\.7 outside 0\.\.2"):
        dataset[0]


def test_image_without_label_is_an_error(dataset_dirs) -> None:
    images, labels = dataset_dirs
    sorted(labels.iterdir())[0].unlink()
    with pytest.raises(FileNotFoundError, match="no label for"):
        find_pairs([images], [labels])
