"""Reduced frames: the image block-averaged, the mask the block majority, keypoints and
pixel size scaled; the dataset command writes them; bad factors are named."""

import csv
from pathlib import Path

import numpy as np
import pytest
import tifffile

from fibsem_ophyd.sim.groundtruth.cli import main
from fibsem_ophyd.sim.groundtruth.dataset import DatasetRequest
from fibsem_ophyd.sim.groundtruth.reduce import reduce_view
from fibsem_ophyd.sim.groundtruth.scene import LabelledImage


def _view() -> LabelledImage:
    image = np.arange(8 * 12, dtype=np.uint8).reshape(8, 12)
    mask = np.zeros((8, 12), np.uint8)
    mask[0:4, 0:3] = 2  # 12 of the 16 pixels of block (0, 0): majority manipulator
    mask[4:6, 4:8] = 1  # half of block (1, 1): a tie, the lower index wins
    return LabelledImage(image, mask, [("ImageCentre", 0, 5.5, 3.5)], "lamella_01")


def test_block_mean_majority_and_keypoints() -> None:
    small = reduce_view(_view(), 4)
    full = _view().image.astype(float)
    expected = full.reshape(2, 4, 3, 4).mean(axis=(1, 3))
    assert small.image.shape == (2, 3) and small.image.dtype == np.uint8
    assert np.abs(small.image - expected).max() <= 0.5
    assert small.mask.tolist() == [[2, 0, 0], [0, 0, 0]]
    assert small.keypoints == [("ImageCentre", 0, 1.0, 0.5)]  # the centre stays the centre
    view = _view()
    assert reduce_view(view, 1) is view


@pytest.mark.parametrize(("factor", "message"), [(0, "must be >= 1"), (5, "not divisible")])
def test_bad_factor_is_named(factor: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        reduce_view(_view(), factor)


def test_dataset_command_writes_reduced_frames(tmp_path: Path) -> None:
    out = tmp_path / "set"
    args = ["--output", str(out), "--n-images", "1", "--seeds", "7", "--stages", "landing"]
    assert main([*args, "--width", "256", "--height", "128", "--reduce", "4", "--quiet"]) == 0
    with (out / "metadata.csv").open() as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        assert (row["width_px"], row["height_px"]) == ("64", "32")
        assert float(row["pixel_size_m"]) == pytest.approx(float(row["hfw_m"]) / 64, rel=1e-5)
        image = tifffile.imread(out / "images" / row["image"])
        label = tifffile.imread(out / "labels" / row["image"])
        assert image.shape == label.shape == (32, 64)
        assert {1, 2, 3} <= set(np.unique(label).tolist())  # lamella, needle, post survive


def test_reduce_must_divide_the_frame(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="reduce 5 must divide the frame 1536x1024"):
        DatasetRequest(tmp_path / "out", 1, (0,), reduce=5)
    with pytest.raises(ValueError, match=r"reduce must be in 1\.\.16"):
        DatasetRequest(tmp_path / "out", 1, (0,), reduce=0)
