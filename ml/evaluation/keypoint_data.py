"""Reading a dataset's keypoints.csv and metadata.csv (ml/layout.py), checked: a bad
file, column or value is an error naming the file, the line and the column."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from ml.layout import FEATURES, KEYPOINT_COLUMNS


class DataError(ValueError):
    """A dataset file that cannot be used; the message names file, line and column."""


@dataclass(frozen=True)
class TruePoint:
    image: str
    feature: str
    instance: int
    x_px: float
    y_px: float


def _rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(
                f"{path}: missing column(s) {missing}; the header is {header}, "
                f"required: {list(required)}"
            )
        return [(reader.line_num, row) for row in reader]


def _number(path: Path, line: int, column: str, text: str | None) -> float:
    try:
        value = float(text or "")
    except ValueError:
        raise DataError(
            f"{path}: line {line}: column {column!r}: {text!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise DataError(f"{path}: line {line}: column {column!r}: {text!r} is not finite")
    return value


def read_keypoints(path: str | Path) -> list[TruePoint]:
    """The ground-truth keypoints; features must be ml.layout.FEATURES names."""
    path = Path(path)
    points: list[TruePoint] = []
    seen: set[tuple[str, str, int]] = set()
    for line, row in _rows(path, KEYPOINT_COLUMNS):
        image, feature = (row["image"] or "").strip(), (row["feature"] or "").strip()
        if not image:
            raise DataError(f"{path}: line {line}: column 'image' is empty")
        if feature not in FEATURES:
            raise DataError(
                f"{path}: line {line}: column 'feature': {feature!r} is not one of {FEATURES}"
            )
        instance_text = (row["instance"] or "0").strip()
        if not instance_text.isdigit():
            raise DataError(
                f"{path}: line {line}: column 'instance': {instance_text!r} is not an integer >= 0"
            )
        key = (image, feature, int(instance_text))
        if key in seen:
            raise DataError(f"{path}: line {line}: {feature} instance {key[2]} of {image} repeated")
        seen.add(key)
        x = _number(path, line, "x_px", row["x_px"])
        y = _number(path, line, "y_px", row["y_px"])
        points.append(TruePoint(image, feature, key[2], x, y))
    return points


def read_pixel_sizes(path: str | Path | None) -> dict[str, float]:
    """Image name -> pixel size (m) from metadata.csv; images with an empty pixel_size_m
    are left out (distances in nm are then not known for them)."""
    if path is None:
        return {}
    path = Path(path)
    sizes: dict[str, float] = {}
    for line, row in _rows(path, ("image", "pixel_size_m")):
        text = (row["pixel_size_m"] or "").strip()
        if not text:
            continue
        value = _number(path, line, "pixel_size_m", text)
        if not value > 0:
            raise DataError(f"{path}: line {line}: column 'pixel_size_m': {text!r} must be > 0")
        sizes[(row["image"] or "").strip()] = value
    return sizes
