"""The dataset command: layout, every class present, readable by training, clear errors."""

import csv
from pathlib import Path

import numpy as np
import pytest
import tifffile

from fibsem_ophyd.sim.groundtruth import CLASS_INDEX, STAGES
from fibsem_ophyd.sim.groundtruth.cli import main
from fibsem_ophyd.sim.groundtruth.dataset import DatasetRequest
from ml.layout import IMAGES_DIR, KEYPOINT_COLUMNS, LABELS_DIR, METADATA_COLUMNS
from ml.segmentation.dataset import SegmentationDataset, find_pairs


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("twin") / "set"
    args = ["--output", str(out), "--n-images", "8", "--seeds", "5", "--beams", "ion"]
    assert main([*args, "--width", "128", "--height", "96", "--quiet"]) == 0
    return out


def test_every_stage_and_class_appears(dataset: Path) -> None:
    pairs = find_pairs([dataset / IMAGES_DIR], [dataset / LABELS_DIR])
    assert len(pairs) == 8
    seen = set()
    for _, label in pairs:
        seen |= set(np.unique(tifffile.imread(label)).tolist())
    assert seen == set(CLASS_INDEX.values())
    with (dataset / "metadata.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0]) == METADATA_COLUMNS
    assert {r["stage"] for r in rows} == set(STAGES)
    for r in rows:
        assert float(r["pixel_size_m"]) == pytest.approx(float(r["hfw_m"]) / 128, rel=1e-5)
        assert (r["beam"], r["width_px"], r["height_px"], r["seed"]) == ("ion", "128", "96", "5")
        assert r["site"].startswith(("lamella_", "landing_post_"))


def test_keypoints_csv_names_written_images(dataset: Path) -> None:
    with (dataset / "keypoints.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0]) == KEYPOINT_COLUMNS
    names = {p.name for p in (dataset / IMAGES_DIR).iterdir()}
    assert {r["image"] for r in rows} == names  # every image has at least its centre
    assert sum(r["feature"] == "ImageCentre" for r in rows) == 8


def test_training_reads_the_dataset(dataset: Path) -> None:
    pairs = find_pairs([dataset / IMAGES_DIR], [dataset / LABELS_DIR])
    image, mask = SegmentationDataset(pairs, num_classes=len(CLASS_INDEX))[0]
    assert tuple(image.shape) == (1, 96, 128) and tuple(mask.shape) == (96, 128)
    assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n-images", "0", "--seeds", "1"], "n_images must be >= 1"),
        (["--n-images", "2", "--seeds", "x"], "--seeds 'x'"),
        (["--n-images", "2", "--seeds", "1", "--stages", "milling"], "--stages 'milling'"),
        (["--n-images", "2", "--seeds", "1", "--beams", "laser"], "--beams 'laser'"),
        (["--n-images", "2", "--seeds", "1", "--width", "8"], "width_px must be in 32..8192"),
    ],
)
def test_bad_arguments_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit):
        main(["--output", str(tmp_path / "out"), *args])
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written


def test_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        DatasetRequest(tmp_path, 1, (0,))


def test_a_view_records_each_lamella_length_and_its_foreshortening() -> None:
    """What the keypoint hints are taken from: the lamella's length is the distance
    between its true side midpoints, and a post's truth is foreshortened by the view's
    vertical scale (ion views are tilted: < 1)."""
    from fibsem_ophyd.sim.groundtruth.dataset import plan_views
    from fibsem_ophyd.sim.groundtruth.scene import TwinTruth

    request = DatasetRequest(output=Path("/nonexistent"), n_images=16, seeds=(7,))
    truth = TwinTruth(7)
    checked = 0
    scales = set()
    for spec in plan_views(request):
        view = truth.render(spec)
        scales.add((spec.beam, view.vertical_scale))
        points = {(f, i): (x, y) for f, i, x, y in view.keypoints}
        for instance, length_m in view.lamella_lengths_m.items():
            left, right = (
                points.get(("LamellaLeftEdge", instance)),
                points.get(("LamellaRightEdge", instance)),
            )
            if left and right:
                seen_px = float(np.hypot(right[0] - left[0], right[1] - left[1]))
                assert seen_px == pytest.approx(length_m / spec.pixel_m, rel=1e-6)
                checked += 1
    assert checked >= 4
    assert all(0.5 < s <= 1.0 for _, s in scales)
    assert any(beam == "ion" and s < 1.0 for beam, s in scales)
