"""Foreshortening, determinism, twin clock, stage error and drift, backend protocol."""

import time

import numpy as np
import pytest
from twin_helpers import make_world

from fibsem_ophyd.backend import MicroscopeBackend, ReducedArea, StagePosition
from fibsem_ophyd.sim import TwinBackend, TwinParameters, TwinWorld
from fibsem_ophyd.sim.specimen import LABEL_COPPER


def _bar_spacing_px(mask: np.ndarray, axis: int) -> float:
    """Mean spacing of full-length copper bars (rows if axis=1, columns if axis=0)."""
    on = np.concatenate([[0], (mask.mean(axis=axis) > 0.95).astype(int), [0]])
    starts = np.flatnonzero(np.diff(on) == 1)
    ends = np.flatnonzero(np.diff(on) == -1)
    centres = [
        (s + e - 1) / 2 for s, e in zip(starts, ends, strict=True) if s > 0 and e < len(on) - 2
    ]
    assert len(centres) >= 3
    return float(np.mean(np.diff(centres)))


def test_ion_view_foreshortens_specimen_v_by_cos_column_tilt() -> None:
    world = make_world()
    for beam in (world.electron, world.ion):
        beam.hfw_m = 700e-6
        beam.resolution_x_px, beam.resolution_y_px = 1024, 1024
    world.set_stage(StagePosition(x_m=62.5e-6, y_m=62.5e-6))  # bars off the edges
    ps = 700e-6 / 1024
    pitch_px = world.params.grid_pitch_m / ps
    for beam, v_factor in (("electron", 1.0), ("ion", np.cos(np.deg2rad(52.0)))):
        copper = world.render_labels(beam) == LABEL_COPPER
        assert _bar_spacing_px(copper, axis=0) == pytest.approx(pitch_px, rel=0.02)
        assert _bar_spacing_px(copper, axis=1) == pytest.approx(pitch_px * v_factor, rel=0.02)


def test_same_seed_same_frames_different_seed_different_specimen() -> None:
    a, b, c = make_world(seed=3), make_world(seed=3), make_world(seed=4)
    assert np.array_equal(a.render("electron"), b.render("electron"))
    assert np.array_equal(a.render("ion"), b.render("ion"))
    fa, fc = a.render("electron").astype(float), c.render("electron").astype(float)
    assert abs(np.corrcoef(fa.ravel(), fc.ravel())[0, 1]) < 0.5
    assert [s.name for s in a.specimen.sites] == [s.name for s in c.specimen.sites]
    assert len(a.specimen.sites) >= 4


async def test_clock_advances_by_scan_and_move_time_without_sleeping() -> None:
    backend = TwinBackend(make_world())
    e = backend.electron
    t0 = backend.clock_s()
    await backend.imaging.acquire("electron")
    expected = e.dwell_time_s * e.resolution_x_px * e.resolution_y_px
    assert backend.clock_s() - t0 == pytest.approx(expected)
    assert backend.imaging.frame_time_s("electron") == pytest.approx(expected)
    e.line_integration, e.frame_integration = 2, 3
    t1 = backend.clock_s()
    img = await backend.imaging.acquire(
        "electron", ReducedArea(left=0.25, top=0.25, width=0.5, height=0.5)
    )
    assert img.shape == (192, 256)
    assert backend.clock_s() - t1 == pytest.approx(e.dwell_time_s * 192 * 256 * 6)

    target = StagePosition(x_m=50e-3, t_deg=10.0)  # 50 s at 1 mm/s
    move_s = backend.stage.move_time_s(target)
    assert move_s >= 50.0
    wall0, t2 = time.perf_counter(), backend.clock_s()
    await backend.stage.move_to(target)
    assert backend.clock_s() - t2 == pytest.approx(move_s)
    assert time.perf_counter() - wall0 < 1.0


async def test_positioning_error_and_drift_move_the_true_pose_only() -> None:
    params = TwinParameters(
        seed=5,
        stage_position_error_m=1e-6,
        stage_rotation_error_deg=0.05,
        stage_drift_m_per_s=(1e-9, -2e-9, 0.0),
    )
    poses = []
    for _ in range(2):
        backend = TwinBackend(TwinWorld(params))
        target = StagePosition(x_m=10e-6, y_m=-5e-6, t_deg=30.0)
        await backend.stage.move_to(target)
        readback = backend.stage.position()
        assert (readback.x_m, readback.y_m, readback.t_deg) == (10e-6, -5e-6, 30.0)
        true = backend.world.true_pose()
        assert true.x_m != readback.x_m and abs(true.x_m - readback.x_m) < 6e-6
        assert true.t_deg != 30.0
        poses.append(true)
        backend.world.clock.advance(100.0)
        drifted = backend.world.true_pose()
        assert drifted.x_m - true.x_m == pytest.approx(100e-9)
        assert drifted.y_m - true.y_m == pytest.approx(-200e-9)
        assert backend.stage.position() == readback
    assert poses[0] == poses[1]  # seeded


def test_twin_backend_implements_the_protocols() -> None:
    backend = TwinBackend(make_world())
    assert isinstance(backend, MicroscopeBackend)
    fp = backend.fingerprint()
    assert fp.manufacturer == "Demo" and fp.subsystems["ion"]


async def test_refuses_impossible_requests() -> None:
    backend = TwinBackend(make_world())
    with pytest.raises(ValueError, match="retracted"):
        await backend.manipulator.move_to(backend.manipulator.position())
    with pytest.raises(ValueError, match="retracted"):
        await backend.gis.open_for(1.0)
    with pytest.raises(ValueError, match="beam"):
        backend.world.render("xray")  # type: ignore[arg-type]


def test_specimen_point_px_is_the_view_centre_and_moves_one_pixel_per_pixel_size() -> None:
    from fibsem_ophyd.geometry import StageGeometry, flat_to_beam, specimen_to_raw

    world = make_world()
    beam = world.electron
    beam.hfw_m, beam.resolution_x_px, beam.resolution_y_px = 150e-6, 1536, 1024
    geometry = StageGeometry()
    u, v = world.specimen.landing_point(0)
    flat = flat_to_beam("electron", geometry)
    assert flat.r_deg is not None and flat.t_deg is not None
    h = world.specimen.reference_height_m(u, v)
    world.set_stage(specimen_to_raw(u, v, flat.r_deg, flat.t_deg, geometry, h_m=h))
    col, row = world.specimen_point_px("electron", u, v)
    pixel_m = 150e-6 / 1536
    # the stage's move error is microns at most: the point is near the centre, not at it
    assert abs(col - 768) * pixel_m < 5e-6 and abs(row - 512) * pixel_m < 5e-6
    col2, row2 = world.specimen_point_px("electron", u + 20e-6, v)
    assert np.hypot(col2 - col, row2 - row) * pixel_m == pytest.approx(20e-6, rel=0.02)
    with pytest.raises(ValueError, match="beam must be"):
        world.specimen_point_px("neutron", u, v)  # type: ignore[arg-type]
