"""Image/label TIFF pairs from folders, a seeded shuffled split, and the torch dataset.

An image ``a.tif`` in ``data_paths[i]`` pairs with the label file of the same stem in
``label_paths[i]`` (``a.tif`` or ``a.tiff``). Labels hold class indices 0..num_classes-1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import tifffile
import torch
from torch.utils.data import Dataset

from ml.segmentation.preprocess import pad_to_multiple, to_unit_float

TIFF_SUFFIXES = (".tif", ".tiff")

Augment = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def find_pairs(data_paths: Sequence[Path], label_paths: Sequence[Path]) -> list[tuple[Path, Path]]:
    """(image, label) file pairs; an image without a label is an error, not skipped."""
    pairs: list[tuple[Path, Path]] = []
    for data_dir, label_dir in zip(data_paths, label_paths, strict=True):
        for folder, key in ((data_dir, "data_paths"), (label_dir, "label_paths")):
            if not Path(folder).is_dir():
                raise FileNotFoundError(f"{key}: {folder} is not a folder")
        labels = {p.stem: p for p in Path(label_dir).iterdir() if p.suffix in TIFF_SUFFIXES}
        for image in sorted(Path(data_dir).iterdir()):
            if image.suffix not in TIFF_SUFFIXES:
                continue
            if image.stem not in labels:
                raise FileNotFoundError(f"no label for {image} in {label_dir}")
            pairs.append((image, labels[image.stem]))
    if not pairs:
        raise FileNotFoundError(f"no TIFF images in {[str(p) for p in data_paths]}")
    return pairs


def _read_tiff(path: Path) -> np.ndarray:
    """The TIFF's pixels; a file that is not a readable TIFF is an error naming it."""
    try:
        return tifffile.imread(path)
    except (tifffile.TiffFileError, OSError, ValueError) as err:
        raise ValueError(f"{path}: not a readable TIFF image ({err})") from None


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Shuffled (train, validation) indices; at least one of each when n >= 2."""
    if n < 2:
        raise ValueError(f"need at least 2 image pairs to split, found {n}")
    order = np.random.default_rng(seed).permutation(n).tolist()
    n_val = min(max(1, round(n * val_fraction)), n - 1)
    return order[n_val:], order[:n_val]


class SegmentationDataset(Dataset):
    """Image (1×H×W float32 in [0, 1]) and mask (H×W int64) tensors.

    ``augment`` is applied to image and mask together; pass None (validation, or
    ``apply_transforms: false``) and samples come back exactly as stored.
    """

    def __init__(
        self, pairs: Sequence[tuple[Path, Path]], num_classes: int, augment: Augment | None = None
    ) -> None:
        self.pairs = list(pairs)
        self.num_classes = num_classes
        self.augment = augment

    def __len__(self) -> int:
        return len(self.pairs)

    def read(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        image_path, label_path = self.pairs[index]
        image = to_unit_float(_read_tiff(image_path))
        mask = np.asarray(_read_tiff(label_path))
        if mask.shape != image.shape:
            raise ValueError(f"{label_path}: shape {mask.shape} != image shape {image.shape}")
        if mask.min() < 0 or mask.max() >= self.num_classes:
            raise ValueError(
                f"{label_path}: labels {int(mask.min())}..{int(mask.max())} outside "
                f"0..{self.num_classes - 1} (num_classes={self.num_classes})"
            )
        return image, mask.astype(np.int64)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, mask = self.read(index)
        if self.augment is not None:
            image, mask = self.augment(image, mask)
        # smp needs sizes divisible by 32; padding the same way keeps image and mask aligned
        image, mask = pad_to_multiple(image), pad_to_multiple(mask)
        image_t = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None]
        return image_t, torch.from_numpy(np.ascontiguousarray(mask, dtype=np.int64))
