"""cool_down / warm_up: the stage ramps at the asked rate on the twin clock, with the
temperature as event data; bad setpoints and rates are refused before anything changes."""

from __future__ import annotations

import math

import bluesky.plan_stubs as bps
import pytest
from bluesky.utils import FailedStatus

from fibsem_ophyd.devices.interlocks import InterlockError
from plans.cryo import cool_down, warm_up
from plans.state import save_state
from plans.stubs import call

from ._images import collect, events_by_stream
from ._scope import scope

T_KEY, CLOCK = "chamber-cryo_temperature_k", "clock"


def test_warm_up_ramps_at_the_rate_with_a_reading_every_interval(RE, microscope):
    result, docs = collect(RE, warm_up(microscope, 150.0, 6.0, reading_interval_s=60.0))
    assert result == 150.0
    readings = events_by_stream(docs)["temperature"]
    temps = [r[T_KEY] for r in readings]
    times = [r[CLOCK] - readings[0][CLOCK] for r in readings]
    assert temps == pytest.approx([90.0 + 6.0 * k for k in range(11)])  # 6 K per minute
    assert times == pytest.approx([60.0 * k for k in range(11)])
    assert [r["chamber-cryo_at_target"] for r in readings] == [False] * 10 + [True]
    assert {r["chamber-cryo_target_k"] for r in readings} == {150.0}


def test_cool_down_defaults_to_the_configured_temperature_and_maximum_rate(RE, frames_dir):
    chamber = {"cryo_temperature_k": 100.0, "max_cryo_rate_k_per_min": 20.0}
    m = scope(frames_dir, {"chamber": chamber})
    RE(warm_up(m, 160.0))
    t0 = RE(bps.rd(m.clock_s)).plan_result
    result, docs = collect(RE, cool_down(m))
    assert result == 100.0
    assert RE(bps.rd(m.clock_s)).plan_result - t0 == pytest.approx(60.0 / 20.0 * 60.0)
    start = next(d for n, d in docs if n == "start")
    assert start["plan_name"] == "cool_down"
    assert start["plan_args"]["target_k"] == "100.0"
    assert start["plan_args"]["rate_k_per_min"] == "20.0"
    assert RE(bps.rd(m.chamber.cryo_rate_k_per_min)).plan_result == 20.0


def test_warm_up_defaults_to_the_top_of_the_configured_range(RE, frames_dir):
    m = scope(frames_dir, {"chamber": {"cryo_target_range_k": {"min": 80.0, "max": 250.0}}})
    assert RE(warm_up(m, rate_k_per_min=10.0, reading_interval_s=600.0)).plan_result == 250.0


def _cryo_snapshot(RE, m) -> tuple:
    ch = m.chamber
    values = [RE(bps.rd(sig)).plan_result for sig in (
        ch.cryo_temperature_k, ch.cryo_target_k, ch.cryo_rate_k_per_min, m.clock_s)]  # fmt: skip
    state = RE(save_state(m)).plan_result.model_dump(exclude={"clock_s"})
    return (*values, state)


def _refused(RE, m, plan, error: type[Exception], match: str) -> None:
    before = _cryo_snapshot(RE, m)
    docs: list = []
    with pytest.raises(error, match=match):
        RE(plan, lambda name, doc: docs.append(name))
    assert docs == []  # refused before a run was opened
    assert _cryo_snapshot(RE, m) == before


@pytest.mark.parametrize(("plan", "match"), [
    (lambda m: cool_down(m, 85.0, 20.0),
     r"chamber\.cryo_rate_k_per_min=20\.0 K/min .*\(0, 10\] K/min .*max_cryo_rate_k_per_min"),
    (lambda m: cool_down(m, 50.0), r"chamber\.cryo_target_k=50\.0 K .*\[80, 293\] K"),
    (lambda m: warm_up(m, 400.0), r"chamber\.cryo_target_range_k"),
    (lambda m: cool_down(m, math.nan), r"chamber\.cryo_target_k=nan"),
    (lambda m: cool_down(m, 85.0, "fast"), r"chamber\.cryo_rate_k_per_min"),
    (lambda m: cool_down(m, 85.0, 0.0), r"chamber\.cryo_rate_k_per_min=0\.0"),
    (lambda m: cool_down(m, 200.0), r"cool_down: target_k=200 K is above .* 90 K; use warm_up"),
    (lambda m: warm_up(m, 85.0), r"warm_up: target_k=85 K is below .*; use cool_down"),
    (lambda m: warm_up(m, 100.0, reading_interval_s=0.0), r"reading_interval_s=0\.0 s"),
])  # fmt: skip
def test_bad_setpoints_and_rates_change_nothing(RE, microscope, plan, match):
    _refused(RE, microscope, plan(microscope), ValueError, match)


def test_without_a_cryo_stage_both_are_refused(RE, frames_dir):
    m = scope(frames_dir, {"chamber": {"cryo_enabled": False}})
    _refused(RE, m, warm_up(m), ValueError, r"chamber\.cryo_enabled is false")
    _refused(RE, m, cool_down(m, 85.0), ValueError, r"chamber\.cryo_enabled is false")


def test_cooling_needs_the_chamber_pumped_warming_does_not(RE, microscope):
    m = microscope
    RE(call(lambda: m.chamber.vent()))
    _refused(RE, m, cool_down(m, 85.0), InterlockError, r"cool the stage: the chamber is vented")
    assert RE(warm_up(m, 100.0)).plan_result == 100.0


def test_a_stage_that_lags_far_behind_the_rate_fails_the_plan(RE, microscope, monkeypatch):
    cryo = microscope.backend.world.cryo
    change = cryo.change

    def sluggish(now_s, target_k=None, rate_k_per_min=None):  # ramps at a quarter
        change(now_s, target_k, None if rate_k_per_min is None else rate_k_per_min / 4)

    monkeypatch.setattr(cryo, "change", sluggish)
    with pytest.raises(RuntimeError, match=r"did not reach 150 K within 600 s .* it is at 1[0-9]"):
        RE(warm_up(microscope, 150.0, 10.0))


def test_the_setpoint_signal_is_checked_too(RE, microscope):
    ch = microscope.chamber
    with pytest.raises(FailedStatus, match=r"chamber\.cryo_target_k=50\.0 K .*\[80, 293\] K"):
        RE(bps.mv(ch.cryo_target_k, 50.0))
    with pytest.raises(FailedStatus, match=r"max_cryo_rate_k_per_min"):
        RE(bps.mv(ch.cryo_rate_k_per_min, 11.0))
    assert RE(bps.rd(ch.cryo_target_k)).plan_result == 90.0
    RE(bps.mv(ch.cryo_target_k, 120.0))  # the stage heads there as twin time passes
    RE(call(lambda: ch.wait_for_temperature(60.0)))
    assert 90.0 < RE(bps.rd(ch.cryo_temperature_k)).plan_result < 120.0
