"""Known-shift cases for the registration tests (scene generator: alignment.synthetic)."""

from __future__ import annotations

import numpy as np

from fibsem_ophyd.alignment.synthetic import make_pair

SHAPE = (1024, 1536)  # rows x columns, a 1536 x 1024 FIB/SEM frame

# (shift_y_px, shift_x_px): integer and sub-pixel, both signs, both axes, up to ±100 px
SHIFTS: list[tuple[float, float]] = [
    (0.0, 0.0),
    (1.0, 0.0),
    (0.0, -1.0),
    (0.3, 0.0),
    (0.0, -0.7),
    (0.5, 0.5),
    (-0.25, 0.75),
    (12.0, -7.0),
    (3.21, 4.87),
    (-17.5, 25.25),
    (42.125, -8.6),
    (-63.9, -71.3),
    (99.5, 0.2),
    (-0.4, -99.8),
    (100.0, -100.0),
    (-100.0, 100.0),
    (-88.31, 57.77),
    (76.04, 93.66),
    (-35.55, -94.12),
    (58.9, -23.45),
]


def pair(index: int) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    dy, dx = SHIFTS[index]
    ref, mov = make_pair(SHAPE, dy, dx, seed=index % 3, noise_seed=100 + index)
    return ref, mov, (dy, dx)
