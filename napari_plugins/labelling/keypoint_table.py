"""The keypoints CSV of ``ml/layout.py`` (image, feature, instance, x_px, y_px): read,
check, write, and convert to and from napari point arrays.

Coordinates are written with Python's shortest round-trip float repr, so reading a file
written here and writing it again gives the same bytes, and any value read is written
back exactly. napari points are (row, col) = (y_px, x_px), pixel centres at integers,
the same convention as the CSV: the conversion is a column swap, nothing else.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.layout import FEATURES, KEYPOINT_COLUMNS


@dataclass(frozen=True)
class KeypointRow:
    image: str
    feature: str
    instance: int
    x_px: float
    y_px: float


def _parse_row(path: Path, line: int, row: dict[str, str]) -> KeypointRow:
    where = f"{path}:{line}"
    if not row["image"]:
        raise ValueError(f"{where}: empty image name")
    if row["feature"] not in FEATURES:
        raise ValueError(f"{where}: unknown feature {row['feature']!r}; known: {FEATURES}")
    try:
        instance = int(row["instance"])
        x_px, y_px = float(row["x_px"]), float(row["y_px"])
    except ValueError as error:
        raise ValueError(
            f"{where}: instance must be an integer, x_px/y_px numbers: {error}"
        ) from None
    if instance < 0:
        raise ValueError(f"{where}: instance must be >= 0, got {instance}")
    if not (math.isfinite(x_px) and math.isfinite(y_px)):
        raise ValueError(f"{where}: x_px and y_px must be finite (a missing feature has no row)")
    return KeypointRow(row["image"], row["feature"], instance, x_px, y_px)


def read_keypoints_csv(path: str | Path) -> list[KeypointRow]:
    path = Path(path)
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != KEYPOINT_COLUMNS:
            raise ValueError(
                f"{path}: header must be {','.join(KEYPOINT_COLUMNS)}, got "
                f"{','.join(reader.fieldnames or ())}"
            )
        rows = [_parse_row(path, i + 2, raw) for i, raw in enumerate(reader)]
    seen: set[tuple[str, str, int]] = set()
    for i, row in enumerate(rows):
        key = (row.image, row.feature, row.instance)
        if key in seen:
            raise ValueError(
                f"{path}:{i + 2}: second row for image {row.image!r}, feature "
                f"{row.feature!r}, instance {row.instance}"
            )
        seen.add(key)
    return rows


def write_keypoints_csv(path: str | Path, rows: Iterable[KeypointRow]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(KEYPOINT_COLUMNS)
        for row in rows:
            writer.writerow([row.image, row.feature, row.instance, repr(row.x_px), repr(row.y_px)])
    tmp.replace(path)


def rows_to_points(rows: Sequence[KeypointRow]) -> tuple[np.ndarray, dict[str, list]]:
    """napari Points data (N, 2) as (y_px, x_px) and features {feature, instance}."""
    data = np.array([[r.y_px, r.x_px] for r in rows], dtype=np.float64).reshape(-1, 2)
    features = {"feature": [r.feature for r in rows], "instance": [r.instance for r in rows]}
    return data, features


def points_to_rows(
    image: str, data: np.ndarray, features: Sequence[str], instances: Sequence[int]
) -> list[KeypointRow]:
    """Rows for one image from napari points; a repeated (feature, instance), as when a
    second point of one feature is added, gets the next free instance number."""
    if len(data) != len(features) or len(data) != len(instances):
        raise ValueError(
            f"{len(data)} points but {len(features)} features and {len(instances)} instances"
        )
    taken: set[tuple[str, int]] = set()
    rows: list[KeypointRow] = []
    for (y_px, x_px), feature, instance in zip(data, features, instances, strict=True):
        if feature not in FEATURES:
            raise ValueError(f"point feature {feature!r} unknown; known: {FEATURES}")
        number = int(instance)
        while (feature, number) in taken:
            number += 1
        taken.add((feature, number))
        rows.append(KeypointRow(image, str(feature), number, float(x_px), float(y_px)))
    return rows
