"""Give the microscope's keypoint processors their finding functions from ml/
(fibsem_ophyd cannot import ml; the session wires them together)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ml.detection import find_grid_square_centre, find_needle_tip


def _site_finder(beam: str):
    def find(image: np.ndarray, pixel_size_m: float, vertical_scale: float):
        kp = find_grid_square_centre(image, pixel_size_m, beam=beam, vertical_scale=vertical_scale)
        return kp.x_px, kp.y_px, kp.score

    return find


def _needle_finder(image: np.ndarray, pixel_size_m: float, _vertical_scale: float):
    kp = find_needle_tip(image, pixel_size_m)
    return kp.x_px, kp.y_px, kp.score


def wire_detectors(microscope: Any) -> None:
    """Site-centre detection (the grid square a lamella site sits in) and needle-tip
    detection in both beams."""
    microscope.sem_features.finder = _site_finder("electron")
    microscope.fib_features.finder = _site_finder("ion")
    microscope.sem_needle.finder = _needle_finder
    microscope.fib_needle.finder = _needle_finder
