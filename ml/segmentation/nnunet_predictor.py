"""The ``nnunet`` backend: an ONNX file written by ``nnunet_export`` and its preprocessing.

nnU-Net normalises raw intensities (not scaled to [0, 1]) with the scheme its plans chose
for the channel, transposes axes as planned, and predicts. Here the whole image runs
through the network at once, zero-padded (in normalised units, as nnU-Net pads) on the
bottom/right to the network's size multiple; nnU-Net's own predictor slides a window of
``patch_size`` with Gaussian weighting and mirroring, so results can differ slightly
near tile borders — not a different model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ml.segmentation.nnunet_export import FORMAT, METADATA_KEY
from ml.segmentation.onnx_safety import check_external_data

_EPS = 1e-8


def normalize(image: np.ndarray, scheme: str, properties: dict[str, float]) -> np.ndarray:
    """nnU-Net's normalisation of one channel, by its class name."""
    data = np.asarray(image, dtype=np.float32).copy()
    if scheme == "ZScoreNormalization":
        return (data - data.mean()) / max(float(data.std()), _EPS)
    if scheme == "CTNormalization":
        np.clip(data, properties["percentile_00_5"], properties["percentile_99_5"], out=data)
        return (data - properties["mean"]) / max(float(properties["std"]), _EPS)
    if scheme == "NoNormalization":
        return data
    if scheme == "RescaleTo01Normalization":
        data -= data.min()
        return data / max(float(data.max()), _EPS)
    if scheme == "RGBTo01Normalization":
        return data / 255.0
    raise ValueError(f"unknown nnU-Net normalization {scheme!r}")


def read_metadata(model: Any, path: Path) -> dict[str, Any] | None:
    """The nnU-Net preprocessing metadata of an ONNX model proto, None when absent."""
    for entry in model.metadata_props:
        if entry.key == METADATA_KEY:
            try:
                metadata = json.loads(entry.value)
            except ValueError as error:
                raise ValueError(f"{path}: {METADATA_KEY} metadata is not JSON") from error
            if metadata.get("format") != FORMAT:
                raise ValueError(f"{path}: {METADATA_KEY} metadata of unknown format")
            return metadata
    return None


class NnunetPredictor:
    backend = "nnunet"

    def __init__(self, path: Path) -> None:
        import onnxruntime

        metadata = read_metadata(check_external_data(path), path)
        if metadata is None:
            raise ValueError(
                f"{path}: an ONNX model without {METADATA_KEY} metadata is not an "
                "exported nnU-Net model; use backend 'onnx'"
            )
        self.metadata = metadata
        self.labels: dict[str, int] = metadata["labels"]
        self.num_classes = len(self.labels)
        self.multiple = tuple(int(m) for m in metadata["size_multiple"])
        axes = [int(a) - 1 for a in metadata["transpose_forward"][1:]]
        self.transposed = axes == [1, 0]
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own exception types
            raise ValueError(f"{path}: not a loadable ONNX model: {error}") from error
        self.input_name = self.session.get_inputs()[0].name

    def predict(self, image: np.ndarray):  # -> Prediction (imported lazily: no cycle)
        from ml.segmentation.predictor import Prediction, softmax

        array = np.asarray(image)
        if array.ndim != 2:
            raise ValueError(f"expected a 2-D greyscale image, got shape {array.shape}")
        data = normalize(
            array, self.metadata["normalization"], self.metadata["intensity_properties"]
        )
        if self.transposed:
            data = data.T
        height, width = data.shape
        pad = [(0, (-height) % self.multiple[0]), (0, (-width) % self.multiple[1])]
        batch = np.pad(data, pad, mode="constant")[None, None].astype(np.float32)
        logits = self.session.run(None, {self.input_name: batch})[0][0, :, :height, :width]
        if self.transposed:
            logits = logits.transpose(0, 2, 1)
        probabilities = softmax(logits)
        return Prediction(probabilities.argmax(axis=0), probabilities)
