"""Each configuration key changes what the microscope does: the same action on twins
connected from configurations that differ in one key (real RunEngine, real devices)."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import pytest
from bluesky.plans import count
from bluesky.utils import FailedStatus

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.config import ConfigError
from fibsem_ophyd.devices.interlocks import InterlockError
from plans.deposition import sputter_coat
from plans.stubs import call

from ._images import collect
from ._scope import scope

SETTLE_S = 0.2  # the twin's settling time after a move (TwinParameters.stage_settle_s)


def _elapsed_s(RE, m, plan) -> float:
    t0 = RE(bps.rd(m.clock_s)).plan_result
    RE(plan)
    return RE(bps.rd(m.clock_s)).plan_result - t0


@pytest.mark.parametrize(("key", "value", "target", "seconds"), [
    ("max_tilt_speed_deg_per_s", 2.0, StagePosition(t_deg=25.0), 10.0 / 2.0),
    ("max_rotation_speed_deg_per_s", 40.0, StagePosition(r_deg=90.0), 90.0 / 40.0),
    ("max_speed_m_per_s", 0.5e-3, StagePosition(x_m=1e-3), 1e-3 / 0.5e-3),
])  # fmt: skip
def test_stage_speeds_set_the_move_times(RE, frames_dir, key, value, target, seconds):
    default = _elapsed_s(RE, (m := scope(frames_dir)), bps.mv(m.stage, target))
    m = scope(frames_dir, {"stage": {key: value}})
    assert _elapsed_s(RE, m, bps.mv(m.stage, target)) == pytest.approx(seconds + SETTLE_S)
    assert default != pytest.approx(seconds + SETTLE_S)


def test_pump_and_vent_take_the_configured_times(RE, frames_dir):
    chamber = {"pump_time_s": 50.0, "vent_time_s": 20.0, "pumped_pressure_pa": 2e-4}
    m = scope(frames_dir, {"chamber": chamber})
    assert _elapsed_s(RE, m, call(lambda: m.chamber.vent())) == pytest.approx(20.0)
    assert _elapsed_s(RE, m, call(lambda: m.chamber.pump())) == pytest.approx(50.0)
    assert RE(bps.rd(m.chamber.pressure_pa)).plan_result == pytest.approx(2e-4)


def test_pressure_above_the_pumped_pressure_refuses_imaging(RE, frames_dir):
    leak_pa = 1e-3  # the chamber says 'pumped', the gauge says otherwise
    m = scope(frames_dir)
    m.backend.world.chamber.pressure_pa = leak_pa
    with pytest.raises(FailedStatus) as info:
        RE(count([m.sem]))
    assert isinstance(info.value.__cause__, InterlockError)
    assert "0.001 Pa is above chamber.pumped_pressure_pa (0.0005 Pa" in str(info.value)
    tolerant = scope(frames_dir, {"chamber": {"pumped_pressure_pa": 2e-3}})
    tolerant.backend.world.chamber.pressure_pa = leak_pa
    RE(count([tolerant.sem]))


def test_the_twin_starts_at_the_configured_stage_temperature(RE, frames_dir):
    m = scope(frames_dir, {"chamber": {"cryo_temperature_k": 100.0}})
    assert RE(bps.rd(m.chamber.cryo_temperature_k)).plan_result == 100.0
    warm = scope(frames_dir, {"chamber": {"cryo_enabled": False}})
    assert warm.fingerprint.subsystems["cryo"] is False
    assert RE(bps.rd(warm.chamber.cryo_temperature_k)).plan_result == 293.0


def test_fluorescence_exposure_range_comes_from_the_config(RE, frames_dir):
    m = scope(frames_dir)
    with pytest.raises(FailedStatus, match=r"exposure_time_s=20\.0 s .*\[0\.0001, 10\] s"):
        RE(bps.mv(m.fluorescence.exposure_time_s, 20.0))
    m = scope(frames_dir, {"fluorescence": {"exposure_range_s": {"min": 1e-3, "max": 30.0}}})
    RE(bps.mv(m.fluorescence.exposure_time_s, 20.0))
    with pytest.raises(FailedStatus, match=r"\[0\.001, 30\] s"):
        RE(bps.mv(m.fluorescence.exposure_time_s, 1e-4))


def test_the_configured_microscope_is_in_every_start_document(RE, frames_dir):
    info = {"name": "fib-2", "ip_address": "10.0.0.7"}
    m = scope(frames_dir, {"info": info})
    _, docs = collect(RE, sputter_coat(m, 1.0))
    start = next(d for n, d in docs if n == "start")
    assert start["microscope"] == {**info, "manufacturer": "Demo"}
    assert start["fingerprint_check"]["status"] == "matched"


def test_advanced_settings_of_the_demo_backend_reach_the_twin(RE, frames_dir):
    advanced = {"Demo": {"seed": 7, "stage_settle_s": 0.0}, "Thermo": {"anything": 1}}
    m = scope(frames_dir, {"advanced": advanced})
    assert (m.backend.world.params.seed, m.backend.world.params.stage_settle_s) == (7, 0.0)
    assert _elapsed_s(RE, m, bps.mv(m.stage, StagePosition(t_deg=25.0))) == pytest.approx(2.0)


@pytest.mark.parametrize(("settings", "match"), [
    ({"ion_column_tilt_deg": 45.0}, r"advanced\.Demo\.ion_column_tilt_deg: set by the config"),
    ({"stage_tilt_speed_deg_per_s": 1.0}, r"advanced\.Demo\.stage_tilt_speed_deg_per_s: set"),
    ({"sede": 3}, r"advanced\.Demo\.sede: not a twin parameter"),
    ({"seed": "three"}, r"advanced\.Demo"),
])  # fmt: skip
def test_advanced_settings_that_are_not_the_twins_own_are_refused(RE, frames_dir, settings, match):
    with pytest.raises(ConfigError, match=match):
        scope(frames_dir, {"advanced": {"Demo": settings}})


@pytest.mark.parametrize(("key", "value", "signal", "setting"), [
    ("working_distance_max_m", 30e-3, "working_distance_m", 40e-3),
    ("working_distance_min_m", 3e-3, "working_distance_m", 2e-3),
    ("stigmation_max", 0.5, "stigmation_x", 0.8),
    ("integration_max", 8, "line_integration", 16),
])  # fmt: skip
def test_beam_ranges_come_from_the_config(RE, frames_dir, key, value, signal, setting):
    RE(bps.mv(getattr(scope(frames_dir).electron_beam, signal), setting))  # shipped: allowed
    m = scope(frames_dir, {"electron": {key: value}})
    sig = getattr(m.electron_beam, signal)
    before = RE(bps.rd(sig)).plan_result
    with pytest.raises(FailedStatus, match=f"electron.{signal}"):
        RE(bps.mv(sig, setting))
    assert RE(bps.rd(sig)).plan_result == before
