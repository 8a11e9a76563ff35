"""Lamella report accuracy, fault injection, fluorescence frame shape."""

import numpy as np
import pytest
from milling_helpers import mill, milling_backend, stage_of, trench
from twin_helpers import make_world

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.sim import TwinBackend
from fibsem_ophyd.sim.mill_physics import image_to_specimen, plane_affine, unit_geometry


@pytest.mark.parametrize(
    ("tilt_deg", "spacing_m", "x_m", "y_m"),
    [(15.0, 250e-9, 0.0, 0.0), (15.0, 300e-9, 0.2e-6, -0.3e-6), (27.0, 200e-9, 0.0, 0.1e-6)],
)
async def test_lamella_report_thickness_and_centre(
    tilt_deg: float, spacing_m: float, x_m: float, y_m: float
) -> None:
    backend = milling_backend(tilt_deg=tilt_deg)
    world = backend.world
    site = world.specimen.sites[0]
    assert not world.lamella_report(site.name).exists
    affine = plane_affine(world.renderer, world.true_pose(), unit_geometry(world.ion, world.params))
    expected_u, expected_v = image_to_specimen(affine, x_m, y_m)
    await mill(backend, stage_of(trench(spacing_m, x_m, y_m)))
    report = world.lamella_report(site.name)
    assert report.exists
    assert report.thickness_m == pytest.approx(spacing_m, abs=20e-9)
    assert np.hypot(report.centre_u_m - expected_u, report.centre_v_m - expected_v) < 50e-9
    assert report.width_m == pytest.approx(10e-6, abs=0.2e-6)
    assert report.upper_trench_depth_m == pytest.approx(1e-6, rel=0.1)
    assert report.lower_trench_depth_m == pytest.approx(1e-6, rel=0.1)
    if x_m == 0.0 and y_m == 0.0:  # drawn on the site
        assert report.centre_error_m < 50e-9


async def test_polishing_narrows_the_lamella() -> None:
    backend = milling_backend()
    site = backend.world.specimen.sites[0].name
    await mill(backend, stage_of(trench(1.0e-6)))
    assert backend.world.lamella_report(site).thickness_m == pytest.approx(1e-6, abs=20e-9)
    await mill(backend, stage_of(trench(0.3e-6)))
    assert backend.world.lamella_report(site).thickness_m == pytest.approx(0.3e-6, abs=20e-9)


def test_ion_current_readback_fault() -> None:
    backend = TwinBackend(make_world())
    backend.ion.current_a = 1e-9
    assert backend.ion.current_a == pytest.approx(1e-9)
    backend.world.faults.ion_current_readback_factor = 0.5
    assert backend.ion.current_a == pytest.approx(0.5e-9)  # the readback lies
    assert backend.world.ion.current_a == pytest.approx(1e-9)  # the beam does not
    assert backend.electron.current_a == backend.world.electron.current_a
    with pytest.raises(ValueError):
        backend.world.faults.ion_current_readback_factor = -1.0


async def test_stuck_stage_axis_ignores_moves() -> None:
    backend = TwinBackend(make_world())
    backend.world.faults.stage_stuck_axes = frozenset({"x"})
    before = backend.stage.position()
    await backend.stage.move_to(StagePosition(x_m=before.x_m + 10e-6, y_m=before.y_m + 5e-6))
    after = backend.stage.position()
    assert after.x_m == before.x_m and after.y_m == pytest.approx(before.y_m + 5e-6)
    assert backend.world.true_pose().x_m == pytest.approx(before.x_m)


async def test_milling_rate_fault_under_mills() -> None:
    backend = milling_backend()
    backend.world.faults.milling_rate_factor = 0.8
    await mill(backend, stage_of(trench(0.3e-6)))
    report = backend.world.lamella_report(backend.world.specimen.sites[0].name)
    assert report.upper_trench_depth_m == pytest.approx(0.8e-6, rel=0.05)


async def test_fluorescence_frame_shape_matches_frames() -> None:
    backend = TwinBackend(make_world())
    frame = await backend.fluorescence.acquire()
    assert isinstance(frame, np.ndarray)
    assert backend.fluorescence.frame_shape() == frame.shape
