"""The ``nnunet`` backend: an ONNX file written by ``nnunet_export`` and its preprocessing.

nnU-Net normalises raw intensities (not scaled to [0, 1]) with the scheme its plans chose
for the channel, transposes axes as planned, and predicts with a sliding window of its
``patch_size`` (``sliding_window.py``: half-overlapping tiles, Gaussian-weighted logits,
small images zero-padded to one tile). Test-time mirroring (nnU-Net's predictor does it
by default) only when the model was exported with ``--mirroring``: it averages the logits
over every combination of flips along the allowed axes, 4× the time in 2-D.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np

from ml.segmentation.nnunet_export import FORMAT, METADATA_KEY
from ml.segmentation.onnx_safety import check_external_data
from ml.segmentation.sliding_window import predict_tiled

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
        self.tile = (int(metadata["patch_size"][0]), int(metadata["patch_size"][1]))
        axes = [int(a) - 1 for a in metadata["transpose_forward"][1:]]
        self.transposed = axes == [1, 0]
        mirror = [int(a) for a in metadata.get("mirror_axes", [])]
        self.flips = [
            combo for n in range(1, len(mirror) + 1) for combo in itertools.combinations(mirror, n)
        ]
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
        logits = predict_tiled(data, self.tile, self._logits)
        if self.transposed:
            logits = logits.transpose(0, 2, 1)
        probabilities = softmax(logits)
        return Prediction(probabilities.argmax(axis=0), probabilities)

    def _logits(self, tile: np.ndarray) -> np.ndarray:
        batch = tile[None, None].astype(np.float32)
        logits = self.session.run(None, {self.input_name: batch})[0][0]
        for axes in self.flips:  # image axes 0, 1 are batch axes 2, 3
            flipped = np.ascontiguousarray(np.flip(batch, [a + 2 for a in axes]))
            out = self.session.run(None, {self.input_name: flipped})[0][0]
            logits = logits + np.flip(out, [a + 1 for a in axes])
        return logits / (len(self.flips) + 1)
