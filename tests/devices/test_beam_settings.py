"""One list of beam settings (`fibsem_ophyd.backend.BeamSettings`): the copies written
out for type checkers (backend protocol, twin state, device attributes) match it, and
the device, the saved state and the start-up defaults are derived from it."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from ophyd_async.core import SignalRW

from fibsem_ophyd.backend import (
    BEAM_BACKEND_ATTRIBUTES,
    BEAM_SETTINGS,
    BeamBackend,
    write_beam_settings,
)
from fibsem_ophyd.devices.beam import Beam
from fibsem_ophyd.sim.state import BeamState
from fibsem_ophyd.state import BEAM_FIELDS, BEAM_RESTORE_ORDER


def _backend_types() -> dict[str, type]:
    return {
        attr: int if attr.startswith("resolution_") else BEAM_SETTINGS[attr].datatype
        for attr in BEAM_BACKEND_ATTRIBUTES
    }


def test_backend_protocol_declares_every_setting() -> None:
    assert typing.get_type_hints(BeamBackend) == _backend_types()


def test_twin_beam_state_holds_every_setting() -> None:
    hints = typing.get_type_hints(BeamState)
    assert {f.name: hints[f.name] for f in dataclasses.fields(BeamState)} == _backend_types()


def test_device_declares_a_typed_signal_per_setting() -> None:
    hints = typing.get_type_hints(Beam)
    declared = {k: v for k, v in hints.items() if typing.get_origin(v) is SignalRW}
    assert declared == {k: SignalRW[s.datatype] for k, s in BEAM_SETTINGS.items()}


def test_saved_state_and_restore_order_cover_every_setting() -> None:
    assert tuple(BEAM_SETTINGS) == BEAM_FIELDS
    assert sorted(BEAM_RESTORE_ORDER) == sorted(BEAM_SETTINGS)


def test_write_beam_settings_splits_the_resolution_and_refuses_unknown_names() -> None:
    column = BeamState()
    write_beam_settings(column, {"resolution": "768x512", "hfw_m": 1e-4})
    assert (column.resolution_x_px, column.resolution_y_px, column.hfw_m) == (768, 512, 1e-4)
    with pytest.raises(KeyError, match="hfw"):
        write_beam_settings(column, {"hfw": 1e-4})
    assert column.hfw_m == 1e-4


def test_device_signals_follow_the_list(microscope) -> None:
    beam = microscope.ion_beam
    for name in BEAM_SETTINGS:
        assert isinstance(getattr(beam, name), SignalRW), name
    names = [s.name.removeprefix(beam.name + "-") for s in beam.settings_signals]
    assert names == [*BEAM_SETTINGS, "pixel_size_m"]
