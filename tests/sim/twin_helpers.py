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


def centre_site(world: TwinWorld, index: int = 0) -> None:
    """Put site `index` at the eucentric point at the current (electron-flat) tilt.

    Solves Rx(t)·(x, y, z - z_e) = -(u, v, 0) for t = pre-tilt, r = r_ref (docs/coordinates.md).
    """
    site = world.specimen.sites[index]
    t = np.deg2rad(world.commanded_pose.t_deg)
    world.set_stage(
        StagePosition(
            x_m=-site.u_m,
            y_m=-site.v_m * np.cos(t),
            z_m=world.params.eucentric_z_m + site.v_m * np.sin(t),
        )
    )


def centre_site_surface(world: TwinWorld, index: int = 0, r_deg: float = 0.0, t_deg: float = 35.0):
    """Put site `index`'s surface point (u, v, h_ref) at the eucentric point at (r, t):
    x, y, z = -S·(u, v, h) + (0, 0, z_e) with S = Rz(r - r_ref)·Rx(-p)."""
    from fibsem_ophyd.sim.projection import rx, rz

    p = world.params
    site = world.specimen.sites[index]
    q = np.array([site.u_m, site.v_m, world.specimen.surface_height_m(site)])
    d = -(rz(r_deg - p.rotation_reference_deg) @ rx(-p.shuttle_pre_tilt_deg)) @ q
    world.set_stage(
        StagePosition(x_m=d[0], y_m=d[1], z_m=d[2] + p.eucentric_z_m, r_deg=r_deg, t_deg=t_deg)
    )
    return site
