"""``load_model``: one predictor interface over smp checkpoints and ONNX files.

The backend is read from the file's first bytes, never from its name: a torch
checkpoint is a zip archive (or, in torch's legacy format, a pickle stream); an ONNX
file is a protobuf ``ModelProto``. A model is loaded once per session (cached by path,
size and modification time), not once per detection.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from ml.segmentation.preprocess import pad_to_multiple, to_unit_float

Backend = Literal["smp", "onnx", "nnunet"]
BACKENDS: tuple[str, ...] = ("smp", "onnx", "nnunet")

ZIP_MAGIC = b"PK\x03\x04"
PICKLE_PROTOCOL_2_PLUS = b"\x80"


@dataclass(frozen=True)
class Prediction:
    mask: np.ndarray
    """(H, W) int class index per pixel."""
    probabilities: np.ndarray
    """(C, H, W) float32 softmax probabilities."""


class Predictor(Protocol):
    backend: str
    num_classes: int

    def predict(self, image: np.ndarray) -> Prediction: ...


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=0, keepdims=True))
    return (shifted / shifted.sum(axis=0, keepdims=True)).astype(np.float32)


def _prepare(image: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    unit = to_unit_float(image)
    return pad_to_multiple(unit)[None, None], (unit.shape[0], unit.shape[1])


class TorchPredictor:
    backend = "smp"

    def __init__(self, path: Path) -> None:
        import torch

        from ml.segmentation.checkpoint import load_checkpoint

        self._torch = torch
        self.checkpoint = load_checkpoint(path)
        self.model = self.checkpoint.build()
        self.num_classes = self.checkpoint.spec.num_classes

    def predict(self, image: np.ndarray) -> Prediction:
        batch, (height, width) = _prepare(image)
        with self._torch.inference_mode():
            logits = self.model(self._torch.from_numpy(batch)).numpy()[0, :, :height, :width]
        probabilities = _softmax(logits)
        return Prediction(probabilities.argmax(axis=0), probabilities)


class OnnxPredictor:
    backend = "onnx"

    def __init__(self, path: Path) -> None:
        import onnxruntime

        try:
            self.session = onnxruntime.InferenceSession(
                str(path), providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own exception types
            raise ValueError(f"{path}: not a loadable ONNX model: {error}") from error
        self.input_name = self.session.get_inputs()[0].name
        self.num_classes = int(self.session.get_outputs()[0].shape[1])

    def predict(self, image: np.ndarray) -> Prediction:
        batch, (height, width) = _prepare(image)
        logits = self.session.run(None, {self.input_name: batch})[0][0, :, :height, :width]
        probabilities = _softmax(logits)
        return Prediction(probabilities.argmax(axis=0), probabilities)


def detect_backend(path: str | Path) -> Backend:
    """The backend a model file needs, from its content."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"{path} is a folder; nnU-Net model folders are not supported yet "
            "(the 'nnunet' backend is not available)"
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    with path.open("rb") as file:
        head = file.read(16)
    if head.startswith(ZIP_MAGIC) or head.startswith(PICKLE_PROTOCOL_2_PLUS):
        return "smp"
    if _looks_like_onnx(path):
        return "onnx"
    raise ValueError(f"{path}: neither a torch checkpoint nor an ONNX model (first bytes {head!r})")


def _looks_like_onnx(path: Path) -> bool:
    import onnx

    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except Exception:  # protobuf's DecodeError and friends: not ONNX
        return False
    return len(model.graph.node) > 0 and model.ir_version > 0


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, size: int, mtime_ns: int, backend: str) -> Predictor:
    del size, mtime_ns  # part of the cache key only: a rewritten file is reloaded
    if backend == "smp":
        return TorchPredictor(path)
    if backend == "onnx":
        return OnnxPredictor(path)
    raise NotImplementedError(
        "the 'nnunet' backend is not available yet: export the nnU-Net model to ONNX, "
        "or use an smp checkpoint"
    )


def load_model(path: str | Path, backend: Backend | None = None) -> Predictor:
    """A predictor for the model at ``path``; ``backend`` None means read it from the file."""
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; known: {BACKENDS}")
    resolved = Path(path).resolve()
    chosen = backend or detect_backend(resolved)
    if chosen == "nnunet":
        return _load_cached(resolved, 0, 0, chosen)
    stat = resolved.stat()
    return _load_cached(resolved, stat.st_size, stat.st_mtime_ns, chosen)


def clear_model_cache() -> None:
    _load_cached.cache_clear()
