"""One contract, every backend: the twin and fibsem's DemoMicroscope through the bridge.

What a device sees must not depend on which backend is behind it: settings round-trip,
frames have the configured shape, moves land, limits refuse before the backend is asked,
patterns are drawn with the geometry and units asked for, needle and GIS insert and
retract, and the fingerprint is in every start document.
"""

from __future__ import annotations

import math

import bluesky.plan_stubs as bps
import numpy as np
import pytest
from bluesky.run_engine import call_in_bluesky_event_loop
from bluesky.utils import FailedStatus

from fibsem_ophyd.backend import ReducedArea, StagePosition
from fibsem_ophyd.milling import MillingStage
from fibsem_ophyd.milling.parameters import MillingParameters
from fibsem_ophyd.milling.patterns.basic import CirclePattern, LinePattern, RectanglePattern
from plans.imaging import acquire_image, set_imaging
from plans.movement import move_absolute, move_relative


def _rd(RE, signal):
    return RE(bps.rd(signal)).plan_result


# Settings and the values written (members of the shipped configuration's lists/ranges).
SETTINGS = [
    ("electron", "hfw_m", 80e-6, 1e-12),
    ("electron", "voltage_v", 5e3, 1e-6),
    ("electron", "dwell_time_s", 3e-6, 1e-12),
    ("electron", "working_distance_m", 5e-3, 1e-12),
    ("electron", "beam_shift_x_m", 2e-6, 1e-12),
    ("electron", "beam_shift_y_m", -3e-6, 1e-12),
    ("electron", "stigmation_x", 0.25, 1e-9),
    ("electron", "scan_rotation_deg", 30.0, 1e-9),
    ("electron", "detector_contrast", 0.7, 1e-9),
    ("electron", "detector_brightness", 0.3, 1e-9),
    ("electron", "detector_type", "TLD", None),
    ("ion", "current_a", 0.74e-9, 1e-15),
    ("ion", "hfw_m", 100e-6, 1e-12),
    ("ion", "voltage_v", 16e3, 1e-6),
    ("ion", "resolution", "768x512", None),
]


@pytest.mark.parametrize(("beam", "name", "value", "tol"), SETTINGS)
def test_setting_round_trips(RE, bm, beam, name, value, tol):
    signal = getattr(bm.beam(beam), name)
    RE(bps.mv(signal, value))
    got = _rd(RE, signal)
    if tol is None:
        assert got == value
    else:
        assert math.isclose(got, value, rel_tol=0, abs_tol=tol), (got, value)
    # and the backend itself reports it (the device did not just cache the setpoint)
    column = getattr(bm.backend, beam)
    if name == "resolution":
        assert (column.resolution_x_px, column.resolution_y_px) == (768, 512)
    elif tol is None:
        assert getattr(column, name) == value
    else:
        assert math.isclose(getattr(column, name), value, abs_tol=tol)


def _run(awaitable):
    """Await a backend coroutine in the RunEngine's loop (where devices live)."""
    return call_in_bluesky_event_loop(awaitable)


def _do(action, *args):
    """Run a device action (an AsyncStatus, made inside the loop) and wait for it."""

    async def run():
        await action(*args)

    return call_in_bluesky_event_loop(run())


def test_frame_has_configured_shape(RE, bm):
    RE(set_imaging(bm, "electron", resolution="768x512", hfw_m=100e-6))
    frame = _run(bm.backend.imaging.acquire("electron"))
    assert frame.shape == (512, 768)
    assert frame.dtype == np.uint8
    assert frame.std() > 0  # an image, not a blank buffer
    part = _run(
        bm.backend.imaging.acquire(
            "electron", ReducedArea(left=0.5, top=0.25, width=0.5, height=0.5)
        )
    )
    assert part.shape == (256, 384)


