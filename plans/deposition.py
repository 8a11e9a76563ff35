"""Protective coatings: GIS specific deposition, cryo deposition, sputter coating.

Each is one run whose events record the GIS (gas, heater, reservoir temperature), the
chamber (stage temperature), the stage pose and the microscope clock. Durations, gas
and sputter current default to the configuration (`gis.deposition_time_s`,
`gis.default_gas`, `gis.heater_temperature_k`, `sputter_coater.default_time_s`,
`default_current_a`); everything is checked before anything moves or opens. The
interlocks (vacuum, needles, insertion envelope) are enforced by the devices, and the
needle is always retracted again in `finalize_wrapper`, also when a step fails.
"""

from __future__ import annotations

from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.devices.microscope import Microscope

from ._md import plan_md
from ._run import run_decorator
from .movement import move_flat_to_beam, safe_move
from .stubs import call, read_pose


@plan
def _record(microscope: Microscope, stream: str) -> MsgGenerator[None]:
    m = microscope
    yield from bps.trigger_and_read([m.gis, m.chamber, m.stage, m.clock_s], name=stream)


@plan
def gis_deposition(
    microscope: Microscope,
    duration_s: float | None = None,
    heat: bool = True,
    gas: str | None = None,
    md: dict | None = None,
) -> MsgGenerator[None]:
    """Specific deposition at the present site: select `gas` (default `gis.default_gas`),
    heat the reservoir to `gis.heater_temperature_k` (if `heat`; otherwise the heater is
    switched off), insert, open for `duration_s` (default `gis.deposition_time_s`),
    retract (also on failure)."""
    m = microscope
    duration_s, gas = m.gis.check(duration_s, gas)
    args: dict[str, Any] = {"duration_s": duration_s, "heat": heat, "gas": gas}
    if heat:
        args["heater_temperature_k"] = m.limits.gis.heater_temperature_k
    _md = plan_md(m, "gis_deposition", args, md)

    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        yield from bps.mv(m.gis.gas, gas)
        if heat:
            yield from bps.mv(m.gis.heater_temperature_k, m.limits.gis.heater_temperature_k)
        yield from bps.mv(m.gis.heater_on, heat)  # as asked: a cryo deposition is unheated
        yield from call(lambda: m.gis.insert())
        yield from _record(m, "before")
        # Opening the valve must never run twice: a pause waits for it to finish.
        yield from call(lambda: m.gis.open_for(duration_s), replayable=False)
        yield from _record(m, "after")

    yield from bpp.finalize_wrapper(inner(), lambda: call(lambda: m.gis.retract()))


@plan
def cryo_deposition(
    microscope: Microscope,
    duration_s: float | None = None,
    gas: str | None = None,
    return_stage: bool = True,
    md: dict | None = None,
) -> MsgGenerator[None]:
    """Cryo deposition: the precursor condenses on the cold specimen. The stage is
    turned flat to the electron beam (a safe move: x, y, z kept), the GIS opened
    unheated for `duration_s` (default `gis.deposition_time_s`), and — when
    `return_stage` — the stage is moved back (safe move) to where it was, so that the
    plan can run in the middle of a workflow. If the deposition fails or is
    interrupted the stage stays where it is (only the needle is retracted)."""
    m = microscope
    duration_s, gas = m.gis.check(duration_s, gas)  # before anything moves
    start = yield from read_pose(m)
    yield from move_flat_to_beam(m, "electron")
    extra = {"deposition": "cryo", "return_stage": return_stage}
    yield from gis_deposition(m, duration_s, heat=False, gas=gas, md={**extra, **(md or {})})
    if return_stage:
        yield from safe_move(m, start)


@plan
def sputter_coat(
    microscope: Microscope,
    duration_s: float | None = None,
    current_a: float | None = None,
    md: dict | None = None,
) -> MsgGenerator[None]:
    """A conductive metal layer over the whole specimen (needles must be retracted), for
    `duration_s` at `current_a` (defaults: `sputter_coater.default_time_s`,
    `default_current_a`)."""
    m = microscope
    duration_s, current_a = m.sputter_coater.check(duration_s, current_a)
    _md = plan_md(m, "sputter_coat", {"duration_s": duration_s, "current_a": current_a}, md)

    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        yield from call(lambda: m.sputter_coater.coat(duration_s, current_a))
        yield from bps.trigger_and_read([m.sputter_coater, m.clock_s], name="primary")

    yield from inner()
