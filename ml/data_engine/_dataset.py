"""Writing runs into a dataset folder in the ``ml.layout`` layout.

Besides images/, labels/, keypoints.csv and metadata.csv (with extra columns: run uid,
stream, checkpoint hash, review, flag...), the data engine keeps two files of its own:
``detections.csv`` (every detection, found or not, with the model's position, the
supervisor's action and the position kept) and ``supervision.csv`` (every answer, tied
to the image it judged when there is one).

A run is written in one go: frames first (each through a temporary name), then the CSV
rows, metadata last — a metadata row never names a missing image. A run already in
the dataset (its uid in metadata.csv or supervision.csv) is not written again.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ml.classes import class_table
from ml.layout import (
    IMAGES_DIR,
    KEYPOINT_COLUMNS,
    KEYPOINTS_CSV,
    LABELS_DIR,
    METADATA_COLUMNS,
    METADATA_CSV,
)

from ._csv import append_rows, read_rows
from ._records import RunRecord
from ._rows import (
    DETECTION_COLUMNS,
    METADATA_EXTRA,
    SUPERVISION_COLUMNS,
    answer_rows,
    detection_rows,
    keypoint_rows,
    metadata_rows,
)

DETECTIONS_CSV = "detections.csv"
SUPERVISION_CSV = "supervision.csv"
IMAGE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))


def _write_tiff(path: Path, array: np.ndarray) -> None:
    import tifffile

    tmp = path.with_name(f".{path.name}.tmp")
    tifffile.imwrite(tmp, array)
    os.replace(tmp, path)


def check_image(name: str, frame: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if frame.dtype not in IMAGE_DTYPES:
        raise ValueError(f"{name}: image dtype {frame.dtype} is not uint8 or uint16")
    if frame.shape != shape:
        raise ValueError(f"{name}: frame shape {frame.shape} differs from its data key's {shape}")
    return frame


def check_mask(name: str, mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    n = len(class_table().names)
    if not np.issubdtype(mask.dtype, np.integer):
        raise ValueError(f"{name}: mask dtype {mask.dtype} is not an integer class index")
    if mask.shape != shape:
        raise ValueError(f"{name}: mask shape {mask.shape} differs from the image's {shape}")
    if mask.size and (mask.min() < 0 or mask.max() >= n):
        raise ValueError(
            f"{name}: mask values {mask.min()}..{mask.max()} outside the class "
            f"indices 0..{n - 1} (ml/classes.yaml)"
        )
    return mask.astype(np.uint8, copy=False)


class Dataset:
    """A dataset folder the data engine adds runs to."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise NotADirectoryError(f"dataset {self.root} exists and is not a folder")
        self._runs: set[str] | None = None

    @property
    def images_dir(self) -> Path:
        return self.root / IMAGES_DIR

    @property
    def labels_dir(self) -> Path:
        return self.root / LABELS_DIR

    def runs(self) -> set[str]:
        """Uids of the runs already in the dataset."""
        if self._runs is None:
            rows = read_rows(self.root / METADATA_CSV) + read_rows(self.root / SUPERVISION_CSV)
            self._runs = {r["run_uid"] for r in rows if r.get("run_uid")}
        return self._runs

    def write_image(self, name: str, frame: np.ndarray, shape: tuple[int, int]) -> Path:
        """Check and write one image (while its run is still going); returns its path."""
        check_image(name, frame, shape)
        self.images_dir.mkdir(parents=True, exist_ok=True)
        _write_tiff(self.images_dir / name, frame)
        return self.images_dir / name

    def write_label(self, name: str, mask: np.ndarray, shape: tuple[int, int]) -> Path:
        """Check and write one class mask; returns its path."""
        checked = check_mask(name, mask, shape)
        self.labels_dir.mkdir(parents=True, exist_ok=True)
        _write_tiff(self.labels_dir / name, checked)
        return self.labels_dir / name

    def write_run(
        self,
        record: RunRecord,
        frames: dict[str, np.ndarray],
        masks: dict[str, np.ndarray],
        labels_written: frozenset[str] = frozenset(),
    ) -> bool:
        """Write `record`: the images in `frames` and masks in `masks` (by image name;
        images not in `frames` were written during the run, as were `labels_written`),
        then its CSV rows. False if the run is already in the dataset."""
        if record.uid in self.runs():
            return False
        shapes = {im.name: (im.height_px, im.width_px) for im in record.images}
        for name, frame in frames.items():
            check_image(name, frame, shapes[name])
        checked = {n: check_mask(n, m, shapes[n]) for n, m in masks.items()}
        self.images_dir.mkdir(parents=True, exist_ok=True)
        if checked:
            self.labels_dir.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            _write_tiff(self.images_dir / name, frame)
        for name, mask in checked.items():
            _write_tiff(self.labels_dir / name, mask)
        append_rows(self.root / DETECTIONS_CSV, DETECTION_COLUMNS, detection_rows(record))
        append_rows(self.root / SUPERVISION_CSV, SUPERVISION_COLUMNS, answer_rows(record))
        append_rows(self.root / KEYPOINTS_CSV, KEYPOINT_COLUMNS, keypoint_rows(record))
        append_rows(
            self.root / METADATA_CSV,
            METADATA_COLUMNS + METADATA_EXTRA,
            metadata_rows(record, set(checked) | labels_written),
        )
        self.runs().add(record.uid)
        return True
