"""Needle-tip detection on twin frames, judged by the twin's true tip."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from fibsem_ophyd.backend import ManipulatorPosition
from fibsem_ophyd.sim import TwinBackend, TwinParameters, TwinWorld
from fibsem_ophyd.sim.projection import ImageGeometry, chamber_to_image
from ml.detection import find_needle_tip

HFW_M, W, H = 40e-6, 768, 512


def _frames(tips_m):
    world = TwinWorld(TwinParameters())
    backend = TwinBackend(world)
    for beam in ("electron", "ion"):
        st = world.beam(beam)
        st.hfw_m, st.resolution_x_px, st.resolution_y_px = HFW_M, W, H
    asyncio.run(backend.manipulator.insert(ManipulatorPosition(x_m=0.0, y_m=0.0, z_m=0.0)))
    for tip in tips_m:
        x, y, z = (float(v) for v in tip)
        asyncio.run(backend.manipulator.move_to(ManipulatorPosition(x_m=x, y_m=y, z_m=z)))
        for beam in ("electron", "ion"):
            geom = ImageGeometry(world.params.column_tilt_deg(beam), HFW_M, W, H)
            yield beam, world.render(beam), chamber_to_image(np.asarray(tip), geom)


def test_tip_found_within_a_fifth_of_a_micrometre_in_both_beams():
    tips = np.random.default_rng(3).uniform(-12e-6, 12e-6, (4, 3))
    for beam, image, truth in _frames(tips):
        kp = find_needle_tip(image, HFW_M / W)
        error_m = float(np.hypot(kp.x_px - truth[0], kp.y_px - truth[1])) * HFW_M / W
        assert error_m < 0.2e-6, (beam, error_m)
        assert kp.score > 0.5


def test_no_needle_gives_no_position():
    world = TwinWorld(TwinParameters())
    world.electron.hfw_m = HFW_M
    kp = find_needle_tip(world.render("electron"), HFW_M / world.electron.resolution_x_px)
    assert kp.score < 0.3 or not np.isfinite(kp.x_px)


def test_bad_input_named():
    with pytest.raises(ValueError, match="pixel_size_m"):
        find_needle_tip(np.zeros((8, 8)), 0.0)
