"""Helpers for the twin's lift-out tests: free a lamella, carry it on the needle, land
it on a post, and pose the stage at a specimen point."""

from __future__ import annotations

import numpy as np

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.sim import TwinWorld
from fibsem_ophyd.sim.mill_physics import unit_geometry
from fibsem_ophyd.sim.patch import MILLED
from fibsem_ophyd.sim.projection import chamber_to_image, rx, rz

BLOCK_M = (10e-6, 4e-6)  # the freed lamella: width (u), thickness (v)
MOAT_M = 2e-6
MOAT_DEPTH_M = 2e-6


def enclose(world: TwinWorld, name: str) -> None:
    """Mill a 2 µm moat (2 µm deep) around a 10 × 4 µm block at the site."""
    site = world.specimen.site(name)
    patch = world.specimen.local_patch(site)
    u, v = site.u_m, site.v_m
    (w, t), m = BLOCK_M, MOAT_M
    patch.edit_rectangle((u - w / 2 - m, u + w / 2 + m), (v - t / 2 - m, v + t / 2 + m),
                         -MOAT_DEPTH_M, MILLED)  # fmt: skip
    patch.edit_rectangle((u - w / 2, u + w / 2), (v - t / 2, v + t / 2), 0.0, 0)


def pick_up(world: TwinWorld, name: str) -> None:
    """Free the lamella at `name`, weld the needle to its top and lift it 20 µm."""
    enclose(world, name)
    lo = world.liftout
    lo.on_milled(world, world.specimen.local_patch(name), (1.0, 1.0, 2.0, 2.0))
    needle = world.manipulator
    needle.inserted = True
    needle.x_m, needle.y_m, needle.z_m = world.lamella_position(name) + np.array([0, 0, 0.2e-6])
    lo.on_gis_open(world, 10.0)
    needle.z_m += 20e-6
    assert world.liftout_state(name) == "attached"


def land(world: TwinWorld, name: str, post: int = 0) -> None:
    """Carry the lamella's top onto post `post`'s landing point, weld it there and cut
    the needle free (a mill over the needle tip in the ion image)."""
    lo, needle = world.liftout, world.manipulator
    tip = np.array([needle.x_m, needle.y_m, needle.z_m])
    tip += lo.post_point(world, post) - world.lamella_position(name)
    needle.x_m, needle.y_m, needle.z_m = tip
    lo.on_gis_open(world, 10.0)
    col, row = chamber_to_image(tip, unit_geometry(world.ion, world.params))
    a, b = float(col), -float(row)
    u, v = world.specimen.landing_point(post)
    lo.on_milled(world, world.specimen.patch_at(u, v), (a - 1e-6, b - 1e-6, a + 1e-6, b + 1e-6))
    needle.inserted = False
    assert world.liftout_state(name) == "landed"


def centre_point(world: TwinWorld, u_m: float, v_m: float, r_deg: float, t_deg: float) -> None:
    """Put specimen point (u, v, h_ref) at the eucentric point at (r, t)."""
    p = world.params
    q = np.array([u_m, v_m, world.specimen.reference_height_m(u_m, v_m)])
    d = -(rz(r_deg - p.rotation_reference_deg) @ rx(-p.shuttle_pre_tilt_deg)) @ q
    world.set_stage(
        StagePosition(x_m=d[0], y_m=d[1], z_m=d[2] + p.eucentric_z_m, r_deg=r_deg, t_deg=t_deg)
    )
