"""Beam shift, scan rotation, defocus blur and shot noise act as specified."""

import cv2
import numpy as np
import pytest
from twin_helpers import content_shift, make_world

from fibsem_ophyd.sim import TwinWorld, specimen_to_chamber


def test_beam_shift_moves_content_opposite_to_shift(world: TwinWorld) -> None:
    # (a', b') = (a - bx, b - by): content moves left by bx/ps and down by by/ps.
    ps = world.electron.hfw_m / world.electron.resolution_x_px
    before = world.render("electron")
    world.electron.beam_shift_x_m = 1.5e-6
    world.electron.beam_shift_y_m = -0.8e-6
    d_row, d_col = content_shift(before, world.render("electron"))
    assert d_col == pytest.approx(-1.5e-6 / ps, abs=0.2)
    assert d_row == pytest.approx(-0.8e-6 / ps, abs=0.2)


def test_scan_rotation_rotates_content_clockwise_on_screen() -> None:
    # R(-90°)(a, b) = (b, -a): what was right of centre appears below it.
    world = make_world(noise_scale=0.0)
    world.electron.resolution_x_px = world.electron.resolution_y_px = 384
    ref = world.render("electron").astype(np.float32)
    world.electron.scan_rotation_deg = 90.0
    rotated = world.render("electron").astype(np.float32)
    expected = np.rot90(ref, k=-1)
    inner = slice(8, -8)
    corr = np.corrcoef(rotated[inner, inner].ravel(), expected[inner, inner].ravel())[0, 1]
    corr_unrotated = np.corrcoef(rotated[inner, inner].ravel(), ref[inner, inner].ravel())[0, 1]
    assert corr > 0.95
    assert corr_unrotated < 0.5


def _sharpness(img: np.ndarray) -> float:
    return float(cv2.Laplacian(img.astype(np.float32), cv2.CV_32F).var())


def test_focus_is_sharpest_at_the_surface_working_distance() -> None:
    world = make_world(noise_scale=0.0)
    world.electron.hfw_m = 20e-6
    world.electron.working_distance_m = 4.0e-3
    pose = world.true_pose()
    geom = world.renderer.geometry("electron", world.electron)
    u, v, h = world.renderer.surface_centre(pose, geom)
    depth = float(specimen_to_chamber(u, v, h, pose, world.params) @ [0.0, 0.0, 1.0])
    best_wd = 4.0e-3 - depth  # the surface is `depth` closer to the pole piece
    offsets_m = [-40e-6, -15e-6, -5e-6, 0.0, 5e-6, 15e-6, 40e-6]
    scores = []
    for off in offsets_m:
        world.electron.working_distance_m = best_wd + off
        scores.append(_sharpness(world.render("electron")))
    best = int(np.argmax(scores))
    assert offsets_m[best] == 0.0
    assert scores[0] < scores[1] < scores[2] < scores[3]
    assert scores[3] > scores[4] > scores[5] > scores[6]


def test_noise_falls_as_one_over_sqrt_dwell() -> None:
    world = make_world()
    world.electron.dwell_time_s = 1e-3
    clean = world.render("electron").astype(np.float32)
    stds = []
    for dwell in (0.4e-6, 1.6e-6, 6.4e-6):
        world.electron.dwell_time_s = dwell
        stds.append(float(np.std(world.render("electron").astype(np.float32) - clean)))
    assert stds[0] > stds[1] > stds[2]
    assert stds[0] / stds[1] == pytest.approx(2.0, rel=0.15)
    assert stds[1] / stds[2] == pytest.approx(2.0, rel=0.15)


def test_blanked_beam_gives_a_dark_frame(world: TwinWorld) -> None:
    lit = world.render("electron")
    world.electron.blanked = True
    dark = world.render("electron")
    assert dark.mean() < 30 and dark.std() < 10
    assert lit.std() > 3 * dark.std()


def test_ion_and_electron_contrast_differ(world: TwinWorld) -> None:
    world.ion.hfw_m = world.electron.hfw_m = 400e-6
    world.set_stage(world.stage_readback().model_copy(update={"t_deg": 35.0}))
    e, i = world.render_labels("electron"), world.render_labels("ion")
    assert e.shape == i.shape
    sem, fib = world.render("electron"), world.render("ion")
    copper_e = sem[e == 2].mean() - sem[e == 3].mean()
    copper_i = fib[i == 2].mean() - fib[i == 3].mean()
    assert copper_e > 60  # copper much brighter than ice in the SEM (material contrast)
    assert copper_i < copper_e  # weaker material contrast in the FIB
