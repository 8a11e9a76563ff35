"""The keypoint labelling widget driven as a user would (napari under Xvfb)."""

from __future__ import annotations

import numpy as np

from ml.layout import FEATURES
from napari_plugins._qt.keypoint_widget import FEATURE_COLOURS, KeypointLabellingWidget
from napari_plugins.labelling.keypoint_table import KeypointRow, read_keypoints_csv

from .qt_support import save_screenshot


def drag(layer, index: int, to_yx: tuple[float, float]) -> None:
    """Select a point and drag it, as napari's select-mode mouse drag does."""
    layer.selected_data = {index}
    layer._move({index}, layer.data[index].copy())  # press on the point
    layer._move({index}, np.array(to_yx))  # release at the target
    layer._drag_start = None


def test_add_move_delete_save_and_reload(viewer, mixed_folder, tmp_path):
    widget = KeypointLabellingWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Keypoint labelling")
    widget.folder_row.edit.setText(str(mixed_folder))
    widget.open_button.click()
    layer = viewer.layers["keypoints"]
    assert len(layer.data) == 0 and layer.mode == "add"

    widget.feature_box.setCurrentText("NeedleTip")
    layer.add([10.0, 20.0])
    widget.feature_box.setCurrentText("LamellaCentre")
    layer.add([[30.5, 40.25], [5.0, 5.0]])
    drag(layer, 1, (31.0, 41.5))
    layer.selected_data = {2}
    layer.remove_selected()  # the delete key
    np.testing.assert_allclose(
        layer.face_color,
        FEATURE_COLOURS[[FEATURES.index("NeedleTip"), FEATURES.index("LamellaCentre")]],
    )
    widget.next_button.click()
    layer.add([3.0, 4.0])  # b.tif, feature still LamellaCentre
    widget.save_button.click()

    csv_path = mixed_folder / "keypoints.csv"
    assert read_keypoints_csv(csv_path) == [
        KeypointRow("a.png", "NeedleTip", 0, 20.0, 10.0),
        KeypointRow("a.png", "LamellaCentre", 0, 41.5, 31.0),
        KeypointRow("b.tif", "LamellaCentre", 0, 4.0, 3.0),
    ]
    save_screenshot(viewer, widget, "keypoint_labelling", tmp_path)

    # a second session from the CSV shows the same points and saves the same bytes
    before = csv_path.read_bytes()
    again = KeypointLabellingWidget(viewer)
    again.folder_row.edit.setText(str(mixed_folder))
    again.open_button.click()
    assert viewer.layers["keypoints"].data.tolist() == [[10.0, 20.0], [31.0, 41.5]]
    assert list(viewer.layers["keypoints"].features["feature"]) == ["NeedleTip", "LamellaCentre"]
    again.save_button.click()
    assert csv_path.read_bytes() == before
    again.close()
