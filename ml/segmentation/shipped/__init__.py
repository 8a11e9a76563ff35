"""The segmentation model that ships with the package (trained on twin images only).

``load_shipped_model()`` returns a full-frame predictor: the model file is read through
``load_model`` (loaded once per session, backend read from the file) and wrapped so
that it runs on the image reduced to the scale it was trained at. Nothing downloads.
``model.yaml`` holds how it was made (command, config, data); ``metrics.json`` what it
reaches on held-out twin images.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ml.segmentation.flip_average import FlipAveragePredictor
from ml.segmentation.predictor import Backend, Predictor, load_model
from ml.segmentation.scaled import ScaledPredictor

SHIPPED_DIR = Path(__file__).resolve().parent
INFO_FILE = SHIPPED_DIR / "model.yaml"
METRICS_FILE = SHIPPED_DIR / "metrics.json"


def shipped_info(folder: Path = SHIPPED_DIR) -> dict[str, Any]:
    """The model card: file, input scale, classes, training command and config. `folder`:
    another model's folder laid out like this one (a candidate, measured before it ships)."""
    card = folder / INFO_FILE.name
    info = yaml.safe_load(card.read_text())
    if not isinstance(info, dict) or "file" not in info or "input_scale" not in info:
        raise ValueError(f"{card}: needs at least 'file' and 'input_scale'")
    return info


def shipped_metrics() -> dict[str, Any]:
    return json.loads(METRICS_FILE.read_text())


def shipped_model_path(folder: Path = SHIPPED_DIR) -> Path:
    path = folder / str(shipped_info(folder)["file"])
    if not path.is_file():
        raise FileNotFoundError(f"the shipped model file {path} is missing from the package")
    return path


def load_shipped_model(
    backend: Backend | None = None,
    folder: Path = SHIPPED_DIR,
    flips: tuple[str, ...] | None = None,
) -> ScaledPredictor:
    """The shipped model as a predictor of full-size class masks and probabilities; every
    frame is seen at the input width it was trained at (``input_size_px``: a 768x512
    frame at 384x256 like a 1536x1024 one), else reduced by ``input_scale``.

    `flips`: the mirrored views averaged at test time (``flip_average``); by default those
    the card's ``test_time_flips`` names, which its metrics were measured with; ``("none",)``
    runs the model once."""
    info = shipped_info(folder)
    size = info.get("input_size_px")
    width = int(size[1]) if isinstance(size, list) and len(size) == 2 else None
    model: Predictor = load_model(shipped_model_path(folder), backend)
    chosen = tuple(info.get("test_time_flips") or ("none",)) if flips is None else flips
    if chosen != ("none",):
        model = FlipAveragePredictor(model, chosen)
    return ScaledPredictor(model, float(info["input_scale"]), input_width_px=width)
