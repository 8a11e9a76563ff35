"""Fluorescence on every backend that has it: our twin, and fibsem's DemoMicroscope as a
compustage system (`advanced.OpenFIBSEM-Demo.compustage`) through the bridge."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import bluesky.plan_stubs as bps
import numpy as np
import pytest
from bluesky.run_engine import call_in_bluesky_event_loop
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

from fibsem_ophyd.config import ConfigError, config_from_dict, load_config
from fibsem_ophyd.connect import connect_microscope
from fibsem_ophyd.devices.microscope import Microscope
from plans.fluorescence import acquire_channels

from .conftest import DEMO_CONFIG

# fibsem's simulated compustage: x/y/z within +-1 mm / +-0.38 mm / +-1 mm, no rotation
# axis; its objective reaches 8.6 mm (user limit), so the configuration says so.
COMPUSTAGE_CONFIG: dict[str, Any] = {
    **DEMO_CONFIG,
    "stage": {
        "eucentric_z_m": 0.0,
        "limits": {
            "x_m": {"min": -0.9e-3, "max": 0.9e-3},
            "y_m": {"min": -0.35e-3, "max": 0.35e-3},
            "z_m": {"min": -0.9e-3, "max": 0.9e-3},
        },
    },
    "fluorescence": {"enabled": True, "objective_range_m": {"min": 0.0, "max": 8.6e-3}},
    "advanced": {"OpenFIBSEM-Demo": {"compustage": True}},
}


def _twin_config() -> Any:
    data = load_config().model_dump(mode="json")
    data["fluorescence"]["enabled"] = True
    return config_from_dict(data)


@pytest.fixture(params=["twin", "openfibsem-demo-compustage"])
def fm_scope(request, RE, frames_dir: Path, monkeypatch) -> Microscope:
    provider = StaticPathProvider(UUIDFilenameProvider(), frames_dir)
    if request.param == "twin":
        return connect_microscope(_twin_config(), path_provider=provider)
    pytest.importorskip("fibsem")
    monkeypatch.setenv("FIBSEM_SIM_NO_DELAY", "1")
    return connect_microscope(config_from_dict(COMPUSTAGE_CONFIG), path_provider=provider)


@pytest.fixture
def compustage(RE, frames_dir: Path, monkeypatch) -> Microscope:
    pytest.importorskip("fibsem")
    monkeypatch.setenv("FIBSEM_SIM_NO_DELAY", "1")
    provider = StaticPathProvider(UUIDFilenameProvider(), frames_dir)
    return connect_microscope(config_from_dict(COMPUSTAGE_CONFIG), path_provider=provider)


def _rd(RE, signal):
    return RE(bps.rd(signal)).plan_result


@pytest.mark.parametrize(
    ("name", "value", "tol"),
    [("channel", "green", None), ("channel", "reflection", None), ("channel", "red", None),
     ("exposure_time_s", 0.25, 1e-12), ("excitation_power", 0.3, 1e-9)],
)  # fmt: skip
def test_fm_setting_round_trips(RE, fm_scope, name, value, tol):
    fm = fm_scope.fluorescence
    RE(bps.mv(getattr(fm, name), value))
    for got in (_rd(RE, getattr(fm, name)), getattr(fm.backend, name)):
        assert got == value if tol is None else math.isclose(got, value, abs_tol=tol)


def test_objective_moves_and_reads_back(RE, fm_scope):
    fm = fm_scope.fluorescence
    RE(bps.mv(fm.objective, 5e-3))
    assert _rd(RE, fm.objective.readback) == pytest.approx(5e-3, abs=1e-12)
    assert fm.backend.objective_position_m == pytest.approx(5e-3, abs=1e-12)


def test_channels_acquired_into_documents(RE, fm_scope):
    m = fm_scope
    RE(bps.mv(m.fluorescence.channel, "reflection"))
    docs: list[tuple[str, dict]] = []
    RE.subscribe(lambda name, doc: docs.append((name, doc)))
    RE(acquire_channels(m, ("green", "red"), exposure_s=0.01))
    (start,) = [d for n, d in docs if n == "start"]
    assert start["fingerprint"]["subsystems"]["fluorescence"] is True
    (descriptor,) = [d for n, d in docs if n == "descriptor"]
    events = [d for n, d in docs if n == "event"]
    assert [e["data"][f"{m.fluorescence.name}-channel"] for e in events] == ["green", "red"]
    shape = m.fluorescence.backend.frame_shape()
    frame_keys = [k for k, v in descriptor["data_keys"].items() if v.get("external")]
    assert frame_keys and all(
        tuple(descriptor["data_keys"][k]["shape"][-2:]) == shape for k in frame_keys
    )
    assert _rd(RE, m.fluorescence.channel) == "reflection"  # put back


def test_frame_has_the_reported_shape_and_dtype(RE, fm_scope):
    backend = fm_scope.fluorescence.backend
    frame = call_in_bluesky_event_loop(backend.acquire())
    assert frame.dtype == np.uint16
    assert frame.shape == backend.frame_shape()


# --- bridge only: what fibsem received, in its units ----------------------------------


def test_fibsem_receives_nanometres_seconds_metres_and_power_fraction(RE, compustage):
    fibsem_fm = compustage.backend.microscope.fm
    fm = compustage.fluorescence
    RE(bps.mv(fm.channel, "green"))  # 488 nm excitation -> the Demo's 450 nm line
    assert fibsem_fm.filter_set.excitation_wavelength == 450
    assert fibsem_fm.filter_set.emission_wavelength == "Fluorescence"
    RE(bps.mv(fm.channel, "reflection"))  # 550 nm, no emission filter
    assert fibsem_fm.filter_set.excitation_wavelength == 550
    assert fibsem_fm.filter_set.emission_wavelength is None
    RE(bps.mv(fm.exposure_time_s, 0.2, fm.excitation_power, 0.4, fm.objective, 6.5e-3))
    assert fibsem_fm.camera.exposure_time == pytest.approx(0.2)
    assert fibsem_fm.light_source.power == pytest.approx(0.4)  # power_limits (0, 1)
    assert fibsem_fm.objective.position == pytest.approx(6.5e-3)
    log = compustage.backend.calls.log
    assert ("fluorescence", "move_objective") in log


def test_bridge_refuses_before_fibsem_is_asked(RE, compustage):
    backend = compustage.fluorescence.backend
    fibsem_fm = compustage.backend.microscope.fm
    before = fibsem_fm.objective.position
    with pytest.raises(ValueError, match="outside the objective's range"):
        call_in_bluesky_event_loop(backend.move_objective(9.0e-3))  # past the 8.6 mm limit
    with pytest.raises(ValueError, match="not a configured channel"):
        backend.channel = "ultraviolet"
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        backend.excitation_power = 1.5
    log = compustage.backend.calls.log
    assert not [a for d, a in log if d == "fluorescence" and a.startswith(("set ", "move"))]
    assert fibsem_fm.objective.position == before


def test_objective_is_not_set_as_an_attribute(compustage):
    with pytest.raises(RuntimeError, match="move_objective"):
        compustage.fluorescence.backend.objective_position_m = 1e-3


def test_non_compustage_demo_has_no_fm(RE, demo):
    from fibsem_ophyd.hardware import HardwareUnavailableError

    assert demo.fingerprint.subsystems["fluorescence"] is False
    with pytest.raises(HardwareUnavailableError, match="no fluorescence microscope"):
        call_in_bluesky_event_loop(demo.fluorescence.backend.acquire())


def test_fm_configured_on_a_demo_without_it_is_refused(RE, frames_dir, monkeypatch):
    pytest.importorskip("fibsem")
    monkeypatch.setenv("FIBSEM_SIM_NO_DELAY", "1")
    data = {**COMPUSTAGE_CONFIG, "advanced": {"OpenFIBSEM-Demo": {"compustage": False}}}
    with pytest.raises(Exception, match="fluorescence"):
        connect_microscope(config_from_dict(data))


@pytest.mark.parametrize(
    ("advanced", "match"),
    [({"OpenFIBSEM-Demo": {"compustage": "yes"}}, "must be true or false"),
     ({"OpenFIBSEM-Demo": {"compustagee": True}}, "unknown")],
)  # fmt: skip
def test_bad_demo_settings_are_refused(RE, monkeypatch, advanced, match):
    pytest.importorskip("fibsem")
    data = {**COMPUSTAGE_CONFIG, "advanced": advanced}
    with pytest.raises(ConfigError, match=match):
        connect_microscope(config_from_dict(data))


def test_a_fresh_connection_on_unnamed_filters_acquires_and_keeps_the_last_channel(RE, compustage):
    """fibsem's FM starts on filters no configured channel names: the acquisition
    runs, and the channel is not 'put back' to a name nobody configured."""
    fm = compustage.fluorescence
    assert _rd(RE, fm.channel).startswith("unconfigured")
    RE(acquire_channels(compustage, ("green", "red"), exposure_s=0.01))
    assert _rd(RE, fm.channel) == "red"
