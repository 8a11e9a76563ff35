"""Write labelled twin views as a dataset in the layout training reads (ml/layout.py):
images/*.tif, labels/*.tif, keypoints.csv, metadata.csv."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from .labels import (
    IMAGES_DIR,
    KEYPOINT_COLUMNS,
    KEYPOINTS_CSV,
    LABELS_DIR,
    METADATA_COLUMNS,
    METADATA_CSV,
    STAGES,
)
from .reduce import reduce_view
from .scene import HFW_RANGE_M, TwinTruth, ViewSpec

BEAMS = ("electron", "ion")


@dataclass(frozen=True)
class DatasetRequest:
    """What to generate; checked before anything is written."""

    output: Path
    n_images: int
    seeds: tuple[int, ...]
    stages: tuple[str, ...] = STAGES
    beams: tuple[str, ...] = BEAMS
    width_px: int = 1536
    height_px: int = 1024
    overwrite: bool = False
    reduce: int = 1
    """Render at width_px x height_px, write at 1/reduce of that (area-averaged image,
    majority-class mask): the frames a model run on reduced full frames is trained on."""

    def __post_init__(self) -> None:
        if self.n_images < 1:
            raise ValueError(f"n_images must be >= 1, got {self.n_images}")
        if not self.seeds:
            raise ValueError("seeds: give at least one twin seed")
        if any(s < 0 for s in self.seeds):
            raise ValueError(f"seeds must be >= 0, got {list(self.seeds)}")
        bad = [s for s in self.stages if s not in STAGES]
        if bad or not self.stages:
            raise ValueError(f"stages {bad or '(none)'} unknown; choose from {STAGES}")
        bad = [b for b in self.beams if b not in BEAMS]
        if bad or not self.beams:
            raise ValueError(f"beams {bad or '(none)'} unknown; choose from {BEAMS}")
        for name, value in (("width_px", self.width_px), ("height_px", self.height_px)):
            if not 32 <= value <= 8192:
                raise ValueError(f"{name} must be in 32..8192, got {value}")
        if not 1 <= self.reduce <= 16:
            raise ValueError(f"reduce must be in 1..16, got {self.reduce}")
        if self.width_px % self.reduce or self.height_px % self.reduce:
            raise ValueError(
                f"reduce {self.reduce} must divide the frame {self.width_px}x{self.height_px} px"
            )
        if self.output.exists() and not self.output.is_dir():
            raise ValueError(f"output {self.output} exists and is not a folder")
        if self.output.is_dir() and any(self.output.iterdir()) and not self.overwrite:
            raise ValueError(f"output {self.output} is not empty (pass overwrite to replace)")


def plan_views(request: DatasetRequest) -> list[ViewSpec]:
    """The views to render: seeds in turn (each seed's tiles are reused), stages and
    beams cycled, hfw drawn (log-uniform) in each stage's range. The field of view does
    not depend on the frame size: a 384x256 frame is a 1536x1024 one at 4x the pixel size."""
    rng = np.random.default_rng(list(request.seeds))
    views = []
    per_seed = -(-request.n_images // len(request.seeds))
    for i in range(request.n_images):
        seed = request.seeds[min(i // per_seed, len(request.seeds) - 1)]
        stage = request.stages[i % len(request.stages)]
        beam = request.beams[(i // len(request.stages)) % len(request.beams)]
        lo, hi = HFW_RANGE_M[stage]
        hfw = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        views.append(
            ViewSpec(
                seed,
                stage,
                beam,
                hfw,
                request.width_px,
                request.height_px,
                int(rng.integers(0, 1000)),
                int(rng.integers(0, 2**31)),
            )
        )
    return views


def write_dataset(
    request: DatasetRequest, progress: Callable[[int, int], None] | None = None
) -> list[str]:
    """Render and write every view; returns the image file names."""
    views = plan_views(request)
    images_dir, labels_dir = request.output / IMAGES_DIR, request.output / LABELS_DIR
    images_dir.mkdir(parents=True, exist_ok=True)
    labels_dir.mkdir(parents=True, exist_ok=True)
    truths: dict[int, TwinTruth] = {}
    meta_rows: list[Sequence[object]] = []
    kp_rows: list[Sequence[object]] = []
    names = []
    for i, spec in enumerate(views):
        if spec.seed not in truths:
            truths.clear()  # one specimen at a time keeps the tile cache small
            truths[spec.seed] = TwinTruth(spec.seed)
        view = reduce_view(truths[spec.seed].render(spec), request.reduce)
        name = f"twin_s{spec.seed:04d}_{i:05d}_{spec.stage}_{spec.beam}.tif"
        tifffile.imwrite(images_dir / name, view.image)
        tifffile.imwrite(labels_dir / name, view.mask)
        meta_rows.append(
            (
                name,
                spec.beam,
                f"{spec.hfw_m:.6e}",
                f"{spec.pixel_m * request.reduce:.6e}",
                spec.height_px // request.reduce,
                spec.width_px // request.reduce,
                view.site,
                spec.stage,
                spec.seed,
                "twin",
            )
        )
        kp_rows += [(name, f, k, f"{x:.3f}", f"{y:.3f}") for f, k, x, y in view.keypoints]
        names.append(name)
        if progress is not None:
            progress(i + 1, len(views))
    _write_csv(request.output / METADATA_CSV, METADATA_COLUMNS, meta_rows)
    _write_csv(request.output / KEYPOINTS_CSV, KEYPOINT_COLUMNS, kp_rows)
    return names


def _write_csv(path: Path, columns: Sequence[str], rows: list[Sequence[object]]) -> None:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(rows)
