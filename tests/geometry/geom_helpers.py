"""Shared helpers for the geometry tests."""

from __future__ import annotations

import numpy as np

from fibsem_ophyd.backend._types import StagePosition
from fibsem_ophyd.geometry import StageGeometry

GEOM = StageGeometry()


def pose(
    x: float = 0.0, y: float = 0.0, z: float = 4.0e-3, r: float = 0.0, t: float = 0.0
) -> StagePosition:
    return StagePosition(x_m=x, y_m=y, z_m=z, r_deg=r, t_deg=t)


def random_pose(rng: np.random.Generator, geom: StageGeometry = GEOM) -> StagePosition:
    return pose(
        x=rng.uniform(-1e-3, 1e-3),
        y=rng.uniform(-1e-3, 1e-3),
        z=geom.eucentric_z_m + rng.uniform(-1e-3, 1e-3),
        r=rng.uniform(0.0, 360.0),
        t=rng.uniform(-10.0, 60.0),
    )


def as_array(p: StagePosition) -> np.ndarray:
    return np.array([p.x_m, p.y_m, p.z_m, p.r_deg, p.t_deg], dtype=float)
