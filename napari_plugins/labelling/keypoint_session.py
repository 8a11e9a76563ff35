"""Keypoint labelling over a folder of images and one keypoints CSV.

Starts from a folder without a CSV (no points yet) or from an existing CSV. Rows for
images that are not in the folder are kept as they are, so saving never drops data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ml.layout import IMAGES_DIR, KEYPOINTS_CSV
from napari_plugins.labelling.folder import _find_images
from napari_plugins.labelling.images import read_image
from napari_plugins.labelling.keypoint_table import (
    KeypointRow,
    points_to_rows,
    read_keypoints_csv,
    rows_to_points,
    write_keypoints_csv,
)


class KeypointSession:
    def __init__(self, folder: str | Path, csv_path: str | Path | None = None) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise ValueError(f"{folder}: not a folder")
        images_dir = folder / IMAGES_DIR if (folder / IMAGES_DIR).is_dir() else folder
        self.images: tuple[Path, ...] = _find_images(images_dir)
        if not self.images:
            raise ValueError(f"{images_dir}: no .tif, .tiff or .png images")
        self.csv_path = Path(csv_path) if csv_path else folder / KEYPOINTS_CSV
        rows = read_keypoints_csv(self.csv_path) if self.csv_path.is_file() else []
        self._rows: dict[str, list[KeypointRow]] = {}
        for row in rows:
            self._rows.setdefault(row.image, []).append(row)
        self.index = 0

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_name(self) -> str:
        return self.images[self.index].name

    def go(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self.images):
            raise IndexError(f"image index must be 0..{len(self.images) - 1}, got {index}")
        self.index = index
        return read_image(self.images[index])

    def points(self) -> tuple[np.ndarray, dict[str, list]]:
        """The current image's points: (N, 2) (y_px, x_px) and {feature, instance}."""
        return rows_to_points(self._rows.get(self.image_name, []))

    def set_points(
        self, data: np.ndarray, features: Sequence[str], instances: Sequence[int]
    ) -> None:
        rows = points_to_rows(self.image_name, data, features, instances)
        if rows:
            self._rows[self.image_name] = rows
        else:
            self._rows.pop(self.image_name, None)

    def rows(self) -> list[KeypointRow]:
        """All rows: the folder's images in order, then images not in the folder."""
        names = [p.name for p in self.images]
        ordered = [name for name in names if name in self._rows]
        ordered += sorted(name for name in self._rows if name not in names)
        return [row for name in ordered for row in self._rows[name]]

    def save(self) -> Path:
        write_keypoints_csv(self.csv_path, self.rows())
        return self.csv_path
