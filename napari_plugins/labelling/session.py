"""Segmentation labelling of one folder, one image at a time, without Qt.

The session holds the current image, its labels and their provenance. Each change made
by a model or by SAM is recorded as a step when it happens; painting in napari is found
at save time (the labels differ from the last recorded state) and recorded as a
``manual`` step. The widget hands the labels layer's array back on ``save``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ml.classes import ClassTable, class_table
from napari_plugins.labelling.commit import commit_mask
from napari_plugins.labelling.folder import LabelFolder
from napari_plugins.labelling.images import image_hw
from napari_plugins.labelling.model_assist import predict_labels
from napari_plugins.labelling.provenance import (
    Provenance,
    ProvenanceStep,
    file_sha256,
    read_provenance,
    write_provenance,
)
from napari_plugins.labelling.sam.prompts import SamPrompts


class SegmentationSession:
    def __init__(self, folder: LabelFolder, table: ClassTable | None = None) -> None:
        self.folder = folder
        self.table = table or class_table()
        self.index = -1
        self.image = np.zeros((0, 0), np.uint8)
        self.labels = np.zeros((0, 0), np.uint8)
        self.provenance: Provenance | None = None
        self._recorded = self.labels.copy()
        """The labels as of the last recorded step (or load): painting is the difference."""
        self.go(0)

    @classmethod
    def open(
        cls,
        folder: str | Path,
        table: ClassTable | None = None,
        labels_dir: str | Path | None = None,
    ) -> SegmentationSession:
        return cls(LabelFolder.open(folder, labels_dir), table)

    @property
    def image_path(self) -> Path:
        return self.folder.images[self.index]

    @property
    def dirty(self) -> bool:
        """Changes not yet saved (recorded steps, or painting since the last one)."""
        saved = self.folder.read_labels(self.index, image_hw(self.image))
        reference = saved if saved is not None else np.zeros_like(self.labels)
        return not np.array_equal(reference, self.labels)

    def go(self, index: int) -> None:
        image = self.folder.read_image(index)
        labels = self.folder.read_labels(index, image_hw(image))
        path = self.folder.images[index]
        provenance_path = self.folder.provenance_path(index)
        if provenance_path.is_file():
            provenance = read_provenance(provenance_path)
        else:
            provenance = Provenance(image=path.name, image_sha256=file_sha256(path))
        self.index, self.image, self.provenance = index, image, provenance
        self.labels = labels if labels is not None else np.zeros(image_hw(image), np.uint8)
        self._recorded = self.labels.copy()

    def _record(self, labels: np.ndarray, step: ProvenanceStep) -> None:
        assert self.provenance is not None
        self.sync_painting(self.labels)
        self.labels = labels
        self._recorded = labels.copy()
        self.provenance.steps.append(step)

    def sync_painting(self, labels: np.ndarray) -> None:
        """Take the labels layer's array; painting since the last step becomes a manual step."""
        if labels.shape != self.labels.shape:
            raise ValueError(f"labels of shape {labels.shape}, expected {self.labels.shape}")
        changed = int(np.count_nonzero(labels != self._recorded))
        if changed and self.provenance is not None:
            self.provenance.steps.append(ProvenanceStep(source="manual", pixels_changed=changed))
            self._recorded = labels.copy()
        self.labels = labels

    def predict_with_model(self, model_path: str | Path, labels_now: np.ndarray) -> np.ndarray:
        self.sync_painting(labels_now)
        labels, step = predict_labels(model_path, self.image, self.table, self.labels)
        self._record(labels, step)
        return self.labels

    def commit_sam(
        self,
        mask: np.ndarray,
        class_name: str,
        prompts: SamPrompts,
        labels_now: np.ndarray,
        *,
        overwrite: bool = False,
        sam_model_id: str,
        backend: str,
        weights_sha256: str | None,
    ) -> int:
        """Paint a SAM mask as ``class_name`` (class-aware); returns pixels changed."""
        index = self.table.index(class_name)
        if index == 0:
            raise ValueError("commit a SAM mask as a foreground class, not 'background'")
        self.sync_painting(labels_now)
        labels, changed = commit_mask(self.labels, mask, index, overwrite=overwrite)
        step = ProvenanceStep(
            source="sam",
            pixels_changed=changed,
            class_name=class_name,
            sam_model_id=sam_model_id,
            backend=backend,
            checkpoint_sha256=weights_sha256,
            prompts=prompts,
            overwrite=overwrite,
        )
        self._record(labels, step)
        return changed

    def save(self, labels_now: np.ndarray | None = None) -> Path:
        """Write ``labels/<stem>.tif`` and ``labels/<stem>.json``; returns the TIFF path."""
        if labels_now is not None:
            self.sync_painting(labels_now)
        assert self.provenance is not None
        path = self.folder.write_labels(self.index, self.labels, len(self.table.classes))
        write_provenance(self.provenance, self.folder.provenance_path(self.index))
        return path
