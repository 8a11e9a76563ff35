"""The segmentation model that ships with the package (trained on twin images only).

``load_shipped_model()`` returns a full-frame predictor: the model file is read through
``load_model`` (loaded once per session, backend read from the file) and wrapped so
that it runs on the image reduced to the scale it was trained at, averaging the mirrored
views and input widths its card names (``test_time_flips``,
``test_time_input_widths_px``). Nothing downloads.
``model.yaml`` holds how it was made (command, config, data); ``metrics.json`` what it
reaches on held-out twin images.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ml.segmentation.flip_average import FlipAveragePredictor
from ml.segmentation.predictor import Backend, Predictor, load_model
from ml.segmentation.scale_average import ScaleAveragePredictor
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
    input_widths_px: Sequence[int] | None = None,
) -> Predictor:
    """The shipped model as a predictor of full-size class masks and probabilities; every
    frame is seen at the input width it was trained at (``input_size_px``: a 768x512
    frame at 192x128 like a 1536x1024 one), else reduced by ``input_scale``.

    `flips`: the mirrored views averaged at test time (``flip_average``); by default those
    the card's ``test_time_flips`` names, which its metrics were measured with; ``("none",)``
    runs the model once. `input_widths_px`: the input widths whose predictions are averaged
    (``scale_average``); by default the card's ``test_time_input_widths_px``, else the
    training width alone; one width runs the model at that width only."""
    info = shipped_info(folder)
    size = info.get("input_size_px")
    width = int(size[1]) if isinstance(size, list) and len(size) == 2 else None
    model: Predictor = load_model(shipped_model_path(folder), backend)
    chosen = tuple(info.get("test_time_flips") or ("none",)) if flips is None else flips
    if chosen != ("none",):
        model = FlipAveragePredictor(model, chosen)
    scale = float(info["input_scale"])
    if input_widths_px is None:
        card_widths = info.get("test_time_input_widths_px")
        widths = list(card_widths) if card_widths else ([width] if width is not None else [])
    else:
        widths = list(input_widths_px)
    if len(widths) > 1 or (input_widths_px is not None and not widths):
        return ScaleAveragePredictor(model, widths)
    return ScaledPredictor(model, scale, input_width_px=widths[0] if widths else None)


def averaging_setup(model: Predictor) -> dict[str, list[Any]]:
    """What a predictor from ``load_shipped_model`` averages: its mirrored views (``flips``)
    and its model input widths in pixels (``input_widths_px``; None: the fixed scale)."""
    widths = getattr(model, "input_widths_px", None)
    if widths is None:
        widths = (getattr(model, "input_width_px", None),)
    inner = getattr(model, "inner", None)
    return {"flips": list(getattr(inner, "flips", ("none",))), "input_widths_px": list(widths)}
