"""The stage stays inside the insertion envelope while a needle (manipulator or GIS) is
in or going in: a tilt or height outside it is refused before anything moves, by the
axis, by `Stage.move_to` and by `check_position` (after the soft limits), also when the
move and the insertion start together."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import pytest
from bluesky.utils import FailedStatus

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.devices.interlocks import InterlockError

from ._interlock_helpers import INSERTIONS, do, on_loop, together, violations

# Timing-sensitive (pauses, races, event-loop gaps): run alone after the parallel
# part of the suite (see the Makefile's test target).
pytestmark = pytest.mark.serial


@pytest.mark.parametrize("needle", INSERTIONS)
@pytest.mark.parametrize(
    "move",
    [
        lambda m: bps.mv(m.stage.t, 55.0),
        lambda m: bps.mv(m.stage, StagePosition(t_deg=55.0)),
        lambda m: bps.mv(m.stage, StagePosition(z_m=m.limits.manipulator.safe_z_max_m + 1e-3)),
    ],
    ids=["axis", "stage", "z"],
)
def test_stage_leaving_the_envelope_is_refused_with_a_needle_in(RE, microscope, needle, move):
    m = microscope
    do(RE, lambda: INSERTIONS[needle][0](m))
    before = m.backend.stage.position()
    with pytest.raises(FailedStatus) as info:
        RE(move(m))
    assert isinstance(info.value.__cause__, InterlockError)
    assert "safe envelope" in str(info.value.__cause__)
    assert m.backend.stage.position() == before
    with pytest.raises(InterlockError, match="inserted; retract first"):
        m.stage.check_position(StagePosition(t_deg=55.0))
    RE(bps.mv(m.stage.t, 30.0))  # inside the envelope: allowed
    with pytest.raises(ValueError, match="soft limits"):  # the limits still come first
        m.stage.check_position(StagePosition(t_deg=90.0))


TILTS = {
    "axis": lambda m: m.stage.t.set(55.0),
    "stage": lambda m: m.stage.move_to(StagePosition(t_deg=55.0)),
}


@pytest.mark.parametrize("needle", INSERTIONS)
@pytest.mark.parametrize("tilt", TILTS)
@pytest.mark.parametrize("tilt_first", [False, True])
def test_tilt_and_insertion_together_never_leave_a_needle_outside(
    RE, microscope, needle, tilt, tilt_first
):
    m = microscope
    actions = [lambda: INSERTIONS[needle][0](m), lambda: TILTS[tilt](m)]
    errors = on_loop(RE, together(*(actions[::-1] if tilt_first else actions)))
    refused = [e for e in errors if e is not None]
    assert len(refused) == 1 and isinstance(refused[0], InterlockError), errors
    assert "safe envelope" in str(refused[0])
    if tilt_first and tilt == "stage":  # checked and held before its first await
        assert "a stage move is in progress" in str(errors[1])
    assert violations(m) == []
