"""Twin scenes for the keypoint tests: a site displaced by a known amount, and where its
grid-square centre truly lands in the image (from fibsem_ophyd.geometry)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fibsem_ophyd.backend import BeamName, StagePosition
from fibsem_ophyd.geometry import (
    StageGeometry,
    chamber_to_image,
    flat_to_beam,
    image_to_pixels,
    specimen_to_chamber,
    specimen_to_raw,
    tilt_for_milling_angle,
)
from fibsem_ophyd.sim import TwinParameters, TwinWorld

HFW_M = 150e-6
WIDTH_PX, HEIGHT_PX = 1536, 1024
PIXEL_M = HFW_M / WIDTH_PX
MILLING_ANGLE_DEG = 15.0
GEOMETRY = StageGeometry()  # the twin's defaults


@dataclass(frozen=True)
class Scene:
    image: np.ndarray
    true_col: float
    true_row: float
    vertical_scale: float


def make_world(seed: int = 0) -> TwinWorld:
    world = TwinWorld(TwinParameters(seed=seed))
    for beam in (world.electron, world.ion):
        beam.hfw_m = HFW_M
        beam.resolution_x_px, beam.resolution_y_px = WIDTH_PX, HEIGHT_PX
    return world


def view_pose(beam: BeamName) -> StagePosition:
    """SEM: electron-flat; FIB: the lamella milling angle (rotation reference)."""
    if beam == "electron":
        return flat_to_beam("electron", GEOMETRY)
    return tilt_for_milling_angle(MILLING_ANGLE_DEG, GEOMETRY)


def render_site(
    world: TwinWorld, beam: BeamName, site_index: int, du_m: float, dv_m: float
) -> Scene:
    """Image with the stage moved (du, dv) (specimen plane) away from the site pose."""
    site = world.specimen.sites[site_index]
    pose = view_pose(beam)
    assert pose.r_deg is not None and pose.t_deg is not None
    world.set_stage(
        specimen_to_raw(site.u_m + du_m, site.v_m + dv_m, pose.r_deg, pose.t_deg, GEOMETRY)
    )
    image = world.render(beam)
    col, row = true_pixel(world, beam, site.u_m, site.v_m)
    # The ion view foreshortens the surface vertically by sin(milling angle).
    scale = 1.0 if beam == "electron" else float(np.sin(np.radians(MILLING_ANGLE_DEG)))
    return Scene(image, col, row, scale)


def true_pixel(world: TwinWorld, beam: BeamName, u_m: float, v_m: float) -> tuple[float, float]:
    """(col, row) of specimen point (u, v) at the surface height the twin draws it at."""
    state = world.beam(beam)
    image_geom = world.renderer.geometry(beam, state)
    true = world.true_pose()
    h_m = world.renderer.surface_centre(true, image_geom)[2]
    pose = StagePosition(
        x_m=true.x_m, y_m=true.y_m, z_m=true.z_m, r_deg=true.r_deg, t_deg=true.t_deg
    )
    p = specimen_to_chamber(u_m, v_m, h_m, pose, GEOMETRY)
    a, b = chamber_to_image(
        p,
        GEOMETRY.column_tilt_deg(beam),
        (state.beam_shift_x_m, state.beam_shift_y_m),
        state.scan_rotation_deg,
    )
    col, row = image_to_pixels(a, b, WIDTH_PX, HEIGHT_PX, HFW_M)
    return float(col), float(row)