def test_acquire_image_run_has_frame_and_fingerprint(RE, bm):
    docs: list[tuple[str, dict]] = []
    RE.subscribe(lambda name, doc: docs.append((name, doc)))
    RE(set_imaging(bm, "ion", resolution="384x256"))
    RE(acquire_image(bm, "ion"))
    start = next(d for n, d in docs if n == "start")
    fp = bm.backend.fingerprint()
    assert start["fingerprint"]["manufacturer"] == fp.manufacturer
    assert start["fingerprint"]["serial_number"] == fp.serial_number
    descriptor = next(d for n, d in docs if n == "descriptor")
    shapes = [v["shape"] for v in descriptor["data_keys"].values() if len(v["shape"]) >= 2]
    assert [s[-2:] for s in shapes] == [[256, 384]]


def test_absolute_and_relative_moves_land(RE, bm):
    target = StagePosition(x_m=1e-3, y_m=-0.5e-3, z_m=4e-3, r_deg=90.0, t_deg=20.0)
    RE(move_absolute(bm, target))
    got = bm.backend.stage.position()
    for axis, want in target:
        assert math.isclose(getattr(got, axis), want, abs_tol=20e-6 if axis[-1] == "m" else 0.05)
    RE(move_relative(bm, dx_m=10e-6, dt_deg=-5.0))
    after = bm.backend.stage.position()
    assert math.isclose(after.x_m - got.x_m, 10e-6, abs_tol=5e-6)
    assert math.isclose(after.t_deg - got.t_deg, -5.0, abs_tol=0.05)


def test_limits_refuse_before_the_backend(RE, bm):
    before = bm.backend.stage.position()
    calls = getattr(bm.backend, "calls", None)
    logged = len(calls.log) if calls else 0
    with pytest.raises(ValueError, match=r"stage.t_deg.*\[-10, 60\]"):
        RE(move_absolute(bm, StagePosition(x_m=0.0, t_deg=75.0)))
    with pytest.raises(FailedStatus):
        RE(bps.mv(bm.ion_beam.hfw_m, 5e-3))
    assert bm.backend.stage.position() == before
    if calls is not None:  # the bridge logs every vendor call: no move, no write was made
        made = calls.log[logged:]
        assert not [c for c in made if c[1] in ("move_to", "set hfw")], made


def _stage() -> MillingStage:
    return MillingStage(
        name="contract",
        patterns=[
            RectanglePattern(x_m=5e-6, y_m=-4e-6, width_m=12e-6, height_m=3e-6, depth_m=1e-6,
                             rotation_deg=30.0),
            LinePattern(x_m=-10e-6, y_m=8e-6, length_m=6e-6, depth_m=0.5e-6),
            CirclePattern(x_m=-12e-6, y_m=-10e-6, radius_m=2e-6, depth_m=0.8e-6),
        ],
        parameters=MillingParameters(milling_current_a=0.74e-9, hfw_m=80e-6),
    )  # fmt: skip


def test_milling_patterns_drawn_and_milled(RE, bm):
    stage = _stage()
    RE(bps.mv(bm.ion_beam.hfw_m, 80e-6, bm.ion_beam.current_a, 0.74e-9))
    _do(bm.milling.draw, stage)
    assert bm.milling.drawn == stage
    assert _rd(RE, bm.milling.estimated_time_s) > 0
    _do(bm.milling.mill)
    assert _rd(RE, bm.milling.progress) == pytest.approx(1.0)


def test_manipulator_and_gis_insert_retract(RE, bm):
    _do(bm.manipulator.insert, "park")
    assert bm.backend.manipulator.inserted is True
    park = bm.manipulator.limits.park
    got = bm.backend.manipulator.position()
    for axis in ("x_m", "y_m", "z_m"):
        assert math.isclose(getattr(got, axis), getattr(park, axis), abs_tol=1e-6), axis
    _do(bm.manipulator.retract)
    assert bm.backend.manipulator.inserted is False
    _do(bm.gis.insert)
    assert bm.backend.gis.inserted is True
    _do(bm.gis.retract)
    assert bm.backend.gis.inserted is False
