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

import csv
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

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

from ._records import ImageRecord, RunRecord

DETECTIONS_CSV = "detections.csv"
SUPERVISION_CSV = "supervision.csv"
METADATA_EXTRA = (
    "run_uid",
    "stream",
    "data_key",
    "seq_num",
    "time",
    "experiment",
    "plan_name",
    "scan_id",
    "exit_status",
    "checkpoint_hash",
    "mask_key",
    "review",
    "flag",
)
DETECTION_COLUMNS = (
    "image",
    "feature",
    "instance",
    "detector",
    "x_px",
    "y_px",
    "score",
    "checkpoint_hash",
    "action",
    "kept_x_px",
    "kept_y_px",
)
SUPERVISION_COLUMNS = (
    "run_uid",
    "seq_num",
    "time",
    "kind",
    "site",
    "stage",
    "message",
    "problem",
    "proposal_x_m",
    "proposal_y_m",
    "action",
    "dx_m",
    "dy_m",
    "note",
    "image",
    "feature",
)
IMAGE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else repr(value)
    return str(value)


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file ([] when it does not exist)."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def append_rows(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    """Append rows (a new file gets the header even with no rows); a file written with
    fewer columns is rewritten with the union."""
    rows = [{k: _cell(v) for k, v in row.items()} for row in rows]
    if not rows and path.exists():
        return
    header: list[str] = list(columns)
    if path.exists():
        with path.open(newline="") as f:
            existing = next(csv.reader(f), [])
        if existing and existing != header:
            header = existing + [c for c in header if c not in existing]
            old = read_rows(path)
            _write_all(path, header, old)
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, restval="")
        if new:
            writer.writeheader()
        writer.writerows(rows)


def _write_all(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def _write_tiff(path: Path, array: np.ndarray) -> None:
    import tifffile

    tmp = path.with_name(f".{path.name}.tmp")
    tifffile.imwrite(tmp, array)
    os.replace(tmp, path)


def check_image(name: str, frame: np.ndarray, image: ImageRecord) -> np.ndarray:
    if frame.dtype not in IMAGE_DTYPES:
        raise ValueError(f"{name}: image dtype {frame.dtype} is not uint8 or uint16")
    if frame.shape != (image.height_px, image.width_px):
        raise ValueError(
            f"{name}: frame shape {frame.shape} differs from its data key's "
            f"{(image.height_px, image.width_px)}"
        )
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

    def write_run(
        self,
        record: RunRecord,
        frames: dict[str, np.ndarray],
        masks: dict[str, np.ndarray],
    ) -> bool:
        """Write `record` with its frames (and masks) by image name; False if the run is
        already in the dataset."""
        if record.uid in self.runs():
            return False
        for image in record.images:
            check_image(image.name, frames[image.name], image)
        checked = {n: check_mask(n, m, frames[n].shape) for n, m in masks.items()}
        self.images_dir.mkdir(parents=True, exist_ok=True)
        if checked:
            self.labels_dir.mkdir(parents=True, exist_ok=True)
        for image in record.images:
            _write_tiff(self.images_dir / image.name, frames[image.name])
            if image.name in checked:
                _write_tiff(self.labels_dir / image.name, checked[image.name])
        append_rows(self.root / DETECTIONS_CSV, DETECTION_COLUMNS, _detection_rows(record))
        append_rows(self.root / SUPERVISION_CSV, SUPERVISION_COLUMNS, _answer_rows(record))
        append_rows(self.root / KEYPOINTS_CSV, KEYPOINT_COLUMNS, _keypoint_rows(record))
        append_rows(
            self.root / METADATA_CSV,
            METADATA_COLUMNS + METADATA_EXTRA,
            _metadata_rows(record, set(checked)),
        )
        self.runs().add(record.uid)
        return True


def _keypoint_rows(record: RunRecord) -> list[dict[str, Any]]:
    rows = []
    for image in record.images:
        for d in image.detections:
            kept = image.keypoint(d)
            if kept is not None:
                rows.append(
                    {
                        "image": image.name,
                        "feature": d.feature,
                        "instance": d.instance,
                        "x_px": kept[0],
                        "y_px": kept[1],
                    }
                )
    return rows


def _detection_rows(record: RunRecord) -> list[dict[str, Any]]:
    rows = []
    for image in record.images:
        for d in image.detections:
            kept = image.keypoint(d) or (math.nan, math.nan)
            rows.append(
                {
                    "image": image.name,
                    "feature": d.feature,
                    "instance": d.instance,
                    "detector": d.detector,
                    "x_px": d.x_px,
                    "y_px": d.y_px,
                    "score": d.score,
                    "checkpoint_hash": d.checkpoint_hash,
                    "action": d.answer.action if d.answer else "",
                    "kept_x_px": kept[0],
                    "kept_y_px": kept[1],
                }
            )
    return rows


def _answer_rows(record: RunRecord) -> list[dict[str, Any]]:
    rows = []
    for a in record.answers:
        q = a.question
        rows.append(
            {
                "run_uid": a.run_uid,
                "seq_num": a.seq_num,
                "time": a.time,
                "kind": q.get("kind", ""),
                "site": q.get("site", "") or record.provenance["site"],
                "stage": q.get("stage", "") or record.provenance["stage"],
                "message": q.get("message", ""),
                "problem": q.get("problem", ""),
                "proposal_x_m": q.get("proposal_x_m"),
                "proposal_y_m": q.get("proposal_y_m"),
                "action": a.action,
                "dx_m": a.dx_m,
                "dy_m": a.dy_m,
                "note": a.note,
                "image": a.image,
                "feature": a.feature,
            }
        )
    return rows


def _metadata_rows(record: RunRecord, with_labels: set[str]) -> list[dict[str, Any]]:
    p = record.provenance
    rows = []
    for image in record.images:
        site, stage = p["site"], p["stage"]
        judged = [d.answer for d in image.detections if d.answer is not None]
        if judged:  # the question names the site and stage it was asked at
            site = site or judged[0].question.get("site", "")
            stage = stage or judged[0].question.get("stage", "")
        rows.append(
            {
                "image": image.name,
                "beam": image.beam,
                "hfw_m": image.hfw_m,
                "pixel_size_m": image.pixel_size_m,
                "height_px": image.height_px,
                "width_px": image.width_px,
                "site": site,
                "stage": stage,
                "seed": p["seed"],
                "source": p["source"],
                "run_uid": p["run_uid"],
                "stream": image.stream,
                "data_key": image.data_key,
                "seq_num": image.seq_num,
                "time": image.time,
                "experiment": p["experiment"],
                "plan_name": p["plan_name"],
                "scan_id": p["scan_id"],
                "exit_status": p["exit_status"],
                "checkpoint_hash": image.checkpoint_hash or p["start_checkpoint_hash"],
                "mask_key": image.mask_key if image.name in with_labels else "",
                "review": image.review,
                "flag": image.flag,
            }
        )
    return rows
