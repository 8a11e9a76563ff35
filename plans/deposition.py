"""Protective coatings: GIS specific deposition, cryo deposition, sputter coating.

Each is one run whose events record the needle state and the microscope clock; the
interlocks (vacuum, needles, insertion envelope) are enforced by the devices, and the
needle is always retracted again in `finalize_wrapper`, also when a step fails.
"""

from __future__ import annotations

from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from ._md import plan_md
from ._run import run_decorator
from .stubs import call


@plan
def _record(microscope: Any, stream: str) -> MsgGenerator[None]:
    yield from bps.trigger_and_read([microscope.gis, microscope.clock_s], name=stream)


@plan
def gis_deposition(
    microscope: Any, duration_s: float, heat: bool = True, md: dict | None = None
) -> MsgGenerator[None]:
    """Specific deposition at the present site: heat, insert, open for `duration_s`,
    retract (also on failure)."""
    m = microscope
    if not (0 < duration_s <= m.limits.gis_max_open_s):
        raise ValueError(
            f"gis.duration_s={duration_s!r} s is outside (0, {m.limits.gis_max_open_s:g}] s"
        )
    _md = plan_md(m, "gis_deposition", {"duration_s": duration_s, "heat": heat}, md)

    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        if heat:
            yield from bps.mv(m.gis.heater_on, True)
        yield from call(lambda: m.gis.insert())
        yield from _record(m, "before")
        yield from call(lambda: m.gis.open_for(duration_s))
        yield from _record(m, "after")

    yield from bpp.finalize_wrapper(inner(), call(lambda: m.gis.retract()))


@plan
def cryo_deposition(
    microscope: Any, duration_s: float, md: dict | None = None
) -> MsgGenerator[None]:
    """Cryo deposition: the precursor condenses on the cold specimen — the GIS opened
    unheated, the stage flat to the electron beam as usual for coating."""
    yield from gis_deposition(microscope, duration_s, heat=False,
                              md={"deposition": "cryo", **(md or {})})  # fmt: skip


@plan
def sputter_coat(
    microscope: Any, duration_s: float, current_a: float = 10e-3, md: dict | None = None
) -> MsgGenerator[None]:
    """A conductive metal layer over the whole specimen (needles must be retracted)."""
    m = microscope
    _md = plan_md(m, "sputter_coat", {"duration_s": duration_s, "current_a": current_a}, md)

    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        yield from call(lambda: m.sputter_coater.coat(duration_s, current_a))
        yield from bps.trigger_and_read([m.sputter_coater, m.clock_s], name="primary")

    yield from inner()
