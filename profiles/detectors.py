"""Give the microscope's keypoint processors their finding functions from ml/
(fibsem_ophyd cannot import ml; the session wires them together): the classical
finders, or — for the targets asked for — a keypoint model's features
(profiles/guidance.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from fibsem_ophyd.devices.keypoint_processor import KeypointSource
from ml.detection import (
    find_grid_square_centre,
    find_landed_lamella,
    find_landing_post,
    find_needle_tip,
)

from .guidance import DEFAULT_MODEL_TARGETS, guide_with_model

# What a lift-out chunk measures seen from above (the liftout protocol's lamella width
# and trench spacing), and a landing post (width, length); re-wire with
# `wire_detectors(m, chunk_size_m=..., post_size_m=...)` for others.
CHUNK_SIZE_M = (10e-6, 4e-6)
POST_SIZE_M = (20e-6, 60e-6)


Found = tuple[float, float, float]


class ClassicalFinder:
    """A classical finder with the id its detections record ("classical <function>")."""

    def __init__(self, name: str, find: Callable[[np.ndarray, float, float], Found]) -> None:
        self.finder_id = f"classical {name}"
        self._find = find

    def __call__(self, image: np.ndarray, pixel_size_m: float, vertical_scale: float) -> Found:
        return self._find(image, pixel_size_m, vertical_scale)


def _site_finder(beam: str) -> ClassicalFinder:
    def find(image: np.ndarray, pixel_size_m: float, vertical_scale: float) -> Found:
        kp = find_grid_square_centre(image, pixel_size_m, beam=beam, vertical_scale=vertical_scale)
        return kp.x_px, kp.y_px, kp.score

    return ClassicalFinder("find_grid_square_centre", find)


def _find_needle(image: np.ndarray, pixel_size_m: float, _vertical_scale: float) -> Found:
    kp = find_needle_tip(image, pixel_size_m)
    return kp.x_px, kp.y_px, kp.score


_needle_finder = ClassicalFinder("find_needle_tip", _find_needle)


def _sized_finder(find_keypoint: Any, beam: str, size_m: tuple[float, float]) -> ClassicalFinder:
    def find(image: np.ndarray, pixel_size_m: float, vertical_scale: float) -> Found:
        kp = find_keypoint(image, pixel_size_m, vertical_scale, *size_m, beam=beam)
        return kp.x_px, kp.y_px, kp.score

    return ClassicalFinder(find_keypoint.__name__, find)


def wire_detectors(
    microscope: Any,
    chunk_size_m: tuple[float, float] = CHUNK_SIZE_M,
    post_size_m: tuple[float, float] = POST_SIZE_M,
    model: KeypointSource | None = None,
    model_targets: Iterable[str] = DEFAULT_MODEL_TARGETS,
    model_refinement: bool = False,
) -> None:
    """Keypoint detection in both beams, by target: "grid_square" (the grid square a
    lamella site sits in, the default), "landed_lamella" (a lifted-out lamella on its
    post, `chunk_size_m` = (width, thickness)) and "landing_post" (a post's landing
    point, `post_size_m` = (width, length)); sizes in metres, seen from above. The
    needle processors (`sem_needle`, `fib_needle`) find the needle tip.

    With a keypoint `model` (e.g. ``ml.detection.ModelKeypoints``), its features find
    `model_targets` ("needle", "landing_post", "landed_lamella"; by default the ones
    where it measured at least as good as the classical finders: none for the shipped
    model, profiles/guidance.py); every other target keeps its classical finder. With
    `model_refinement`, the classical finder places what the model found (within 25 px
    of it, else the model's answer stands: ``profiles.guidance.ModelFinder``)."""
    for beam, features in (("electron", microscope.sem_features), ("ion", microscope.fib_features)):
        features.finders["grid_square"] = _site_finder(beam)
        features.finders["landed_lamella"] = _sized_finder(find_landed_lamella, beam, chunk_size_m)
        features.finders["landing_post"] = _sized_finder(find_landing_post, beam, post_size_m)
    microscope.sem_needle.finder = _needle_finder
    microscope.fib_needle.finder = _needle_finder
    targets = tuple(model_targets)
    if model is not None:
        guide_with_model(
            microscope,
            model,
            targets,
            refine=model_refinement,
            chunk_size_m=chunk_size_m,
            post_size_m=post_size_m,
        )
    elif set(targets) - DEFAULT_MODEL_TARGETS:
        raise ValueError(f"model_targets {list(targets)} need a keypoint model (model=...)")
