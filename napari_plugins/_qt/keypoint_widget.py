"""Keypoint labelling: one napari Points layer per image, a feature per point; add, move
and delete with napari's point tools; save to the keypoints CSV of ``ml/layout.py``.
Thin over ``napari_plugins.labelling.keypoint_session``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ml.layout import FEATURES
from napari_plugins._qt.common import PathRow, StatusLine, reported
from napari_plugins.labelling.keypoint_session import KeypointSession

if TYPE_CHECKING:
    import napari

IMAGE_LAYER, POINTS_LAYER = "keypoint image", "keypoints"
# one fixed colour per feature (FEATURES order), so a feature looks the same on every image
FEATURE_COLOURS = np.array(
    [
        [1.0, 0.3, 0.3, 1.0],
        [0.3, 1.0, 0.3, 1.0],
        [0.3, 0.6, 1.0, 1.0],
        [1.0, 0.8, 0.2, 1.0],
        [0.8, 0.3, 1.0, 1.0],
        [0.2, 1.0, 1.0, 1.0],
        [1.0, 0.5, 0.0, 1.0],
        [1.0, 1.0, 1.0, 1.0],
        [0.6, 0.4, 0.2, 1.0],
        [1.0, 0.4, 0.8, 1.0],
    ]
)


class KeypointLabellingWidget(QWidget):
    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.session: KeypointSession | None = None
        self.status = StatusLine()
        self.folder_row = PathRow("image folder (or dataset root with images/)", folder=True)
        self.csv_row = PathRow("keypoints CSV (default <folder>/keypoints.csv)", folder=False)
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(self.open_folder)
        self.previous_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(+1))
        self.position = QLabel("no folder")
        self.feature_box = QComboBox()
        self.feature_box.addItems(FEATURES)
        self.feature_box.currentTextChanged.connect(self._feature_changed)
        self.save_button = QPushButton("Save keypoints")
        self.save_button.clicked.connect(self.save)

        layout = QVBoxLayout(self)
        layout.addWidget(self.folder_row)
        layout.addWidget(self.csv_row)
        layout.addWidget(self.open_button)
        navigation = QHBoxLayout()
        for item in (self.previous_button, self.position, self.next_button):
            navigation.addWidget(item)
        layout.addLayout(navigation)
        layout.addWidget(QLabel("Feature (new points; also sets the selected points')"))
        layout.addWidget(self.feature_box)
        layout.addWidget(self.save_button)
        layout.addWidget(self.status)
        layout.addStretch()

    @property
    def points_layer(self) -> napari.layers.Points:
        return self.viewer.layers[POINTS_LAYER]

    def _show(self, image: np.ndarray) -> None:
        assert self.session is not None
        data, features = self.session.points()
        if IMAGE_LAYER in self.viewer.layers:
            self.viewer.layers[IMAGE_LAYER].data = image
            layer = self.points_layer
            layer.data = data
            layer.features = features
        else:
            self.viewer.add_image(image, name=IMAGE_LAYER)
            layer = self.viewer.add_points(
                data,
                name=POINTS_LAYER,
                features=features,
                size=8,
                text={
                    "string": "{feature}",
                    "size": 9,
                    "color": "white",
                    "anchor": "upper_left",
                },
            )
            layer.events.data.connect(self._recolour)
        self._recolour()
        self.viewer.layers[IMAGE_LAYER].reset_contrast_limits()
        self._feature_changed(self.feature_box.currentText())
        self.viewer.layers.selection.active = layer
        layer.mode = "add"
        self.viewer.reset_view()
        self.position.setText(
            f"{self.session.index + 1}/{len(self.session)}: {self.session.image_name}"
        )

    def _feature_changed(self, name: str) -> None:
        if POINTS_LAYER not in self.viewer.layers:
            return
        layer = self.points_layer
        layer.feature_defaults["feature"] = name
        layer.feature_defaults["instance"] = 0
        selected = sorted(layer.selected_data)
        if selected and layer.mode == "select":  # relabel the points the user selected
            layer.features.loc[selected, "feature"] = name
            layer.refresh_text()
            self._recolour()

    def _recolour(self, *_: object) -> None:
        layer = self.points_layer
        if len(layer.data):
            indices = [FEATURES.index(f) % len(FEATURE_COLOURS) for f in layer.features["feature"]]
            layer.face_color = FEATURE_COLOURS[indices]

    def _sync(self) -> None:
        assert self.session is not None
        layer = self.points_layer
        self.session.set_points(
            np.asarray(layer.data),
            list(layer.features["feature"]),
            [int(i) for i in layer.features["instance"]],
        )

    @reported
    def open_folder(self, *_: object) -> None:
        self.session = KeypointSession(self.folder_row.text, self.csv_row.text or None)
        self._show(self.session.go(0))
        self.status.info(f"opened {len(self.session)} images; CSV {self.session.csv_path}")

    def _require_session(self) -> KeypointSession:
        if self.session is None:
            raise ValueError("open a folder first")
        return self.session

    @reported
    def step(self, delta: int) -> None:
        session = self._require_session()
        target = session.index + delta
        if not 0 <= target < len(session):
            raise IndexError(f"no image {target + 1}: the folder has {len(session)}")
        self._sync()
        self._show(session.go(target))

    @reported
    def save(self, *_: object) -> None:
        session = self._require_session()
        self._sync()
        path = session.save()
        self.status.info(f"saved {len(session.rows())} keypoints to {path}")
