"""Segmentation labelling: open a folder, step through, paint, save; model-assisted and
SAM-assisted (the SAM group). Thin over ``napari_plugins.labelling.session``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qtpy.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ml.classes import class_table
from napari_plugins._qt.colormap import class_colormap
from napari_plugins._qt.common import PathRow, StatusLine, reported
from napari_plugins._qt.sam_panel import SamPanel
from napari_plugins.labelling.session import SegmentationSession

if TYPE_CHECKING:
    import napari

IMAGE_LAYER, LABELS_LAYER = "image", "labels"


class SegmentationLabellingWidget(QWidget):
    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.table = class_table()
        self.session: SegmentationSession | None = None
        self.status = StatusLine()

        self.folder_row = PathRow("image folder (or dataset root with images/)", folder=True)
        self.labels_row = PathRow("labels folder (default: labels/ beside the images)", folder=True)
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(self.open_folder)
        self.previous_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(+1))
        self.position = QLabel("no folder")
        self.class_box = QComboBox()
        for entry in self.table.classes:
            self.class_box.addItem(f"{entry.index}: {entry.name}", entry.index)
        self.class_box.setCurrentIndex(1)
        self.class_box.currentIndexChanged.connect(self._class_changed)
        self.save_button = QPushButton("Save labels")
        self.save_button.clicked.connect(self.save)

        self.model_row = PathRow("segmentation checkpoint (.pt) or ONNX file", folder=False)
        self.predict_button = QPushButton("Predict with model")
        self.predict_button.clicked.connect(self.predict_with_model)
        self.sam = SamPanel(self)

        layout = QVBoxLayout(self)
        layout.addWidget(self.folder_row)
        layout.addWidget(self.labels_row)
        layout.addWidget(self.open_button)
        navigation = QHBoxLayout()
        for item in (self.previous_button, self.position, self.next_button):
            navigation.addWidget(item)
        layout.addLayout(navigation)
        layout.addWidget(QLabel("Class"))
        layout.addWidget(self.class_box)
        layout.addWidget(self.save_button)
        model_group = QGroupBox("Model-assisted")
        model_layout = QVBoxLayout(model_group)
        model_layout.addWidget(self.model_row)
        model_layout.addWidget(self.predict_button)
        layout.addWidget(model_group)
        layout.addWidget(self.sam)
        layout.addWidget(self.status)
        layout.addStretch()

    # -- layers -------------------------------------------------------------------------
    @property
    def labels_layer(self) -> napari.layers.Labels:
        return self.viewer.layers[LABELS_LAYER]

    @property
    def class_name(self) -> str:
        return self.table.classes[self.class_box.currentData()].name

    def _show(self) -> None:
        assert self.session is not None
        session = self.session
        if IMAGE_LAYER in self.viewer.layers:
            self.viewer.layers[IMAGE_LAYER].data = session.image
            self.labels_layer.data = session.labels
        else:
            self.viewer.add_image(session.image, name=IMAGE_LAYER)
            self.viewer.add_labels(
                session.labels, name=LABELS_LAYER, colormap=class_colormap(self.table), opacity=0.5
            )
        self.viewer.layers[IMAGE_LAYER].reset_contrast_limits()
        self._class_changed()
        self.viewer.reset_view()
        self.position.setText(
            f"{session.index + 1}/{len(session.folder)}: {session.image_path.name}"
        )
        self.sam.image_changed()

    def _class_changed(self) -> None:
        if LABELS_LAYER in self.viewer.layers:
            self.labels_layer.selected_label = self.class_box.currentData()

    # -- actions ------------------------------------------------------------------------
    @reported
    def open_folder(self, *_: object) -> None:
        self.session = SegmentationSession.open(
            self.folder_row.text, self.table, self.labels_row.text or None
        )
        self._show()
        self.status.info(f"opened {len(self.session.folder)} images")

    def _require_session(self) -> SegmentationSession:
        if self.session is None:
            raise ValueError("open a folder first")
        return self.session

    @reported
    def step(self, delta: int) -> None:
        session = self._require_session()
        target = session.index + delta
        if not 0 <= target < len(session.folder):
            raise IndexError(f"no image {target + 1}: the folder has {len(session.folder)}")
        saved = ""
        if session.dirty:  # stepping on saves, so nothing painted is lost
            saved = f"saved {session.save(self.labels_layer.data).name}; "
        session.go(target)
        self._show()
        self.status.info(saved + f"image {target + 1}")

    @reported
    def save(self, *_: object) -> None:
        path = self._require_session().save(self.labels_layer.data)
        self.status.info(f"saved {path}")

    @reported
    def predict_with_model(self, *_: object) -> None:
        session = self._require_session()
        if not self.model_row.text:
            raise ValueError("choose a segmentation checkpoint (.pt) or ONNX file first")
        self.labels_layer.data = session.predict_with_model(
            self.model_row.text, self.labels_layer.data
        )
        self.status.info(f"predicted with {self.model_row.text}; correct and save")

    def closeEvent(self, event) -> None:  # Qt's method name
        self.sam.shutdown()
        super().closeEvent(event)
