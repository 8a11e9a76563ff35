"""Model-assisted labelling: a segmentation checkpoint (smp or ONNX, anything
``ml.segmentation.predictor.load_model`` reads) predicts the labels; the user corrects."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ml.classes import ClassTable
from napari_plugins.labelling.provenance import ProvenanceStep, file_sha256


def predict_labels(
    model_path: str | Path, image: np.ndarray, table: ClassTable, current: np.ndarray
) -> tuple[np.ndarray, ProvenanceStep]:
    """The model's class map (uint8) for ``image`` and the provenance step recording it."""
    from ml.segmentation.predictor import load_model

    path = Path(model_path)
    predictor = load_model(path)
    if predictor.num_classes > len(table.classes):
        raise ValueError(
            f"{path}: the model predicts {predictor.num_classes} classes but the class "
            f"table has {len(table.classes)} ({', '.join(table.names)})"
        )
    labels = predictor.predict(image).mask.astype(np.uint8)
    step = ProvenanceStep(
        source="model",
        pixels_changed=int(np.count_nonzero(labels != current)),
        model_path=str(path.resolve()),
        checkpoint_sha256=file_sha256(path),
        backend=predictor.backend,
    )
    return labels, step
