"""Interlocks of the chamber hold for the whole of an action, also when two actions are
started together (their statuses gathered on the RunEngine's loop, where the twin's
moves yield to each other): one of a conflicting pair is refused with a clear reason,
and the microscope never ends in a forbidden state. The stage envelope is in
test_interlock_envelope.py, the random walk over all of them in test_interlock_walk.py."""

from __future__ import annotations

import asyncio
import re

import pytest

from fibsem_ophyd.devices.interlocks import InterlockError
from fibsem_ophyd.values import WrongTypeError

from ._interlock_helpers import (
    INSERTIONS,
    do,
    needles_inserted,
    on_loop,
    pose_for_milling,
    settle,
    tiny_stage,
    together,
    violations,
)

# Timing-sensitive (pauses, races, event-loop gaps): run alone after the parallel
# part of the suite (see the Makefile's test target).
pytestmark = pytest.mark.serial


@pytest.mark.parametrize("needle", INSERTIONS)
@pytest.mark.parametrize("vent_first", [False, True])
def test_insertion_and_vent_together_never_end_vented_with_a_needle_in(
    RE, microscope, needle, vent_first
):
    m = microscope
    insert, busy_reason = INSERTIONS[needle]
    actions = [lambda: insert(m), lambda: m.chamber.vent()]
    errors = on_loop(RE, together(*(actions[::-1] if vent_first else actions)))
    if vent_first:
        error = errors[1]  # the insertion: refused, not queued behind the vent
        assert isinstance(error, InterlockError) and "chamber is venting" in str(error)
        assert m.backend.chamber.state.value == "vented" and not needles_inserted(m)
    else:
        error = errors[1]  # the vent: refused while the needle goes in
        assert isinstance(error, InterlockError) and re.search(busy_reason, str(error))
        assert m.backend.chamber.state.value == "pumped" and needles_inserted(m)
    assert errors[0] is None
    assert violations(m) == []


def test_vent_is_refused_while_milling_and_a_paused_mill(RE, microscope):
    m = microscope
    pose_for_milling(RE, m)

    async def scenario() -> None:
        await m.milling.draw(tiny_stage())
        mill_error, vent_error = await together(m.milling.mill, m.chamber.vent)
        assert mill_error is None  # the mill went on to the end
        assert isinstance(vent_error, InterlockError)
        assert "halt the milling first" in str(vent_error)
        await m.milling.draw(tiny_stage())
        await m.milling.mill(0.5)  # leaves the mill paused: still in progress
        assert m.milling.busy
        with pytest.raises(InterlockError, match="milling is in progress"):
            await m.chamber.vent()
        await m.milling.halt()

    on_loop(RE, scenario())
    assert m.backend.chamber.state.value == "pumped" and m.backend.ion.on


def test_mill_started_after_a_vent_is_refused(RE, microscope):
    m = microscope
    pose_for_milling(RE, m)

    async def scenario() -> list[BaseException | None]:
        await m.milling.draw(tiny_stage())
        return await together(m.chamber.vent, m.milling.mill)

    vent_error, mill_error = on_loop(RE, scenario())
    assert vent_error is None and isinstance(mill_error, InterlockError)
    assert not m.backend.milling.running and violations(m) == []


def test_a_second_mill_while_one_runs_is_refused_and_the_first_ends(RE, microscope):
    m = microscope
    pose_for_milling(RE, m)

    async def scenario() -> list[BaseException | None]:
        await m.milling.draw(tiny_stage())
        try:
            return await asyncio.wait_for(together(m.milling.mill, lambda: m.milling.mill(0.5)), 5)
        finally:
            await m.milling.halt()

    first, second = on_loop(RE, scenario())
    assert first is None  # milled to the end
    assert isinstance(second, RuntimeError) and "already in progress" in str(second)


@pytest.mark.parametrize("paused", [False, True])
@pytest.mark.parametrize("how", ["ion_beam.on", "switch_beams_off"])
def test_ion_beam_going_off_interrupts_milling(RE, microscope, paused, how):
    m = microscope
    pose_for_milling(RE, m)

    async def beam_off() -> None:
        if how == "ion_beam.on":
            await m.ion_beam.on.set(False)
        else:
            m.interlocks.switch_beams_off("test")

    async def scenario() -> list[BaseException | None]:
        await m.milling.draw(tiny_stage())
        if paused:
            await m.milling.mill(0.5)
            await beam_off()
            await settle()
            return await together(m.milling.mill)
        return await together(m.milling.mill, beam_off)

    errors = on_loop(RE, scenario())
    assert isinstance(errors[0], InterlockError), errors
    assert "milling interrupted" in str(errors[0])
    assert not m.milling.busy and not m.backend.milling.running
    assert violations(m) == []


def test_pump_and_vent_repeated_are_no_ops(RE, microscope):
    m = microscope
    clock_s = m.backend.world.clock.now_s()
    do(RE, m.chamber.pump)  # pumped already: returns at once
    assert m.backend.world.clock.now_s() == clock_s
    assert m.backend.chamber.state.value == "pumped" and m.backend.electron.on
    do(RE, m.chamber.vent)
    vented_s = m.backend.world.clock.now_s()
    do(RE, m.chamber.vent)
    assert m.backend.world.clock.now_s() == vented_s
    assert m.backend.chamber.state.value == "vented"


def test_pump_while_venting_and_vent_while_pumping_are_refused(RE, microscope):
    m = microscope
    vent_error, pump_error = on_loop(RE, together(m.chamber.vent, m.chamber.pump))
    assert vent_error is None and isinstance(pump_error, InterlockError)
    assert "chamber is venting" in str(pump_error)
    pump_error, vent_error = on_loop(RE, together(m.chamber.pump, m.chamber.vent))
    assert pump_error is None and isinstance(vent_error, InterlockError)
    assert "chamber is pumping" in str(vent_error)
    assert m.backend.chamber.state.value == "pumped"


@pytest.mark.parametrize("other", ["vent", "gis insert"])
def test_nothing_vents_or_goes_in_while_sputter_coating(RE, microscope, other):
    m = microscope
    start = {"vent": m.chamber.vent, "gis insert": m.gis.insert}[other]
    coat_error, error = on_loop(RE, together(lambda: m.sputter_coater.coat(5.0), start))
    assert coat_error is None and isinstance(error, InterlockError)
    assert "sputter coating is in progress" in str(error)
    assert m.backend.chamber.state.value == "pumped" and not needles_inserted(m)


def test_gis_duration_must_be_a_number(RE, microscope):
    with pytest.raises(WrongTypeError, match=r"gis.duration_s='5' must be a number \(float, s\)"):
        do(RE, lambda: microscope.gis.open_for("5"))
