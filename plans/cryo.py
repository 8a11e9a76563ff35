"""Cooling and warming the cryo stage at a controlled rate.

`cool_down(m)` cools to the configured `chamber.cryo_temperature_k`, `warm_up(m)` warms
to the top of `chamber.cryo_target_range_k`, each at most at
`chamber.max_cryo_rate_k_per_min` (the default rate). Setpoint and rate are checked
before anything changes (range, rate, a cryo stage configured, vacuum for cooling). The
run's stream "temperature" has a reading of the chamber (stage temperature, setpoint,
whether it is there) and the clock every `reading_interval_s` seconds of microscope
time until the stage is at the setpoint; a stage that takes far longer than the rate
says (1.5 × the expected time + one interval) fails the plan with its temperature.
"""

from __future__ import annotations

from typing import Literal

import bluesky.plan_stubs as bps
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.values import typed_number

from ._md import plan_md
from ._run import run_decorator
from .stubs import call

Direction = Literal["cool_down", "warm_up"]
SLOWEST_FACTOR = 1.5  # a ramp may take this much longer than the rate says, then fails


@plan
def _read(m: Microscope) -> MsgGenerator[None]:
    yield from bps.trigger_and_read([m.chamber, m.clock_s], name="temperature")


@plan
def _ramp(
    m: Microscope,
    direction: Direction,
    target_k: float,
    rate_k_per_min: float | None,
    reading_interval_s: float,
    md: dict | None,
) -> MsgGenerator[float]:
    rate = m.limits.chamber.max_cryo_rate_k_per_min if rate_k_per_min is None else rate_k_per_min
    m.chamber.check_cryo_rate(rate)
    m.chamber.check_cryo_target(target_k)
    interval_s = typed_number("reading_interval_s", reading_interval_s, "s")
    if not interval_s > 0:
        raise ValueError(f"reading_interval_s={reading_interval_s!r} s must be > 0 s")
    start_k = yield from bps.rd(m.chamber.cryo_temperature_k)
    if direction == "cool_down" and target_k > start_k:
        raise ValueError(
            f"cool_down: target_k={target_k:g} K is above the stage's present "
            f"{start_k:.4g} K; use warm_up"
        )
    if direction == "warm_up" and target_k < start_k:
        raise ValueError(
            f"warm_up: target_k={target_k:g} K is below the stage's present "
            f"{start_k:.4g} K; use cool_down"
        )
    expected_s = abs(target_k - start_k) / rate * 60.0
    budget_s = SLOWEST_FACTOR * expected_s + interval_s
    args = {"target_k": target_k, "rate_k_per_min": rate, "reading_interval_s": interval_s}
    _md = plan_md(m, direction, args, md)

    @run_decorator(md=_md)
    def inner() -> MsgGenerator[float]:
        yield from bps.mv(m.chamber.cryo_rate_k_per_min, rate)
        yield from bps.mv(m.chamber.cryo_target_k, target_k)
        t0_s = yield from bps.rd(m.clock_s)
        yield from _read(m)
        while True:
            yield from call(lambda: m.chamber.wait_for_temperature(interval_s))
            yield from _read(m)
            temperature_k = yield from bps.rd(m.chamber.cryo_temperature_k)
            if (yield from bps.rd(m.chamber.cryo_at_target)):
                return float(temperature_k)
            elapsed_s = (yield from bps.rd(m.clock_s)) - t0_s
            if elapsed_s > budget_s:
                raise RuntimeError(
                    f"{direction}: the stage did not reach {target_k:g} K within "
                    f"{budget_s:.0f} s (at {rate:g} K/min it takes {expected_s:.0f} s); "
                    f"it is at {temperature_k:.4g} K"
                )

    return (yield from inner())


@plan
def cool_down(
    microscope: Microscope,
    target_k: float | None = None,
    rate_k_per_min: float | None = None,
    reading_interval_s: float = 60.0,
    md: dict | None = None,
) -> MsgGenerator[float]:
    """Cool the stage to `target_k` (default `chamber.cryo_temperature_k`) at
    `rate_k_per_min` (default and maximum `chamber.max_cryo_rate_k_per_min`); needs the
    chamber pumped. Returns the final stage temperature (K)."""
    target = microscope.limits.chamber.cryo_temperature_k if target_k is None else target_k
    return (
        yield from _ramp(microscope, "cool_down", target, rate_k_per_min, reading_interval_s, md)
    )


@plan
def warm_up(
    microscope: Microscope,
    target_k: float | None = None,
    rate_k_per_min: float | None = None,
    reading_interval_s: float = 60.0,
    md: dict | None = None,
) -> MsgGenerator[float]:
    """Warm the stage to `target_k` (default: the top of `chamber.cryo_target_range_k`)
    at `rate_k_per_min` (default and maximum `chamber.max_cryo_rate_k_per_min`).
    Returns the final stage temperature (K)."""
    target = microscope.limits.chamber.cryo_max_k if target_k is None else target_k
    return (yield from _ramp(microscope, "warm_up", target, rate_k_per_min, reading_interval_s, md))
