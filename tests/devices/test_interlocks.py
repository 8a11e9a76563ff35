"""Interlocks enforced in the devices: a refused command raises and changes nothing."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import pytest
from bluesky.plans import count
from bluesky.utils import FailedStatus

from fibsem_ophyd.backend import StagePosition
from plans.stubs import call


def _call(RE, status_factory):
    """Run a device action (a method returning a Status) through the RunEngine."""
    RE(call(status_factory))


def _vent(RE, m):
    _call(RE, lambda: m.chamber.vent())


def test_no_venting_with_needle_inserted(RE, microscope):
    m = microscope
    _call(RE, lambda: m.manipulator.insert("park"))
    assert m.backend.manipulator.inserted
    with pytest.raises(Exception, match="manipulator is inserted"):
        _vent(RE, m)
    assert m.backend.chamber.state.value == "pumped"
    _call(RE, lambda: m.manipulator.retract())
    _vent(RE, m)
    assert m.backend.chamber.state.value == "vented"


def test_no_imaging_while_vented(RE, microscope, frames_dir):
    m = microscope
    _vent(RE, m)
    assert not m.backend.electron.on  # venting switched the beams off
    with pytest.raises(Exception, match="chamber is vented"):
        RE(count([m.sem], num=1))
    frames = [f for f in frames_dir.glob("*.h5")]
    import h5py

    for f in frames:
        with h5py.File(f, "r") as h5:
            assert h5["/entry/data/data"].shape[0] == 0


def test_no_beam_on_while_vented(RE, microscope):
    m = microscope
    _vent(RE, m)
    with pytest.raises(FailedStatus) as info:
        RE(bps.mv(m.ion_beam.on, True))
    assert "chamber is vented" in str(info.value.__cause__)
    assert not m.backend.ion.on
    _call(RE, lambda: m.chamber.pump())
    RE(bps.mv(m.ion_beam.on, True))
    assert m.backend.ion.on


def test_manipulator_insertion_outside_safe_envelope(RE, microscope):
    m = microscope
    RE(bps.mv(m.stage, StagePosition(t_deg=55.0)))
    with pytest.raises(Exception, match="safe envelope"):
        _call(RE, lambda: m.manipulator.insert("eucentric"))
    assert not m.backend.manipulator.inserted


def test_gis_valve_needs_inserted_needle(RE, microscope):
    m = microscope
    with pytest.raises(Exception, match="GIS needle is retracted"):
        _call(RE, lambda: m.gis.open_for(5.0))
    _call(RE, lambda: m.gis.insert())
    _call(RE, lambda: m.gis.open_for(5.0))
    with pytest.raises(Exception, match="gas injection needle is inserted"):
        _vent(RE, m)
