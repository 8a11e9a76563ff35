"""A folder of mixed TIFF/PNG images and its label TIFFs."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_plugins.labelling.folder import LabelFolder


def test_steps_mixed_formats_and_sizes_and_saves_labels_by_stem(mixed_folder):
    folder = LabelFolder.open(mixed_folder)
    assert [p.name for p in folder.images] == ["a.png", "b.tif", "c.tiff"]
    shapes = [folder.read_image(i).shape for i in range(len(folder))]
    assert shapes == [(40, 60), (48, 32), (30, 30)]
    assert folder.read_labels(0, (40, 60)) is None  # nothing saved yet: explicit None

    labels = np.zeros((40, 60), np.uint8)
    labels[5:10, 5:20] = 3
    path = folder.write_labels(0, labels, num_classes=6)
    assert path == mixed_folder / "labels" / "a.tif"
    assert sorted(p.name for p in (mixed_folder / "labels").iterdir()) == ["a.tif"]
    np.testing.assert_array_equal(folder.read_labels(0, (40, 60)), labels)
    assert folder.label_path(2).name == "c.tif"


def test_dataset_layout_is_recognised(tmp_path, mixed_folder):
    root = tmp_path
    mixed_folder.rename(root / "images2")
    (root / "images2").rename(root / "images")
    folder = LabelFolder.open(root)
    assert folder.images_dir == root / "images" and folder.labels_dir == root / "labels"


def test_labels_can_live_in_another_folder(mixed_folder, tmp_path):
    folder = LabelFolder.open(mixed_folder, tmp_path / "elsewhere")
    folder.write_labels(1, np.ones((48, 32), np.uint8), num_classes=6)
    assert (tmp_path / "elsewhere" / "b.tif").is_file()
    assert not (mixed_folder / "labels").exists()


def test_refuses_two_images_with_one_stem(mixed_folder):
    tifffile.imwrite(mixed_folder / "a.tif", np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"a\.png and a\.tif share the stem 'a'"):
        LabelFolder.open(mixed_folder)


def test_refuses_bad_labels_before_writing(mixed_folder):
    folder = LabelFolder.open(mixed_folder)
    with pytest.raises(ValueError, match=r"do not fit image a\.png of shape \(40, 60\)"):
        folder.write_labels(0, np.zeros((40, 61), np.uint8), num_classes=6)
    bad = np.zeros((40, 60), np.uint8)
    bad[0, 0] = 6
    with pytest.raises(ValueError, match=r"class indices 0\.\.5, got 0\.\.6"):
        folder.write_labels(0, bad, num_classes=6)
    assert not (mixed_folder / "labels").exists()


def test_reading_labels_of_the_wrong_shape_names_the_file(mixed_folder):
    folder = LabelFolder.open(mixed_folder)
    (mixed_folder / "labels").mkdir()
    tifffile.imwrite(mixed_folder / "labels" / "b.tif", np.zeros((5, 5), np.uint8))
    with pytest.raises(ValueError, match=r"b\.tif: labels of shape \(5, 5\) do not fit"):
        folder.read_labels(1, (48, 32))


def test_empty_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"no \.tif, \.tiff or \.png images"):
        LabelFolder.open(tmp_path)
