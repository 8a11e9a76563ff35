"""``load_model``: one predictor interface over smp checkpoints, ONNX files and nnU-Net models.

The backend is read from the file's content, never from its name: a torch checkpoint is
a zip archive (or, in torch's legacy format, a pickle stream); a safetensors checkpoint
starts with its header length and a JSON header (both "smp"); an ONNX file is a protobuf
``ModelProto`` ("onnx"), and one carrying ``nnunet_export``'s metadata is "nnunet". An
ONNX file whose external data lies outside its folder is refused before it is opened.
A model is loaded once per session (cached by path, size and modification time), not
once per detection.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from ml.segmentation.onnx_safety import check_external_data
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


def softmax(logits: np.ndarray) -> np.ndarray:
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
        probabilities = softmax(logits)
        return Prediction(probabilities.argmax(axis=0), probabilities)


class OnnxPredictor:
    backend = "onnx"

    def __init__(self, path: Path) -> None:
        import onnxruntime

        check_external_data(path)
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
        probabilities = softmax(logits)
        return Prediction(probabilities.argmax(axis=0), probabilities)


def detect_backend(path: str | Path) -> Backend:
    """The backend a model file needs, from its content."""
    from ml.segmentation.safetensors_io import looks_like_safetensors

    path = Path(path)
    if path.is_dir():
        if (path / "plans.json").is_file():
            raise ValueError(
                f"{path} is an nnU-Net training folder; export it first: python -m "
                f"ml.segmentation.nnunet_export --model_folder {path} --output model.onnx"
            )
        raise ValueError(f"{path} is a folder, not a model file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    with path.open("rb") as file:
        head = file.read(16)
    if head.startswith(ZIP_MAGIC) or head.startswith(PICKLE_PROTOCOL_2_PLUS):
        return "smp"
    if looks_like_safetensors(path):
        return "smp"
    onnx_kind = _onnx_kind(path)
    if onnx_kind is not None:
        return onnx_kind
    raise ValueError(
        f"{path}: not a torch or safetensors checkpoint nor an ONNX model, or a corrupt or "
        f"truncated one (first bytes {head!r})"
    )


def _onnx_kind(path: Path) -> Backend | None:
    import onnx

    from ml.segmentation.nnunet_predictor import read_metadata

    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except Exception:  # protobuf's DecodeError and friends: not ONNX
        return None
    if len(model.graph.node) == 0 or model.ir_version <= 0:
        return None
    return "nnunet" if read_metadata(model, path) is not None else "onnx"


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, size: int, mtime_ns: int, backend: str) -> Predictor:
    del size, mtime_ns  # part of the cache key only: a rewritten file is reloaded
    if backend == "smp":
        return TorchPredictor(path)
    if backend == "onnx":
        return OnnxPredictor(path)
    from ml.segmentation.nnunet_predictor import NnunetPredictor

    return NnunetPredictor(path)


def load_model(path: str | Path, backend: Backend | None = None) -> Predictor:
    """A predictor for the model at ``path``; ``backend`` None means read it from the file."""
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; known: {BACKENDS}")
    resolved = Path(path).resolve()
    chosen = backend or detect_backend(resolved)
    if not resolved.is_file():
        detect_backend(resolved)  # its error says what the path is instead
    stat = resolved.stat()
    return _load_cached(resolved, stat.st_size, stat.st_mtime_ns, chosen)


def clear_model_cache() -> None:
    _load_cached.cache_clear()
