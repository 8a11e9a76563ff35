"""Helpers for the twin tests: small, low-noise worlds and shift measurement."""

from __future__ import annotations

import numpy as np
from skimage.registration import phase_cross_correlation

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.sim import TwinParameters, TwinWorld


def content_shift(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """(d_row, d_col): how far the content moved from `before` to `after`, in pixels."""
    shift, _, _ = phase_cross_correlation(
        before.astype(np.float32), after.astype(np.float32), upsample_factor=20
    )
    return -float(shift[0]), -float(shift[1])


def make_world(seed: int = 0, **overrides: object) -> TwinWorld:
    """A world with small frames (hfw 50 µm, 512 × 384) for fast tests."""
    world = TwinWorld(TwinParameters(seed=seed, **overrides))
    for beam in (world.electron, world.ion):
        beam.hfw_m = 50e-6
        beam.resolution_x_px = 512
        beam.resolution_y_px = 384
        beam.dwell_time_s = 20e-6  # low noise
    return world


def set_pose(world: TwinWorld, **axes: float) -> None:
    """Set the stage instantly (bypassing move time)."""
    world.set_stage(StagePosition(**axes))
