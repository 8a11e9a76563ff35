"""The SAM group of the segmentation widget: prompts as napari layers, a live preview,
candidate choice and a class-aware commit. Embeddings come from a background worker
(current image first, then the next ones) through the engine's disk cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from napari_plugins._qt.colormap import class_colormap
from napari_plugins._qt.common import PathRow, reported
from napari_plugins.labelling.sam.config import default_config_path, read_sam_config
from napari_plugins.labelling.sam.prompts import BoxPrompt, PointPrompt, SamPrompts

if TYPE_CHECKING:
    import torch

    from napari_plugins._qt.segmentation_widget import SegmentationLabellingWidget
    from napari_plugins.labelling.sam.engine import SamEngine, SamMasks
    from napari_plugins.labelling.sam.prefetch import EmbeddingPrefetcher

POINTS_LAYER, BOX_LAYER, PREVIEW_LAYER = "SAM points", "SAM box", "SAM preview"
PENDING_ACTIONS = frozenset({"adding", "removing", "changing"})
POSITIVE_RGBA, NEGATIVE_RGBA = (0.2, 1.0, 0.2, 1.0), (1.0, 0.2, 0.2, 1.0)


class SamPanel(QGroupBox):
    def __init__(self, owner: SegmentationLabellingWidget) -> None:
        super().__init__("SAM-assisted")
        self.owner = owner
        self.engine: SamEngine | None = None
        self.prefetcher: EmbeddingPrefetcher | None = None
        self.result: SamMasks | None = None
        self._mask_prompt: np.ndarray | None = None
        self._previous: torch.Tensor | None = None
        self._mask_source: str | None = None

        self.config_row = PathRow(f"SAM config (default {default_config_path()})", folder=False)
        self.start_button = QPushButton("Start SAM")
        self.start_button.clicked.connect(self.start)
        self.positive = QRadioButton("positive points")
        self.negative = QRadioButton("negative points")
        self.positive.setChecked(True)
        self.positive.toggled.connect(self._point_kind_changed)
        self.candidate = QSpinBox()
        self.candidate.setRange(1, 3)
        self.candidate.valueChanged.connect(self._show_candidate)
        self.score = QLabel("")
        self.mask_prompt_button = QPushButton("Use this class's labels as mask prompt")
        self.mask_prompt_button.clicked.connect(self.use_class_as_mask_prompt)
        self.overwrite = QCheckBox("overwrite other classes")
        self.commit_button = QPushButton("Commit mask")
        self.commit_button.clicked.connect(self.commit)
        self.clear_button = QPushButton("Clear prompts")
        self.clear_button.clicked.connect(self.clear_prompts)

        layout = QVBoxLayout(self)
        layout.addWidget(self.config_row)
        layout.addWidget(self.start_button)
        kinds = QHBoxLayout()
        kinds.addWidget(self.positive)
        kinds.addWidget(self.negative)
        layout.addLayout(kinds)
        choice = QHBoxLayout()
        choice.addWidget(QLabel("candidate"))
        choice.addWidget(self.candidate)
        choice.addWidget(self.score)
        layout.addLayout(choice)
        layout.addWidget(self.mask_prompt_button)
        layout.addWidget(self.overwrite)
        buttons = QHBoxLayout()
        buttons.addWidget(self.commit_button)
        buttons.addWidget(self.clear_button)
        layout.addLayout(buttons)

    @property
    def status(self):
        return self.owner.status

    @property
    def viewer(self):
        return self.owner.viewer

    # -- start and embeddings -----------------------------------------------------------
    @reported
    def start(self, *_: object) -> None:
        from napari_plugins.labelling.sam.engine import SamEngine
        from napari_plugins.labelling.sam.prefetch import EmbeddingPrefetcher

        source = self.config_row.text or str(default_config_path())
        engine = SamEngine(read_sam_config(source), source)
        self.shutdown()
        self.engine = engine
        self.prefetcher = EmbeddingPrefetcher(lambda load: engine.embed(load()))
        self._add_prompt_layers()
        self.image_changed()
        self.status.info(f"SAM ready: {engine.backend} ({engine.model_id})")

    def _add_prompt_layers(self) -> None:
        layers = self.viewer.layers
        if POINTS_LAYER not in layers:
            points = self.viewer.add_points(
                ndim=2, name=POINTS_LAYER, size=6, features={"positive": np.array([], bool)}
            )
            points.feature_defaults["positive"] = self.positive.isChecked()
            points.events.data.connect(self._prompts_changed)
            box = self.viewer.add_shapes(
                ndim=2, name=BOX_LAYER, edge_color="yellow", face_color=[0, 0, 0, 0], edge_width=2
            )
            box.events.data.connect(self._prompts_changed)
            self.viewer.add_labels(
                np.zeros((1, 1), np.uint8),
                name=PREVIEW_LAYER,
                opacity=0.8,
                colormap=class_colormap(self.owner.table),
            )
        layers.selection.active = layers[POINTS_LAYER]
        layers[POINTS_LAYER].mode = "add"

    def image_changed(self) -> None:
        """A new image is shown: clear prompts; embed it (first) and the next ones."""
        if self.engine is None or self.prefetcher is None or self.owner.session is None:
            return
        session = self.owner.session
        self.clear_prompts()
        paths = session.folder.images
        upcoming = range(
            session.index, min(len(paths), session.index + 1 + self.engine.config.prefetch_images)
        )
        for i in upcoming:
            self.prefetcher.submit(str(paths[i]), lambda i=i: session.folder.read_image(i))
        self.prefetcher.forget(keep={str(paths[i]) for i in upcoming})

    def _embedding(self):
        assert self.prefetcher is not None and self.owner.session is not None
        session = self.owner.session
        key = str(session.image_path)
        job = self.prefetcher.job(key) or self.prefetcher.submit(key, lambda: session.image)
        return job.result()  # already done when prefetched; else the first prompt waits

    # -- prompts ------------------------------------------------------------------------
    def _point_kind_changed(self) -> None:
        if POINTS_LAYER in self.viewer.layers:
            self.viewer.layers[POINTS_LAYER].feature_defaults["positive"] = (
                self.positive.isChecked()
            )

    def prompts(self) -> SamPrompts:
        points_layer = self.viewer.layers[POINTS_LAYER]
        positive = points_layer.features["positive"].to_numpy(bool)
        points = tuple(
            PointPrompt(x_px=float(x), y_px=float(y), positive=bool(p))
            for (y, x), p in zip(points_layer.data, positive, strict=True)
        )
        box = None
        shapes = self.viewer.layers[BOX_LAYER].data
        if shapes:
            corners = np.asarray(shapes[-1])  # the latest box; (row, col) vertices
            (y0, x0), (y1, x1) = corners.min(axis=0), corners.max(axis=0)
            box = BoxPrompt(x0_px=float(x0), y0_px=float(y0), x1_px=float(x1), y1_px=float(y1))
        return SamPrompts(
            points=points,
            box=box,
            mask_source=self._mask_source,
            refines_previous=self._previous is not None,
        )

    def _colour_points(self) -> None:
        layer = self.viewer.layers[POINTS_LAYER]
        if len(layer.data):
            positive = layer.features["positive"].to_numpy(bool)
            layer.face_color = np.where(positive[:, None], POSITIVE_RGBA, NEGATIVE_RGBA)

    @reported
    def _prompts_changed(self, event: object = None) -> None:
        # napari announces each edit twice ('adding', then 'added'): decode once, after
        if str(getattr(event, "action", "")) in PENDING_ACTIONS:
            return
        self._colour_points()
        # a point added to a shown mask refines it (SAM's previous-mask input, one
        # candidate); anything else (a box, a removed or moved point) starts afresh
        refine = (
            str(getattr(event, "action", "")) == "added"
            and event.source is self.viewer.layers[POINTS_LAYER]
            and self.result is not None
            and self._mask_prompt is None
        )
        self._previous = self.result.low_res_logits[self.candidate.value() - 1] if refine else None
        self.update_preview()

    def update_preview(self) -> None:
        if self.engine is None:
            return
        prompts = self.prompts()
        if prompts.empty:
            self.result = None
            self._set_preview(None)
            return
        self.result = self.engine.predict(
            self._embedding(),
            prompts,
            self._mask_prompt,
            multimask=self._previous is None,
            previous_logits=self._previous,
        )
        self.candidate.blockSignals(True)
        self.candidate.setRange(1, len(self.result))
        self.candidate.setValue(self.result.best + 1)
        self.candidate.blockSignals(False)
        self._show_candidate()

    def _show_candidate(self) -> None:
        if self.result is None:
            return
        k = self.candidate.value() - 1
        self.score.setText(f"predicted IoU {self.result.scores[k]:.2f}")
        self._set_preview(self.result.mask(k))

    def _set_preview(self, mask: np.ndarray | None) -> None:
        layer = self.viewer.layers[PREVIEW_LAYER]
        if mask is None:
            layer.data = np.zeros((1, 1), np.uint8)
            return
        layer.data = mask.astype(np.uint8) * np.uint8(self.owner.class_box.currentData())

    @reported
    def use_class_as_mask_prompt(self, *_: object) -> None:
        """The current labels of the chosen class (e.g. a model's prediction) as the prompt."""
        self._require_engine()
        class_index = self.owner.class_box.currentData()
        mask = np.asarray(self.owner.labels_layer.data) == class_index
        if not mask.any():
            raise ValueError(f"no {self.owner.class_name} pixels to use as a mask prompt")
        self._mask_prompt, self._mask_source = mask, f"labels:{self.owner.class_name}"
        self._previous = None  # one mask input at a time
        self.update_preview()
        self.status.info(f"mask prompt: the {self.owner.class_name} labels")

    def _require_engine(self) -> SamEngine:
        if self.engine is None:
            raise ValueError("start SAM first (its config names the local weights file)")
        return self.engine

    @reported
    def commit(self, *_: object) -> None:
        engine = self._require_engine()
        if self.result is None:
            raise ValueError("no SAM mask to commit: add a point, a box or a mask prompt")
        session = self.owner.session
        assert session is not None
        changed = session.commit_sam(
            self.result.mask(self.candidate.value() - 1),
            self.owner.class_name,
            self.prompts(),
            self.owner.labels_layer.data,
            overwrite=self.overwrite.isChecked(),
            sam_model_id=engine.model_id,
            backend=engine.backend,
            weights_sha256=engine.weights_sha256,
        )
        self.owner.labels_layer.data = session.labels
        self.clear_prompts()
        self.status.info(f"committed {changed} px as {self.owner.class_name}")

    def clear_prompts(self, *_: object) -> None:
        if POINTS_LAYER not in self.viewer.layers:
            return
        self._mask_prompt = self._mask_source = None
        self._previous = None
        self.result = None
        for name in (POINTS_LAYER, BOX_LAYER):
            layer = self.viewer.layers[name]
            with layer.events.data.blocker():
                layer.data = np.zeros((0, 2)) if name == POINTS_LAYER else []
        self._set_preview(None)

    def shutdown(self) -> None:
        if self.prefetcher is not None:
            self.prefetcher.shutdown()
            self.prefetcher = None
