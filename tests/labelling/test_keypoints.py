"""The keypoints CSV (ml/layout.py columns): exact round trip, checks, napari points."""

from __future__ import annotations

import numpy as np
import pytest

from ml.layout import KEYPOINT_COLUMNS
from napari_plugins.labelling.keypoint_session import KeypointSession
from napari_plugins.labelling.keypoint_table import (
    KeypointRow,
    points_to_rows,
    read_keypoints_csv,
    rows_to_points,
    write_keypoints_csv,
)

ROWS = [
    KeypointRow("a.png", "NeedleTip", 0, 12.25, 7.0),
    KeypointRow("a.png", "LamellaCentre", 0, 0.1 + 0.2, 1e-17),
    KeypointRow("a.png", "LamellaCentre", 1, 59.5, 39.49999999999999),
    KeypointRow("b.tif", "LandingPost", 0, -0.5, 3.3333333333333335),
]


def test_write_read_write_is_byte_identical_and_values_exact(tmp_path):
    first, second = tmp_path / "one.csv", tmp_path / "two.csv"
    write_keypoints_csv(first, ROWS)
    rows = read_keypoints_csv(first)
    assert rows == ROWS  # floats compared exactly
    write_keypoints_csv(second, rows)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_text().splitlines()[0] == ",".join(KEYPOINT_COLUMNS)


def test_points_conversion_is_exact_and_numbers_repeated_features():
    data, features = rows_to_points(ROWS[:3])
    assert data[0].tolist() == [7.0, 12.25]  # napari (row, col) = (y_px, x_px)
    assert points_to_rows("a.png", data, features["feature"], features["instance"]) == ROWS[:3]
    # a new point of an existing feature comes with the layer's default instance 0
    renumbered = points_to_rows(
        "a.png", np.array([[1.0, 2.0], [3.0, 4.0]]), ["NeedleTip", "NeedleTip"], [0, 0]
    )
    assert [r.instance for r in renumbered] == [0, 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("image,feature,x_px,y_px\n", "header must be image,feature,instance,x_px,y_px"),
        ("image,feature,instance,x_px,y_px\na.png,Nose,0,1,2\n", r":2: unknown feature 'Nose'"),
        ("image,feature,instance,x_px,y_px\na.png,NeedleTip,0,nan,2\n", "must be finite"),
        ("image,feature,instance,x_px,y_px\na.png,NeedleTip,-1,1,2\n", "instance must be >= 0"),
        (
            "image,feature,instance,x_px,y_px\na.png,NeedleTip,0,1,2\na.png,NeedleTip,0,3,4\n",
            r":3: second row for image 'a.png', feature 'NeedleTip', instance 0",
        ),
    ],
)
def test_bad_csv_is_refused_naming_the_line(tmp_path, text, message):
    path = tmp_path / "k.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_keypoints_csv(path)


def test_session_from_empty_folder_then_reload(mixed_folder):
    session = KeypointSession(mixed_folder)
    assert session.points()[0].shape == (0, 2)
    session.go(1)
    session.set_points(np.array([[10.0, 20.5]]), ["NeedleTip"], [0])
    path = session.save()
    assert path == mixed_folder / "keypoints.csv"
    again = KeypointSession(mixed_folder)
    again.go(1)
    data, features = again.points()
    assert data.tolist() == [[10.0, 20.5]] and features["feature"] == ["NeedleTip"]
    assert read_keypoints_csv(path) == [KeypointRow("b.tif", "NeedleTip", 0, 20.5, 10.0)]


def test_session_keeps_rows_of_images_not_in_the_folder(mixed_folder):
    csv_path = mixed_folder / "keypoints.csv"
    write_keypoints_csv(csv_path, [*ROWS, KeypointRow("gone.tif", "ImageCentre", 0, 1.0, 2.0)])
    before = csv_path.read_bytes()
    session = KeypointSession(mixed_folder)
    session.save()
    assert csv_path.read_bytes() == before
    session.set_points(np.zeros((0, 2)), [], [])  # delete a.png's points
    session.save()
    names = {row.image for row in read_keypoints_csv(csv_path)}
    assert names == {"b.tif", "gone.tif"}
