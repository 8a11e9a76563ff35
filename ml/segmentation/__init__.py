"""Segmentation: smp models, training from YAML, checkpoints (.pt or safetensors),
``load_model`` (smp / ONNX / nnU-Net), ONNX export, evaluation, nnU-Net v2 conversion.

Needs the ``ml`` extra (torch, segmentation-models-pytorch, onnxruntime).
"""

from ml.segmentation.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from ml.segmentation.config import ConfigError, TrainConfig, load_config
from ml.segmentation.models import ARCHITECTURES, ModelSpec, build_model
from ml.segmentation.predictor import Prediction, Predictor, detect_backend, load_model

__all__ = [
    "ARCHITECTURES",
    "Checkpoint",
    "CheckpointError",
    "ConfigError",
    "ModelSpec",
    "Prediction",
    "Predictor",
    "TrainConfig",
    "build_model",
    "detect_backend",
    "load_checkpoint",
    "load_config",
    "load_model",
]
