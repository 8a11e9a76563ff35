"""A folder of images (TIFF and PNG, any sizes) and its label TIFFs.

Two layouts are accepted: the dataset layout of ``ml/layout.py`` (``<root>/images`` and
``<root>/labels``), or a plain folder of images whose labels go to ``<folder>/labels``.
The label of ``a.png`` is ``labels/a.tif`` (never ``a.png.tif``) and its provenance
``labels/a.json``; two images with one stem (``a.png`` and ``a.tif``) are refused,
since their labels would share a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from ml.layout import IMAGES_DIR, LABELS_DIR
from napari_plugins.labelling.images import image_hw, is_image_file, read_image

LABEL_SUFFIX = ".tif"
PROVENANCE_SUFFIX = ".json"


def _find_images(folder: Path) -> tuple[Path, ...]:
    images = sorted(p for p in folder.iterdir() if is_image_file(p))
    by_stem: dict[str, Path] = {}
    for path in images:
        if path.stem in by_stem:
            raise ValueError(
                f"{folder}: {by_stem[path.stem].name} and {path.name} share the stem "
                f"{path.stem!r}, so their labels would be one file; rename one"
            )
        by_stem[path.stem] = path
    return tuple(images)


@dataclass(frozen=True)
class LabelFolder:
    images_dir: Path
    labels_dir: Path
    images: tuple[Path, ...]

    @classmethod
    def open(cls, folder: str | Path, labels_dir: str | Path | None = None) -> LabelFolder:
        folder = Path(folder)
        if not folder.is_dir():
            raise ValueError(f"{folder}: not a folder")
        if (folder / IMAGES_DIR).is_dir():
            images_dir, default_labels = folder / IMAGES_DIR, folder / LABELS_DIR
        else:
            images_dir, default_labels = folder, folder / LABELS_DIR
        images = _find_images(images_dir)
        if not images:
            raise ValueError(f"{images_dir}: no .tif, .tiff or .png images")
        return cls(images_dir, Path(labels_dir) if labels_dir else default_labels, images)

    def __len__(self) -> int:
        return len(self.images)

    def _check(self, index: int) -> Path:
        if not 0 <= index < len(self.images):
            raise IndexError(f"image index must be 0..{len(self.images) - 1}, got {index}")
        return self.images[index]

    def label_path(self, index: int) -> Path:
        return self.labels_dir / (self._check(index).stem + LABEL_SUFFIX)

    def provenance_path(self, index: int) -> Path:
        return self.labels_dir / (self._check(index).stem + PROVENANCE_SUFFIX)

    def read_image(self, index: int) -> np.ndarray:
        return read_image(self._check(index))

    def read_labels(self, index: int, shape_hw: tuple[int, int]) -> np.ndarray | None:
        """The saved labels (uint8), or None when this image has none yet."""
        path = self.label_path(index)
        if not path.is_file():
            return None
        labels = tifffile.imread(path)
        if labels.shape != shape_hw:
            raise ValueError(
                f"{path}: labels of shape {labels.shape} do not fit image "
                f"{self.images[index].name} of shape {shape_hw}"
            )
        if labels.size and (labels.min() < 0 or labels.max() > 255):
            raise ValueError(f"{path}: label values must be 0..255 class indices")
        return labels.astype(np.uint8)

    def write_labels(self, index: int, labels: np.ndarray, num_classes: int) -> Path:
        image_shape = image_hw(self.read_image(index))
        if labels.shape != image_shape:
            raise ValueError(
                f"labels of shape {labels.shape} do not fit image "
                f"{self.images[index].name} of shape {image_shape}"
            )
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"labels for {self.images[index].name}: values must be class indices "
                f"0..{num_classes - 1}, got {int(labels.min())}..{int(labels.max())}"
            )
        path = self.label_path(index)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.partial")  # hidden: never taken for a label
        tifffile.imwrite(tmp, labels.astype(np.uint8), compression="zlib")
        tmp.replace(path)
        return path
