"""Curation: train/test splits of a dataset, stratified by experiment and site.

Every stratum (by default each (experiment, site)) gives `test_fraction` of its images
to the test split (at least one when it has two or more), so every site is seen in
both splits and no site fills the test split alone. Within a stratum the supervisor's
verdicts are preferences, not the rule: accepted images are drawn into the test
quota first, then unreviewed ones, corrected ones last (they are the model's
mistakes, training examples first of all), each group shuffled with the seed.
Rejected images (the supervisor aborted: no trustworthy label) are left out. The
split depends only on the rows' content and the seed, not on their order.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ml.layout import (
    IMAGES_DIR,
    KEYPOINT_COLUMNS,
    KEYPOINTS_CSV,
    LABELS_DIR,
    METADATA_COLUMNS,
    METADATA_CSV,
)

from ._csv import append_rows, read_rows
from ._records import ACCEPTED, CORRECTED, REJECTED

SPLITS_CSV = "splits.csv"
SPLIT_COLUMNS = ("image", "split", "stratum", "review")
_PREFERENCE = {ACCEPTED: 0, "": 1, CORRECTED: 2}


class SplitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    test_fraction: float = Field(0.2, gt=0.0, lt=1.0, description="Share of each stratum")
    seed: int = Field(0, ge=0)
    strata: tuple[str, ...] = Field(
        ("experiment", "site"),
        min_length=1,
        description="metadata.csv columns that define a stratum",
    )
    prefer_flags: bool = Field(True, description="Draw accepted images into test first")


def _stratum_seed(seed: int, stratum: str) -> list[int]:
    digest = hashlib.sha256(stratum.encode()).digest()
    return [seed, int.from_bytes(digest[:8], "little")]


def _test_count(n: int, fraction: float) -> int:
    if n < 2:
        return 0
    return min(n - 1, max(1, math.floor(fraction * n + 0.5)))


def read_metadata(dataset_dir: str | Path) -> list[dict[str, str]]:
    root = Path(dataset_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder {root} does not exist")
    path = root / METADATA_CSV
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: not a dataset (ml/layout.py)")
    return read_rows(path)


def split(rows: list[dict[str, str]], config: SplitConfig) -> dict[str, tuple[str, str]]:
    """image -> (split, stratum) for every image not rejected."""
    if rows:
        missing = [c for c in config.strata if c not in rows[0]]
        if missing:
            raise ValueError(
                f"strata columns {missing} are not in metadata.csv (columns: {', '.join(rows[0])})"
            )
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if row.get("review", "") == REJECTED:
            continue
        groups["/".join(row[c] for c in config.strata)].append(row)
    result: dict[str, tuple[str, str]] = {}
    for stratum in sorted(groups):
        members = sorted(groups[stratum], key=lambda r: r["image"])
        rng = np.random.default_rng(_stratum_seed(config.seed, stratum))
        order = [members[i] for i in rng.permutation(len(members))]
        if config.prefer_flags:
            order.sort(key=lambda r: _PREFERENCE.get(r.get("review", ""), 1))  # stable
        n_test = _test_count(len(order), config.test_fraction)
        for i, row in enumerate(order):
            result[row["image"]] = ("test" if i < n_test else "train", stratum)
    return result


def curate(
    dataset_dir: str | Path, config: SplitConfig | None = None, output_dir: str | Path | None = None
) -> dict[str, tuple[str, str]]:
    """Write `splits.csv` into the dataset; with `output_dir`, also `train/` and `test/`
    there, each a dataset in the ml.layout layout (images hard-linked where possible)."""
    config = config or SplitConfig()
    root = Path(dataset_dir)
    rows = read_metadata(root)
    result = split(rows, config)
    review = {r["image"]: r.get("review", "") for r in rows}
    out = root / SPLITS_CSV
    out.unlink(missing_ok=True)
    append_rows(
        out,
        SPLIT_COLUMNS,
        [
            {"image": name, "split": s, "stratum": stratum, "review": review[name]}
            for name, (s, stratum) in sorted(result.items())
        ],
    )
    if output_dir is not None:
        _materialize(root, Path(output_dir), rows, result)
    return result


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _materialize(
    root: Path, output: Path, rows: list[dict[str, str]], result: dict[str, tuple[str, str]]
) -> None:
    if output.exists() and any(output.iterdir()):
        raise FileExistsError(f"output folder {output} is not empty")
    keypoints = read_rows(root / KEYPOINTS_CSV)
    for name in ("train", "test"):
        chosen = {image for image, (s, _) in result.items() if s == name}
        target = output / name
        target.mkdir(parents=True, exist_ok=True)
        for image in sorted(chosen):
            _link(root / IMAGES_DIR / image, target / IMAGES_DIR / image)
            label = root / LABELS_DIR / image
            if label.exists():
                _link(label, target / LABELS_DIR / image)
        columns = list(rows[0]) if rows else list(METADATA_COLUMNS)
        append_rows(target / METADATA_CSV, columns, [r for r in rows if r["image"] in chosen])
        kp_columns = list(keypoints[0]) if keypoints else list(KEYPOINT_COLUMNS)
        append_rows(
            target / KEYPOINTS_CSV, kp_columns, [k for k in keypoints if k["image"] in chosen]
        )
