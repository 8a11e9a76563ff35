"""Needles, edited site patches (with height parallax) and fluorescence focus."""

import numpy as np
from twin_helpers import centre_site, make_world

from fibsem_ophyd.backend import ManipulatorPosition
from fibsem_ophyd.sim import TwinBackend
from fibsem_ophyd.sim.needles import LABEL_NEEDLE
from fibsem_ophyd.sim.patch import LABEL_OFFSET


async def test_inserted_needle_appears_in_both_views_and_follows_the_manipulator() -> None:
    backend = TwinBackend(make_world())
    world = backend.world
    assert not (world.render_labels("electron") == LABEL_NEEDLE).any()
    await backend.manipulator.insert(ManipulatorPosition(x_m=0.0, y_m=0.0, z_m=10e-6))
    for beam in ("electron", "ion"):
        assert (world.render_labels(beam) == LABEL_NEEDLE).mean() > 0.002
    before = np.argwhere(world.render_labels("electron") == LABEL_NEEDLE)[:, 1].mean()
    pos = backend.manipulator.position()
    await backend.manipulator.move_to(pos.model_copy(update={"x_m": pos.x_m + 5e-6}))
    after = np.argwhere(world.render_labels("electron") == LABEL_NEEDLE)[:, 1].mean()
    assert after > before  # needle moved right with +x


def test_patch_edit_shows_with_height_parallax_in_the_ion_view() -> None:
    world = make_world()
    site = world.specimen.sites[0]
    centre_site(world)
    patch = world.specimen.local_patch(site)
    assert patch.pixel_m <= 10e-9 and not patch.active
    half = 2e-6
    code = 2  # platinum
    rect = ((site.u_m - half, site.u_m + half), (site.v_m - half, site.v_m + half))
    patch.edit_rectangle(*rect, material=code)
    flat = np.argwhere(world.render_labels("ion") == LABEL_OFFSET + code)
    patch.edit_rectangle(*rect, height_delta_m=3e-6, material=code)  # a 3 µm tall block
    raised = np.argwhere(world.render_labels("ion") == LABEL_OFFSET + code)
    # Electron-flat pose: the surface normal is chamber z; in the ion image a height h
    # moves up by h·sin(52°) (b = p·(0, cos 52°, sin 52°)). The block's far top edge
    # moves by exactly that; its front wall (facing the ion column) stays visible below.
    ps = world.ion.hfw_m / world.ion.resolution_x_px
    expected_rows = -3e-6 * np.sin(np.deg2rad(52.0)) / ps
    assert abs((raised[:, 0].min() - flat[:, 0].min()) - expected_rows) < 1.5
    assert abs(raised[:, 1].mean() - flat[:, 1].mean()) < 1.0
    # Seen flat from the electron column, heights do not move anything.
    world.specimen.local_patch(site).edit_rectangle(*rect, height_delta_m=0.0)
    grey = world.render("electron")
    assert grey.shape == (world.electron.resolution_y_px, world.electron.resolution_x_px)


def test_fluorescence_is_sharpest_in_focus() -> None:
    world = make_world()
    centre_site(world)
    world.fluorescence.channel = "green"
    sharp = world.render_fluorescence().astype(float)
    world.fluorescence.objective_position_m = 20e-6
    blurred = world.render_fluorescence().astype(float)
    assert sharp.dtype == np.float64 and sharp.max() > blurred.max()
    assert sharp.max() > 5 * np.median(sharp)
