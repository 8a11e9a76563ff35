"""The twin's lift-out model: freed, welded, carried, landed; drawn in the images."""

from __future__ import annotations

import numpy as np

from fibsem_ophyd.sim import TwinWorld
from fibsem_ophyd.sim.patch import MILLED


def _enclose(world: TwinWorld, name: str) -> None:
    """Mill a 2 µm moat around a 10 × 4 µm block at the site."""
    site = world.specimen.site(name)
    patch = world.specimen.local_patch(site)
    u, v = site.u_m, site.v_m
    patch.edit_rectangle((u - 7e-6, u + 7e-6), (v - 4e-6, v + 4e-6), -2e-6, MILLED)
    patch.edit_rectangle((u - 5e-6, u + 5e-6), (v - 2e-6, v + 2e-6), 0.0, 0)


def test_free_lamella_waits_for_a_weld_then_rides_the_needle():
    world = TwinWorld()
    name = world.specimen.sites[0].name
    _enclose(world, name)
    lo = world.liftout
    lo.on_milled(world, world.specimen.local_patch(name), (1.0, 1.0, 2.0, 2.0))
    assert world.liftout_state(name) == "free"
    lo.on_gis_open(world, 10.0)  # needle retracted: no weld
    assert world.liftout_state(name) == "free"
    top = world.lamella_position(name)
    m = world.manipulator
    m.inserted, (m.x_m, m.y_m, m.z_m) = True, top + np.array([0.0, 0.0, 0.2e-6])
    lo.on_gis_open(world, 10.0)
    assert world.liftout_state(name) == "attached"
    m.z_m += 20e-6
    assert np.allclose(world.lamella_position(name), top + np.array([0.0, 0.0, 20e-6]), atol=1e-9)
    assert len(world.scene().lamellae) == 1
    offset = world.lamella_position(name) - np.array([m.x_m, m.y_m, m.z_m])
    m.x_m, m.y_m, m.z_m = 0.0, 0.0, 20e-6  # bring it into the (shuttle-centre) view
    lifted = offset + np.array([0.0, 0.0, 20e-6])
    assert np.allclose(world.lamella_position(name), lifted, atol=1e-9)
    labels = world.render_labels("electron")
    assert (labels == 22).any()  # the carried slab is drawn
