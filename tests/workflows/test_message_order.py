"""Message order of the milling and workflow plans, checked with bluesky's
RunEngineSimulator (no RunEngine, no hardware): the current is verified before any
pattern is drawn, the mill runs outside bluesky's rewinding (never replayed; no
checkpoint is ever cleared, so pausing keeps working), cleanup halts the mill."""

from __future__ import annotations

import pytest
from bluesky.simulators import RunEngineSimulator, assert_message_and_return_remaining
from bluesky.utils import Msg

from fibsem_ophyd.milling import default_protocol, milling_stages
from plans.milling import MillingCurrentError, run_milling


@pytest.fixture(scope="module")
def microscope():
    from fibsem_ophyd.connect import build_microscope

    return build_microscope()


def _simulator(values: dict[str, float]) -> RunEngineSimulator:
    """Answer `rd` of any signal with `values[name]` (default 0.0)."""
    sim = RunEngineSimulator()

    def locate(msg: Msg):
        v = values.get(msg.obj.name, 0.0)
        return {"setpoint": v, "readback": v}

    def read(msg: Msg):
        return {msg.obj.name: {"value": values.get(msg.obj.name, 0.0), "timestamp": 0.0}}

    sim.add_handler("locate", locate)
    sim.add_handler("read", read)
    return sim


def _stages():
    return milling_stages(default_protocol(), "rough")[:1]


def _is_wait_for(msg: Msg) -> bool:
    return msg.command == "wait_for"


def test_current_is_verified_before_anything_is_drawn(microscope):
    m = microscope
    stage = _stages()[0]
    current = stage.parameters.milling_current_a
    done = {
        m.milling.state.name: "done",
        m.milling_verifier.coverage.name: 1.0,
        m.milling_verifier.precision.name: 1.0,
    }
    sim = _simulator({m.ion_beam.current_a.name: current, **done})
    msgs = sim.simulate_plan(run_milling(m, [stage]))
    assert not [x for x in msgs if x.command == "clear_checkpoint"]
    rest = assert_message_and_return_remaining(msgs, lambda x: x.command == "open_run")
    rest = assert_message_and_return_remaining(
        rest, lambda x: x.command == "set" and x.obj is m.ion_beam.current_a
    )
    assert x_args(rest[0]) == pytest.approx(current)
    rest = assert_message_and_return_remaining(
        rest, lambda x: x.command == "locate" and x.obj is m.ion_beam.current_a
    )
    rest = assert_message_and_return_remaining(rest, _is_wait_for)  # draw
    rest = assert_message_and_return_remaining(rest, lambda x: x.command == "checkpoint")
    rest = assert_message_and_return_remaining(
        rest, lambda x: x.command == "rewindable" and x.args == (False,)
    )
    rest = assert_message_and_return_remaining(rest, _is_wait_for)  # mill, not rewindable
    rest = assert_message_and_return_remaining(rest, lambda x: x.command == "rewindable")
    rest = assert_message_and_return_remaining(rest, lambda x: x.command == "close_run")
    assert rest[0].kwargs.get("exit_status") in (None, "success")
    # cleanup after the run: halt, then the imaging current is written back
    rest = assert_message_and_return_remaining(rest, _is_wait_for)
    assert any(x.command == "set" and x.obj is m.ion_beam.current_a for x in rest)


def x_args(msg: Msg) -> float:
    return float(msg.args[0])


def test_wrong_readback_fails_before_drawing(microscope):
    m = microscope
    stage = _stages()[0]
    wrong = stage.parameters.milling_current_a * 0.5
    sim = _simulator({m.ion_beam.current_a.name: wrong})
    with pytest.raises(MillingCurrentError, match="does not confirm"):
        sim.simulate_plan(run_milling(m, [stage]))


def test_invalid_current_refused_before_any_message(microscope):
    m = microscope
    stage = _stages()[0]
    bad = stage.model_copy(
        update={"parameters": stage.parameters.model_copy(update={"milling_current_a": 0.123e-9})}
    )
    gen = run_milling(m, [bad])
    with pytest.raises(ValueError, match="milling_current_a"):
        next(gen)
