"""Our layout -> nnU-Net v2 raw format: files, dataset.json, and label checks (no nnunetv2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from skimage import io

from ml.classes import class_table
from ml.segmentation.nnunet_convert import ConversionError, convert, main, read_label_map
from tests.ml.segmentation.conftest import write_dataset


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, Path]:
    return write_dataset(tmp_path / "data", 3)


def test_converts_to_nnunet_raw_layout(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    images, labels = dataset
    target = tmp_path / "nnUNet_raw" / "Dataset501_Lamella"
    result = convert(images, labels, target)
    assert result.cases == ("img_000", "img_001", "img_002")
    meta = json.loads((target / "dataset.json").read_text())
    assert meta["labels"] == {c.name: c.index for c in class_table().classes}
    assert meta["numTraining"] == 3 and meta["file_ending"] == ".tif"
    assert meta["channel_names"] == {"0": "EM"}
    assert sorted(p.name for p in (target / "imagesTr").iterdir()) == [
        "img_000_0000.tif", "img_001_0000.tif", "img_002_0000.tif",
    ]  # fmt: skip
    for case in result.cases:
        np.testing.assert_array_equal(
            tifffile.imread(target / "imagesTr" / f"{case}_0000.tif"),
            tifffile.imread(images / f"{case}.tif"),
        )
        np.testing.assert_array_equal(
            tifffile.imread(target / "labelsTr" / f"{case}.tif"),
            tifffile.imread(labels / f"{case}.tif"),
        )


def test_png_output_and_command_line(
    dataset: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images, labels = dataset
    label_map = tmp_path / "map.json"
    label_map.write_text(json.dumps({"background": 0, "lamella": 1, "needle": 2}))
    target = tmp_path / "Dataset002_Png"
    argv = ["--data_path", str(images), "--label_path", str(labels), "--nnunet_data_path",
            str(target), "--label_map", str(label_map), "--filetype", "png"]  # fmt: skip
    assert main(argv) == 0
    assert "3 cases" in capsys.readouterr().out
    meta = json.loads((target / "dataset.json").read_text())
    assert meta["labels"] == {"background": 0, "lamella": 1, "needle": 2}
    assert meta["file_ending"] == ".png"
    np.testing.assert_array_equal(
        io.imread(target / "labelsTr" / "img_001.png"), tifffile.imread(labels / "img_001.tif")
    )
    with pytest.raises(SystemExit) as exited:  # a second run does not overwrite silently
        main(argv)
    assert exited.value.code == 2 and "already holds a dataset" in capsys.readouterr().err


def _nothing_written(target: Path) -> bool:
    return not target.exists() or not any(target.rglob("*"))


def test_label_not_in_map_names_the_file(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    images, labels = dataset
    mask = tifffile.imread(labels / "img_002.tif")
    mask[0, 0] = 9
    tifffile.imwrite(labels / "img_002.tif", mask)
    target = tmp_path / "Dataset003_X"
    with pytest.raises(ConversionError, match=r"img_002\.tif: label values \[9\] are not"):
        convert(images, labels, target)
    assert _nothing_written(target), "checked before anything is written"


def test_shape_mismatch_names_the_file(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    images, labels = dataset
    tifffile.imwrite(labels / "img_001.tif", np.zeros((10, 10), np.uint8))
    with pytest.raises(ConversionError, match=r"img_001\.tif: shape \(10, 10\) differs"):
        convert(images, labels, tmp_path / "Dataset004_X")


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {"background": 0, "lamella": 1, "needle": 3},
            r"consecutive labels 0\.\.2, got \[0, 1, 3\]",
        ),
        ({"lamella": 0, "background": 1}, "index 0 must be named 'background'"),
        ([1, 2], "mapping of class name to index"),
    ],
)
def test_bad_label_map_is_refused(
    dataset: tuple[Path, Path], tmp_path: Path, mapping: object, message: str
) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(json.dumps(mapping))
    with pytest.raises(ConversionError, match=message):
        read_label_map(path)
    with pytest.raises(ConversionError, match=r"label_map: .*map\.yaml"):
        convert(*dataset, tmp_path / "Dataset005_X", label_map=path)


def test_dataset_folder_name_and_filetype_checked(
    dataset: tuple[Path, Path], tmp_path: Path
) -> None:
    with pytest.raises(ConversionError, match="DatasetNNN_Name"):
        convert(*dataset, tmp_path / "lamella")
    with pytest.raises(ConversionError, match="filetype"):
        convert(*dataset, tmp_path / "Dataset006_X", filetype="jpg")


def test_output_accepted_by_nnunet_when_installed(
    dataset: tuple[Path, Path], tmp_path: Path
) -> None:
    verify = pytest.importorskip(
        "nnunetv2.experiment_planning.verify_dataset_integrity",
        reason="nnunetv2 is not installed (optional extra 'nnunet')",
    )
    target = tmp_path / "Dataset007_Check"
    convert(*dataset, target)
    verify.verify_dataset_integrity(str(target), num_processes=1)
