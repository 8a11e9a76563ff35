"""Wrong types are refused with a message naming the field, and nothing is stored: the
backend, the signal's readback and its setpoint (`locate()`), and the whole microscope
state are unchanged after the refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bluesky.plan_stubs as bps
import numpy as np
import pytest
from bluesky.utils import FailedStatus

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.config import ConfigError, load_config
from fibsem_ophyd.milling import ProtocolError, load_protocol
from fibsem_ophyd.values import WrongTypeError, typed
from plans.imaging import reference_images, set_imaging
from plans.movement import move_absolute, move_relative, safe_move, stable_move
from plans.state import save_state


def _signal(m: Any, path: str) -> Any:
    obj = m
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _snapshot(RE, m, signal) -> dict:
    """Everything a refusal must leave alone (the clock ticks; it is left out)."""
    state = RE(save_state(m)).plan_result.model_dump(exclude={"clock_s"})
    setpoint = RE(bps.locate(signal)).plan_result
    heater = RE(bps.rd(m.gis.heater_on)).plan_result
    return {"state": state, "located": setpoint, "heater": heater, "gis": m.backend.gis.heater_on}


# (signal, wrong value, words the message must hold)
WRONG = [
    ("electron_beam.hfw_m", "1e-4", "electron.hfw_m='1e-4' must be a number (float, m), got str"),
    ("electron_beam.on", "False", "electron.on='False' must be True or False (bool), got str"),
    ("ion_beam.blanked", 1, "ion.blanked=1 must be True or False (bool), got int"),
    ("electron_beam.current_a", "3e-11", "electron.current_a='3e-11' must be a number"),
    ("ion_beam.voltage_v", None, "ion.voltage_v=None must be a number (float, V)"),
    ("ion_beam.line_integration", 2.7, "ion.line_integration=2.7 must be a whole number"),
    ("ion_beam.frame_integration", True, "ion.frame_integration=True must be a whole number"),
    ("electron_beam.line_integration", "2", "electron.line_integration='2' must be a whole"),
    ("electron_beam.dwell_time_s", False, "electron.dwell_time_s=False must be a number"),
    ("electron_beam.detector_type", 3, "electron.detector_type=3 must be a string (str)"),
    ("ion_beam.resolution", 1536, "ion.resolution=1536 must be a string (str), got int"),
    ("fluorescence.channel", 1, "fluorescence.channel=1 must be a string"),
    ("fluorescence.exposure_time_s", "0.1", "fluorescence.exposure_time_s='0.1' must be a num"),
    ("gis.heater_on", "True", "gis.heater_on='True' must be True or False (bool), got str"),
    ("stage.x", "1e-4", "stage.x_m='1e-4' must be a number (float, m), got str"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "bad", "message"), WRONG)
def test_wrong_type_is_refused_and_nothing_is_stored(RE, microscope, path, bad, message):
    m = microscope
    signal = _signal(m, path)
    before = _snapshot(RE, m, signal)
    with pytest.raises(FailedStatus) as info:
        RE(bps.mv(signal, bad))
    assert isinstance(info.value.__cause__, WrongTypeError)
    assert message in str(info.value.__cause__)
    assert _snapshot(RE, m, signal) == before


def test_backend_never_holds_the_rejected_value(RE, microscope):
    beam = microscope.electron_beam
    for field, bad in [("hfw_m", "1e-4"), ("on", "False"), ("current_a", "2.5e-11")]:
        before = getattr(beam.backend, field)
        with pytest.raises(FailedStatus):
            RE(bps.mv(getattr(beam, field), bad))
        assert getattr(beam.backend, field) == before
        assert type(getattr(beam.backend, field)) is type(before)


def test_out_of_range_leaves_the_setpoint_alone(RE, microscope):
    """SoftSignalBackend caches a setpoint before its setter runs: restored on refusal."""
    hfw = microscope.ion_beam.hfw_m
    before = RE(bps.locate(hfw)).plan_result
    with pytest.raises(FailedStatus, match="allowed range"):
        RE(bps.mv(hfw, 1.0))
    assert RE(bps.locate(hfw)).plan_result == before


@pytest.mark.parametrize(("path", "given", "stored"), [
    ("electron_beam.beam_shift_x_m", 0, 0.0),  # an int is a number
    ("electron_beam.hfw_m", np.float32(1e-4), float(np.float32(1e-4))),
    ("ion_beam.line_integration", 2.0, 2),  # a float with no fraction is a whole number
    ("ion_beam.line_integration", np.int64(3), 3),
    ("ion_beam.blanked", np.bool_(True), True),
])  # fmt: skip
def test_right_types_are_stored_as_the_field_type(RE, microscope, path, given, stored):
    signal = _signal(microscope, path)
    RE(bps.mv(signal, given))
    beam, field = path.split(".")
    value = getattr(getattr(microscope, beam).backend, field)
    assert value == stored and type(value) is type(stored)
    assert RE(bps.locate(signal)).plan_result == {"setpoint": stored, "readback": stored}


def _unchanged(RE, m, plan, exc: type[Exception], match: str) -> None:
    before = RE(save_state(m)).plan_result.model_dump(exclude={"clock_s"})
    with pytest.raises(exc, match=match):
        RE(plan)
    assert RE(save_state(m)).plan_result.model_dump(exclude={"clock_s"}) == before


@pytest.mark.parametrize(("make", "match"), [
    (lambda m: move_relative(m, dx_m="1e-6"), r"dx_m='1e-6' must be a number \(float, m\)"),
    (lambda m: move_relative(m, dt_deg=True), r"dt_deg=True must be a number \(float, deg\)"),
    (lambda m: stable_move(m, "1e-6", 0.0), "dx_m='1e-6'"),
    (lambda m: move_absolute(m, {}), r"target=\{\} must be a StagePosition"),
    (lambda m: safe_move(m, {"x_m": 1e-4}), "target=.* must be a StagePosition"),
    (lambda m: set_imaging(m, "electron", hfw_m="1e-4"), "electron.hfw_m='1e-4'"),
    (lambda m: set_imaging(m, "ion", dwell_time_s=1e-6, on="False"), "ion.on='False'"),
    (lambda m: reference_images(m, hfws_m=[1e-4, "2e-4"]), "hfws_m='2e-4' must be a number"),
])  # fmt: skip
def test_plans_refuse_wrong_types_before_anything_moves(RE, microscope, make, match):
    _unchanged(RE, microscope, make(microscope), WrongTypeError, match)


def test_wrong_type_error_is_also_a_value_error():
    with pytest.raises(ValueError, match="must be a number"):
        typed("x_m", float, "1")
    assert typed("n", int, 4.0) == 4 and typed("on", bool, np.bool_(False)) is False
    for datatype, bad in [(bool, 0), (bool, "False"), (int, 2.5), (int, float("nan")),
                          (float, "1"), (float, True), (str, b"x")]:  # fmt: skip
        with pytest.raises(WrongTypeError, match=f"field={bad!r} must be"):
            typed("field", datatype, bad)


def test_stage_refuses_a_dict_with_a_clear_error(RE, microscope):
    _unchanged(
        RE,
        microscope,
        bps.mv(microscope.stage, {}),
        FailedStatus,
        "stage target=.* must be a StagePosition",
    )


def test_stage_given_a_dict_moves_nothing(RE, microscope):
    before = microscope.backend.stage.position()
    with pytest.raises(FailedStatus):
        RE(bps.mv(microscope.stage, {}))
    assert microscope.backend.stage.position() == before
    assert StagePosition() == StagePosition.model_validate({})  # {} would mean "move nothing"


BINARY = bytes(range(256)) * 4  # not UTF-8: a byte 0x80 comes early


def test_binary_config_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "microscope.yaml"
    path.write_bytes(b"info:\n" + BINARY)
    with pytest.raises(ConfigError, match=r"microscope.yaml is not a UTF-8 YAML text file"):
        load_config(path)


def test_binary_protocol_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "protocol.yaml"
    path.write_bytes(BINARY)
    with pytest.raises(ProtocolError, match=r"protocol.yaml is not a UTF-8 YAML text file"):
        load_protocol(path)
