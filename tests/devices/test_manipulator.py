"""The manipulator device on the twin: exchange round trip, image-frame moves, and the
configuration keys (park, eucentric and exchange poses, insertion envelope) that set
what it does. Judged by the twin's true tip."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import numpy as np
import pytest

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.devices.interlocks import InterlockError
from fibsem_ophyd.geometry import chamber_to_image, source_direction
from plans.stubs import call
from tests.plans._scope import scope


def _tip(m) -> np.ndarray:
    w = m.backend.world.manipulator
    return np.array([w.x_m, w.y_m, w.z_m])


def _raw(m) -> tuple[float, float, float]:
    p = m.backend.manipulator.position()
    return p.x_m, p.y_m, p.z_m


def test_exchange_round_trips(RE, frames_dir):
    m = scope(frames_dir, {"manipulator": {"exchange_position": {"x_m": 1e-3, "z_m": 3e-3}}})
    RE(call(lambda: m.manipulator.insert("park")))
    RE(bps.mv(m.manipulator.x, 20e-6))
    parked = _raw(m)
    RE(call(lambda: m.manipulator.move_to_exchange()))
    assert not m.backend.manipulator.inserted
    assert _raw(m) == pytest.approx((1e-3, 0.0, 3e-3))
    assert RE(bps.rd(m.manipulator.at_exchange)).plan_result
    with pytest.raises(InterlockError, match="exchange position"):
        RE(call(lambda: m.manipulator.insert("park")))
    RE(call(lambda: m.manipulator.return_from_exchange()))
    assert _raw(m) == pytest.approx(parked)
    assert not RE(bps.rd(m.manipulator.at_exchange)).plan_result
    RE(call(lambda: m.manipulator.insert("park")))
    assert _raw(m) == pytest.approx((0.0, 0.0, 200e-6))


def test_return_from_exchange_refused_when_not_there(RE, frames_dir):
    m = scope(frames_dir)
    with pytest.raises(InterlockError, match="not there"):
        RE(call(lambda: m.manipulator.return_from_exchange()))


@pytest.mark.parametrize("rotation_deg", [0.0, 30.0])
def test_image_frame_moves_move_the_tip_as_seen_in_that_image(RE, frames_dir, rotation_deg):
    m = scope(frames_dir, twin={"manipulator_tip_offset_m": (2e-6, -3e-6, 1e-6)})
    RE(bps.mv(m.ion_beam.scan_rotation_deg, rotation_deg))
    RE(call(lambda: m.manipulator.insert("eucentric")))
    ion_tilt = m.geometry.column_tilt_deg("ion")

    def seen(beam: str, tilt: float) -> np.ndarray:
        rot = rotation_deg if beam == "ion" else 0.0
        return np.array(chamber_to_image(_tip(m), tilt, scan_rotation_deg=rot), float)

    axis = source_direction(ion_tilt)
    before, depth = seen("ion", ion_tilt), _tip(m) @ axis
    RE(call(lambda: m.manipulator.move_in_image(3e-6, -2e-6, "ion")))
    assert seen("ion", ion_tilt) - before == pytest.approx([3e-6, -2e-6], abs=1e-12)
    assert _tip(m) @ axis == pytest.approx(depth, abs=1e-12)  # in the ion image plane

    sem = seen("electron", 0.0)
    ion = seen("ion", ion_tilt)
    dy = 1.5e-6
    c, s = np.cos(np.radians(rotation_deg)), np.sin(np.radians(rotation_deg))
    # Vertical in the unrotated image plane, as the rotated image shows it: R(-φ)·(0, dy).
    dx_r, dy_r = np.array([[c, s], [-s, c]]) @ np.array([0.0, dy])
    RE(call(lambda: m.manipulator.move_in_image(float(dx_r), float(dy_r), "ion", keep="electron")))
    assert seen("electron", 0.0) == pytest.approx(sem, abs=1e-12)  # the SEM view stays
    assert seen("ion", ion_tilt) - ion == pytest.approx([dx_r, dy_r], abs=1e-12)


def test_image_frame_move_keeping_the_other_view_refuses_a_sideways_part(RE, frames_dir):
    m = scope(frames_dir)
    RE(call(lambda: m.manipulator.insert("eucentric")))
    before = _raw(m)
    with pytest.raises(ValueError, match="dx_m"):
        RE(call(lambda: m.manipulator.move_in_image(1e-6, 1e-6, "ion", keep="electron")))
    assert _raw(m) == before


def test_configured_poses_set_where_the_needle_goes(RE, frames_dir):
    default = scope(frames_dir)
    m = scope(frames_dir, {"manipulator": {
        "park_position": {"z_m": 500e-6}, "eucentric_position": {"y_m": 5e-6, "z_m": 2e-6},
    }})  # fmt: skip
    for scope_, park, euc in ((default, 200e-6, (0, 0, 0)), (m, 500e-6, (0, 5e-6, 2e-6))):
        RE(call(lambda s=scope_: s.manipulator.insert("park")))
        assert _tip(scope_) == pytest.approx([0.0, 0.0, park])
        RE(call(lambda s=scope_: s.manipulator.retract()))
        RE(call(lambda s=scope_: s.manipulator.insert("eucentric")))
        assert _tip(scope_) == pytest.approx(euc)


def test_insertion_envelope_from_the_configuration(RE, frames_dir):
    tilt = StagePosition(t_deg=35.0)
    default = scope(frames_dir)
    RE(bps.mv(default.stage, tilt))
    RE(call(lambda: default.manipulator.insert("park")))  # inside [-1, 40] deg
    narrow = scope(frames_dir, {"manipulator": {"insertion_envelope": {
        "stage_tilt_deg": {"min": -1.0, "max": 30.0}}}})  # fmt: skip
    RE(bps.mv(narrow.stage, tilt))
    with pytest.raises(InterlockError, match=r"\[-1, 30\] deg"):
        RE(call(lambda: narrow.manipulator.insert("park")))
    assert not narrow.backend.manipulator.inserted
