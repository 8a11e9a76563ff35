"""Curation: train/test splits stratified by experiment and site, seeded, independent
of row order; the supervisor's verdicts are preferences within each stratum."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import tifffile

from ml.data_engine import SPLITS_CSV, SplitConfig, append_rows, curate, read_rows, split
from ml.data_engine.cli import main
from ml.layout import IMAGES_DIR, KEYPOINTS_CSV, LABELS_DIR, METADATA_COLUMNS, METADATA_CSV

# (experiment, site, images, of which corrected, accepted, rejected)
STRATA = [
    ("exp-A", "lamella_01", 10, 3, 4, 1),
    ("exp-A", "lamella_02", 5, 0, 5, 0),
    ("exp-B", "lamella_01", 20, 10, 0, 0),
    ("exp-B", "lamella_03", 1, 0, 1, 0),
]


def _rows() -> list[dict[str, str]]:
    rows = []
    for experiment, site, n, corrected, accepted, rejected in STRATA:
        reviews = ["corrected"] * corrected + ["accepted"] * accepted + ["rejected"] * rejected
        reviews += [""] * (n - len(reviews))
        for i, review in enumerate(reviews):
            name = f"{experiment}_{site}_{i:03d}.tif"
            flag = {"corrected": "train", "accepted": "test"}.get(review, "")
            rows.append(
                {
                    "image": name,
                    "experiment": experiment,
                    "site": site,
                    "review": review,
                    "flag": flag,
                }
            )
    return rows


def _write_dataset(root: Path, rows: list[dict[str, str]]) -> None:
    (root / IMAGES_DIR).mkdir(parents=True)
    (root / LABELS_DIR).mkdir()
    for i, row in enumerate(rows):
        tifffile.imwrite(root / IMAGES_DIR / row["image"], np.full((4, 6), i, np.uint8))
        if i % 2:
            tifffile.imwrite(root / LABELS_DIR / row["image"], np.ones((4, 6), np.uint8))
    full = [{c: "" for c in METADATA_COLUMNS} | r for r in rows]
    append_rows(root / METADATA_CSV, [*METADATA_COLUMNS, "experiment", "review", "flag"], full)
    kps = [
        {"image": r["image"], "feature": "LamellaCentre", "instance": 0, "x_px": 1, "y_px": 2}
        for r in rows
    ]
    append_rows(root / KEYPOINTS_CSV, ["image", "feature", "instance", "x_px", "y_px"], kps)


def test_every_stratum_gives_its_share_to_test():
    rows = _rows()
    result = split(rows, SplitConfig(test_fraction=0.2, seed=3))
    assert len(result) == len(rows) - 1  # the rejected image is left out
    tests = Counter(stratum for s, stratum in result.values() if s == "test")
    totals = Counter(stratum for _, stratum in result.values())
    assert totals == {
        "exp-A/lamella_01": 9,
        "exp-A/lamella_02": 5,
        "exp-B/lamella_01": 20,
        "exp-B/lamella_03": 1,
    }
    # round(0.2 n), at least one where a stratum has two or more; a single image trains
    assert tests == {"exp-A/lamella_01": 2, "exp-A/lamella_02": 1, "exp-B/lamella_01": 4}
    review = {r["image"]: r["review"] for r in rows}
    test_reviews = Counter(review[i] for i, (s, _) in result.items() if s == "test")
    # accepted first; exp-B/lamella_01 has none, so unreviewed images fill its share
    assert test_reviews == {"accepted": 3, "": 4}


def test_the_split_is_seeded_and_independent_of_row_order():
    rows = _rows()
    config = SplitConfig(seed=7, prefer_flags=False)
    first = split(rows, config)
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    assert split(shuffled, config) == first
    others = [split(rows, SplitConfig(seed=s, prefer_flags=False)) for s in range(1, 5)]
    assert any(o != first for o in others)
    # without preferences, corrected images reach the test split too
    review = {r["image"]: r["review"] for r in rows}
    assert {review[i] for i, (s, _) in first.items() if s == "test"} >= {"corrected", ""}


def test_curate_writes_splits_and_two_datasets(tmp_path):
    rows = _rows()
    root = tmp_path / "ds"
    _write_dataset(root, rows)
    result = curate(root, SplitConfig(seed=1), tmp_path / "split")
    written = {r["image"]: r["split"] for r in read_rows(root / SPLITS_CSV)}
    assert written == {image: s for image, (s, _) in result.items()}
    for name in ("train", "test"):
        folder = tmp_path / "split" / name
        chosen = {i for i, (s, _) in result.items() if s == name}
        assert {p.name for p in (folder / IMAGES_DIR).iterdir()} == chosen
        assert {r["image"] for r in read_rows(folder / METADATA_CSV)} == chosen
        assert {r["image"] for r in read_rows(folder / KEYPOINTS_CSV)} == chosen
        labels = {p.name for p in (folder / LABELS_DIR).iterdir()}
        assert labels == chosen & {p.name for p in (root / LABELS_DIR).iterdir()}
    with pytest.raises(FileExistsError, match="not empty"):
        curate(root, SplitConfig(seed=1), tmp_path / "split")


def test_curate_command_and_unknown_strata(tmp_path, capsys):
    root = tmp_path / "ds"
    _write_dataset(root, _rows())
    assert main(["curate", "--dataset", str(root), "--seed", "2", "--strata", "site"]) == 0
    assert "28 train, 7 test over 3 strata" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"strata columns \['operator'\] are not in"):
        curate(root, SplitConfig(strata=("site", "operator")))
