"""Malformed files a user hands the project: one clear error naming the file and the key
(or line and column), before anything runs. Checkpoint and ONNX payloads are tested
with ml/segmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from fibsem_ophyd.config import ConfigError, load_config
from fibsem_ophyd.milling import default_protocol, load_protocol
from fibsem_ophyd.milling.protocol import ProtocolError, protocol_to_yaml
from ml.evaluation.keypoint_data import DataError, read_keypoints
from ml.segmentation.dataset import SegmentationDataset, find_pairs


def _one_error(exc: BaseException, *parts: str) -> None:
    text = str(exc)
    for part in parts:
        assert part in text, f"{part!r} not in {text!r}"


def test_protocol_with_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "protocol.yaml"
    path.write_text("name: x\nstages: [\n")
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    _one_error(info.value, str(path), "line 3")


def test_protocol_with_a_bad_value_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "protocol.yaml"
    text = protocol_to_yaml(default_protocol()).replace(
        "alignment_hfw_m:", "alignment_hfw_m: -3 #", 1
    )
    path.write_text(text)
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    _one_error(info.value, str(path), "stages.setup.alignment_hfw_m", "must be > 0")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("stage:\n  shuttle_pre_tilt_deg: lots\n", "stage.shuttle_pre_tilt_deg"),
        ("stage:\n  no_such_key: 1\n", "stage.no_such_key"),
        ("- a list\n", "top level"),
        (b"\xff\xfe\x00binary", ""),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, text, key: str) -> None:
    path = tmp_path / "microscope.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    _one_error(info.value, str(path), key)


@pytest.mark.parametrize(
    ("rows", "where"),
    [
        ("image,feature,instance,x_px,y_px\na.tif,NeedleTip,0,12,abc\n", "line 2: column 'y_px'"),
        ("image,feature,x_px\na.tif,NeedleTip,1\n", "instance"),
        ("image,feature,instance,x_px,y_px\na.tif,NeedleTip,0,1,nan\n", "column 'y_px'"),
    ],
)
def test_keypoint_csv_errors_name_file_line_and_column(tmp_path: Path, rows: str, where) -> None:
    path = tmp_path / "keypoints.csv"
    path.write_text(rows)
    with pytest.raises(DataError) as info:
        read_keypoints(path)
    _one_error(info.value, str(path), where)


def test_dataset_folder_errors_name_the_file(tmp_path: Path) -> None:
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    tifffile.imwrite(images / "a.tif", np.zeros((8, 8), np.uint8))
    with pytest.raises(FileNotFoundError) as info:
        find_pairs([images], [labels])
    _one_error(info.value, str(images / "a.tif"), str(labels))
    (labels / "a.tif").write_bytes(b"not a tiff at all")
    dataset = SegmentationDataset(find_pairs([images], [labels]), num_classes=3)
    with pytest.raises(ValueError) as info:
        dataset.read(0)
    _one_error(info.value, str(labels / "a.tif"), "not a readable TIFF")
    tifffile.imwrite(labels / "a.tif", np.full((8, 8), 7, np.uint8))
    with pytest.raises(ValueError) as info:
        dataset.read(0)
    _one_error(info.value, str(labels / "a.tif"), "outside 0..2")
    with pytest.raises(FileNotFoundError) as info:
        find_pairs([tmp_path / "nowhere"], [labels])
    _one_error(info.value, "data_paths", str(tmp_path / "nowhere"))
