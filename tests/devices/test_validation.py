"""Bad input is refused with a message naming the field and its range, before anything
changes."""

from __future__ import annotations

import math

import bluesky.plan_stubs as bps
import pytest
from bluesky.utils import FailedStatus

from fibsem_ophyd.backend import StagePosition


def _value(RE, signal):
    return RE(bps.rd(signal)).plan_result


@pytest.mark.parametrize(
    ("attr", "bad", "words"),
    [
        ("hfw_m", 5e-3, ["ion.hfw_m", "allowed range"]),
        ("hfw_m", math.nan, ["ion.hfw_m"]),
        ("current_a", 0.123e-9, ["ion.current_a", "allowed", "7.4e-09"]),
        ("dwell_time_s", 1.0, ["ion.dwell_time_s", "allowed range"]),
        ("resolution", "1000x1000", ["ion.resolution", "1536x1024"]),
        ("beam_shift_x_m", 1e-3, ["ion.beam_shift_x_m"]),
    ],
)
def test_beam_setting_refused(RE, microscope, attr, bad, words):
    signal = getattr(microscope.ion_beam, attr)
    before = _value(RE, signal)
    with pytest.raises(FailedStatus) as info:
        RE(bps.mv(signal, bad))
    message = str(info.value.__cause__ or info.value)
    for word in words:
        assert word in message
    assert _value(RE, signal) == before


def test_stage_move_outside_limits_moves_nothing(RE, microscope):
    stage = microscope.stage
    before = microscope.backend.stage.position()
    bad = StagePosition(x_m=1e-4, y_m=1e-4, t_deg=75.0)  # tilt beyond 60 deg
    with pytest.raises(FailedStatus) as info:
        RE(bps.mv(stage, bad))
    assert "stage.t_deg" in str(info.value.__cause__)
    assert "[-10, 60] deg" in str(info.value.__cause__)
    assert microscope.backend.stage.position() == before


@pytest.mark.parametrize("bad", [math.nan, math.inf, 0.02])
def test_axis_refuses_bad_target(RE, microscope, bad):
    before = _value(RE, microscope.stage.x.readback)
    with pytest.raises(FailedStatus):
        RE(bps.mv(microscope.stage.x, bad))
    assert _value(RE, microscope.stage.x.readback) == before


def test_stage_moves_and_reports(RE, microscope):
    stage = microscope.stage
    RE(bps.mv(stage.x, 1.5e-4))
    assert math.isclose(_value(RE, stage.x.readback), 1.5e-4, abs_tol=1e-12)
    target = StagePosition(x_m=-2e-4, y_m=3e-4, t_deg=20.0)
    RE(bps.mv(stage, target))
    pos = microscope.backend.stage.position()
    assert math.isclose(pos.y_m, 3e-4, abs_tol=1e-12)
    assert math.isclose(pos.t_deg, 20.0, abs_tol=1e-9)
    assert math.isclose(_value(RE, stage.t.readback), 20.0, abs_tol=1e-9)
