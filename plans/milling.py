"""Milling plans: `run_milling(m, stages)`.

For each milling stage: set the milling voltage, hfw and current and verify the
current's readback *before anything is drawn* (a wrong readback fails the run); draw;
image before; mill with progress (monitored as event data); image after. Images are
in the stream "images", each labelled with its stage name and phase. Imaging
current, hfw and beam shift come back in `finalize_wrapper`, and milling is halted
there if the plan stops early. Checkpoints are cleared before milling so a pause can
never replay a mill: a paused mill can only be aborted.
"""

from __future__ import annotations

import math
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.milling import MillingStage

from ._md import plan_md
from .stubs import call


class MillingCurrentError(RuntimeError):
    """The ion current readback does not confirm the requested milling current."""


def check_stages(microscope: Any, stages: list[MillingStage]) -> None:
    """Refuse the whole list before anything moves if any stage asks for a current,
    voltage or hfw the ion column does not have (names the stage and field)."""
    limits = microscope.limits.ion
    if not stages:
        raise ValueError("run_milling needs at least one milling stage")
    for stage in stages:
        p = stage.parameters
        if not any(math.isclose(p.milling_current_a, c, rel_tol=1e-3) for c in limits.currents_a):
            allowed = ", ".join(f"{c:g}" for c in limits.currents_a)
            raise ValueError(
                f"{stage.name}.parameters.milling_current_a={p.milling_current_a:g} A is not "
                f"available; allowed: [{allowed}] A"
            )
        if not any(math.isclose(p.milling_voltage_v, v, rel_tol=1e-3) for v in limits.voltages_v):
            raise ValueError(
                f"{stage.name}.parameters.milling_voltage_v={p.milling_voltage_v:g} V is not "
                f"available; allowed: {list(limits.voltages_v)} V"
            )
        if not (limits.hfw_min_m <= p.hfw_m <= limits.hfw_max_m):
            raise ValueError(
                f"{stage.name}.parameters.hfw_m={p.hfw_m:g} m is outside the allowed range "
                f"[{limits.hfw_min_m:g}, {limits.hfw_max_m:g}] m"
            )


IMAGES = "images"  # every ion image of the run: a detector's frames stay in one stream


@plan
def _image(microscope: Any, phase: str) -> MsgGenerator[None]:
    """An ion image labelled with the milling stage and `phase` ("before"/"after")."""
    m = microscope
    yield from bps.mv(m.milling.phase, phase)
    yield from bps.trigger_and_read([m.fib, m.milling, m.stage, m.clock_s], name=IMAGES)


@plan
def _set_and_verify_current(
    microscope: Any, stage: MillingStage, tolerance: float
) -> MsgGenerator[None]:
    ion, p = microscope.ion_beam, stage.parameters
    yield from bps.mv(ion.voltage_v, p.milling_voltage_v)
    yield from bps.mv(ion.hfw_m, p.hfw_m)
    yield from bps.mv(ion.current_a, p.milling_current_a)
    readback = yield from bps.rd(ion.current_a)
    if abs(readback - p.milling_current_a) > tolerance * p.milling_current_a:
        raise MillingCurrentError(
            f"{stage.name}: ion current readback {readback:g} A does not confirm the "
            f"requested milling current {p.milling_current_a:g} A (tolerance "
            f"{tolerance:.0%}); refusing to mill"
        )


@plan
def _mill_stage(microscope: Any, stage: MillingStage, tolerance: float) -> MsgGenerator[None]:
    m = microscope
    yield from _set_and_verify_current(m, stage, tolerance)
    yield from call(lambda: m.milling.draw(stage))
    yield from _image(m, "before")
    yield from bps.clear_checkpoint()  # a pause from here on cannot replay the mill
    yield from bps.trigger_and_read([m.milling, m.clock_s], name="milling")
    yield from bps.monitor(m.milling.progress, name=f"{stage.name}_progress")
    yield from call(lambda: m.milling.mill())
    yield from bps.unmonitor(m.milling.progress)
    yield from bps.trigger_and_read([m.milling, m.clock_s], name="milling")
    yield from _image(m, "after")
    yield from call(lambda: m.milling.clear())
    yield from bps.checkpoint()


@plan
def run_milling(
    microscope: Any,
    stages: list[MillingStage],
    current_tolerance: float = 0.05,
    md: dict | None = None,
) -> MsgGenerator[None]:
    """Mill `stages` in order, with before/after ion images of each."""
    m = microscope
    check_stages(m, stages)
    _md = plan_md(
        m,
        "run_milling",
        {"stages": [s.name for s in stages]},
        {"milling_stages": [s.model_dump(mode="json") for s in stages], **(md or {})},
    )
    saved: dict[str, Any] = {}

    @plan
    def restore() -> MsgGenerator[None]:
        yield from call(lambda: m.milling.halt())
        if saved:
            ion = m.ion_beam
            yield from bps.mv(ion.current_a, saved["current_a"], ion.hfw_m, saved["hfw_m"])
            yield from bps.mv(ion.voltage_v, saved["voltage_v"])
            yield from bps.mv(
                ion.beam_shift_x_m, saved["beam_shift_x_m"],
                ion.beam_shift_y_m, saved["beam_shift_y_m"],
            )  # fmt: skip

    @bpp.stage_decorator([m.fib])
    @bpp.run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        for field in ("current_a", "hfw_m", "voltage_v", "beam_shift_x_m", "beam_shift_y_m"):
            # the setpoint: what to restore, even when a readback is wrong
            location = yield from bps.locate(getattr(m.ion_beam, field))
            saved[field] = location["setpoint"]
        for stage in stages:
            yield from _mill_stage(m, stage, current_tolerance)

    yield from bpp.finalize_wrapper(inner(), restore())
