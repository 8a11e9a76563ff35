"""The segmentation labelling widget driven as a user would (napari under Xvfb)."""

from __future__ import annotations

import json

import numpy as np
import tifffile

from napari_plugins._qt.sam_panel import BOX_LAYER, POINTS_LAYER, PREVIEW_LAYER
from napari_plugins._qt.segmentation_widget import SegmentationLabellingWidget

from .conftest import TINY_IMAGE_SIZE_PX, TINY_TINYVIT
from .qt_support import save_screenshot
from .test_session import random_checkpoint


def open_widget(viewer, folder) -> SegmentationLabellingWidget:
    widget = SegmentationLabellingWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Segmentation labelling")
    widget.folder_row.edit.setText(str(folder))
    widget.open_button.click()
    return widget


def test_paint_save_step_reload_and_model_assist(viewer, mixed_folder, tmp_path):
    widget = open_widget(viewer, mixed_folder)
    labels = viewer.layers["labels"]
    assert labels.data.shape == (40, 60) and widget.position.text() == "1/3: a.png"
    widget.class_box.setCurrentIndex(2)  # manipulator
    assert labels.selected_label == 2 and widget.class_box.currentText() == "2: manipulator"
    np.testing.assert_allclose(
        labels.colormap.map(np.array([2]))[0, :3], [64 / 255, 200 / 255, 64 / 255]
    )
    labels.brush_size = 5
    labels.paint((20, 30), labels.selected_label)  # one brush stroke
    painted = labels.data.copy()
    assert (painted == 2).sum() > 5
    widget.next_button.click()  # stepping on saves
    assert (mixed_folder / "labels" / "a.tif").is_file()
    assert not (mixed_folder / "labels" / "a.png.tif").exists()
    assert labels.data.shape == (48, 32) and not labels.data.any()
    widget.previous_button.click()
    np.testing.assert_array_equal(labels.data, painted)

    widget.predict_button.click()
    assert "choose a segmentation checkpoint" in widget.status.text()
    widget.model_row.edit.setText(str(random_checkpoint(tmp_path / "model.pt")))
    widget.predict_button.click()
    assert "predicted with" in widget.status.text()
    labels.paint((5, 5), 1)  # the user's correction
    widget.save_button.click()
    np.testing.assert_array_equal(tifffile.imread(mixed_folder / "labels" / "a.tif"), labels.data)
    steps = json.loads((mixed_folder / "labels" / "a.json").read_text())["steps"]
    assert [s["source"] for s in steps] == ["manual", "model", "manual"]
    save_screenshot(viewer, widget, "segmentation_labelling", tmp_path)


def test_sam_prompts_preview_and_class_aware_commit(viewer, mixed_folder, tmp_path):
    widget = open_widget(viewer, mixed_folder)
    no_weights = tmp_path / "none.yaml"
    no_weights.write_text("backend: vit_b\n")
    widget.sam.config_row.edit.setText(str(no_weights))
    widget.sam.start_button.click()
    assert "sam_vit_b_01ec64.pth" in widget.status.text() and "checkpoint:" in widget.status.text()

    config = tmp_path / "sam.yaml"
    config.write_text(
        f"backend: mobile_sam\nrandom_weights: true\nimage_size_px: {TINY_IMAGE_SIZE_PX}\n"
        f"cache_dir: {tmp_path / 'cache'}\nencoder: {TINY_TINYVIT.model_dump_json()}\n"
    )
    widget.sam.config_row.edit.setText(str(config))
    widget.sam.start_button.click()
    assert widget.status.text().startswith("SAM ready"), widget.status.text()
    labels = viewer.layers["labels"]
    labels.data[:, :10] = 3  # landing_post painted by hand before SAM
    engine = widget.sam.engine
    decoded = []
    predict = engine.predict
    engine.predict = lambda *args, **kwargs: decoded.append(1) or predict(*args, **kwargs)
    viewer.layers[POINTS_LAYER].add([20.0, 25.0])  # a click in add mode
    assert widget.sam.candidate.maximum() == 3  # one point is ambiguous: three candidates
    viewer.layers[POINTS_LAYER].add([22.0, 28.0])
    assert len(decoded) == 2  # one decode per click, on the finished edit
    # the second point refines the shown mask (SAM's previous-mask input): one candidate
    assert widget.sam.prompts().refines_previous and widget.sam.candidate.maximum() == 1
    viewer.layers[BOX_LAYER].add_rectangles(np.array([[5.0, 2.0], [35.0, 50.0]]))
    preview = viewer.layers[PREVIEW_LAYER].data
    assert preview.shape == (40, 60)
    assert widget.sam.candidate.maximum() == 3 and not widget.sam.prompts().refines_previous
    chosen = widget.sam.result.mask(widget.sam.candidate.value() - 1)
    np.testing.assert_array_equal(preview > 0, chosen)

    widget.sam.commit_button.click()
    assert widget.status.text().startswith("committed"), widget.status.text()
    assert (labels.data[:, :10] == 3).all()  # not overwritten
    np.testing.assert_array_equal(labels.data[:, 10:] == 1, chosen[:, 10:])
    assert len(viewer.layers[POINTS_LAYER].data) == 0  # prompts cleared for the next object
    # refine the committed lamella with it as a mask prompt and a negative point
    widget.sam.mask_prompt_button.click()
    assert widget.status.text() == "mask prompt: the lamella labels"
    widget.sam.negative.setChecked(True)
    viewer.layers[POINTS_LAYER].add([30.0, 40.0])
    prompts = widget.sam.prompts()
    assert prompts.mask_source == "labels:lamella" and prompts.points[0].positive is False
    assert widget.sam.result is not None and viewer.layers[PREVIEW_LAYER].data.shape == (40, 60)
    widget.sam.clear_button.click()
    widget.save_button.click()
    steps = json.loads((mixed_folder / "labels" / "a.json").read_text())["steps"]
    assert steps[-1]["source"] == "sam" and steps[-1]["prompts"]["box"]["x1_px"] == 50.0
    # the next images were embedded in the background, into the disk cache
    for index in (1, 2):
        widget.sam.prefetcher.job(str(widget.session.folder.images[index])).result(timeout=60)
        assert engine.cached(widget.session.folder.read_image(index)) is not None
    save_screenshot(viewer, widget, "sam_labelling", tmp_path)
    widget.close()
