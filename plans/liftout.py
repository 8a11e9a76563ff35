"""Lift-out steps: needle to the lamella, contact, weld, sever, lift, land on the post,
weld to the post, release from the needle, retract. Each step is one run (metadata:
lamella, workflow_stage, liftout_step) recording the needle and the clock.

The needle readback is the calibrated tip position in the chamber frame (metres from
the eucentric point, docs/coordinates.md). The plans put the target — the lamella's top
centre, then the post's landing point — at the eucentric point by stage moves and steer
the tip there from the readbacks; on hardware a needle-tip detector would refine the
last micrometres (not done here). `LiftoutProgress` records what is done, so a step out
of order (e.g. lift before weld) is refused before anything moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import bluesky.plan_stubs as bps
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.milling import MillingParameters, MillingStage, RectanglePattern
from fibsem_ophyd.milling._liftout_settings import LiftoutSettings

from ._md import plan_md
from ._run import run_decorator
from .deposition import gis_deposition
from .milling import run_milling
from .stubs import call


class LiftoutError(RuntimeError):
    """A lift-out step refused: an earlier step is missing."""


@dataclass
class LiftoutProgress:
    """Which lift-out steps are done for one lamella (kept by the calling plan)."""

    lamella: str
    done: list[str] = field(default_factory=list)
    tip_offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0)  # tip − lamella top at contact

    def require(self, step: str, *needed: str) -> None:
        missing = [s for s in needed if s not in self.done]
        if missing:
            raise LiftoutError(
                f"refused to {step} {self.lamella}: {', '.join(missing)} not done "
                f"(done: {self.done or 'nothing'})"
            )


@plan
def _step(
    m: Microscope, progress: LiftoutProgress, name: str, body: Any, args: dict | None = None,
    stage: str = "liftout",
) -> MsgGenerator[None]:  # fmt: skip
    """Run `body()` (a plan) as one run of the lift-out; record the needle before/after."""
    md = {"lamella": progress.lamella, "workflow_stage": stage, "liftout_step": name}

    @run_decorator(md=plan_md(m, name, args or {}, md))
    def inner() -> MsgGenerator[None]:
        yield from bps.trigger_and_read([m.manipulator, m.clock_s], name="before")
        yield from body()
        yield from bps.trigger_and_read([m.manipulator, m.clock_s], name="after")

    yield from inner()
    progress.done.append(name)


def _eucentric(m: Microscope) -> tuple[float, float, float]:
    pose = m.manipulator.eucentric_position
    return float(pose.x_m), float(pose.y_m), float(pose.z_m)


@plan
def _tip(m: Microscope) -> MsgGenerator[tuple[float, float, float]]:
    """The tip relative to the eucentric point: the raw readback less the (calibrated)
    raw pose that puts the tip there (see `plans.manipulator.calibrate_manipulator`)."""
    out = []
    origin = _eucentric(m)
    for axis, zero in zip((m.manipulator.x, m.manipulator.y, m.manipulator.z), origin, strict=True):
        value = yield from bps.rd(axis.readback)
        out.append(float(value) - zero)
    return out[0], out[1], out[2]


@plan
def _move_tip(m: Microscope, x: float, y: float, z: float) -> MsgGenerator[None]:
    """Move the tip to (x, y, z) relative to the eucentric point."""
    n = m.manipulator
    x0, y0, z0 = _eucentric(m)
    yield from bps.mv(n.x, x0 + x, n.y, y0 + y, n.z, z0 + z)


@plan
def _approach(m: Microscope, target: tuple, steps: int) -> MsgGenerator[None]:
    """Straight-line moves of the tip to `target` in `steps` equal steps."""
    start = yield from _tip(m)
    for k in range(1, steps + 1):
        f = k / steps
        yield from _move_tip(m, *(s + f * (t - s) for s, t in zip(start, target, strict=True)))
        yield from bps.trigger_and_read([m.manipulator], name="approach")


@plan
def needle_to_lamella(m: Microscope, progress: LiftoutProgress, s: LiftoutSettings) -> MsgGenerator:
    """Insert to park, then step to `standoff_m` above the lamella's top centre (which
    the caller has brought to the eucentric point)."""

    def body() -> MsgGenerator[None]:
        yield from call(lambda: m.manipulator.insert("park"))
        yield from _approach(m, (0.0, 0.0, s.standoff_m), s.approach_steps)

    yield from _step(m, progress, "needle_to_lamella", body, {"standoff_m": s.standoff_m})


@plan
def contact(m: Microscope, progress: LiftoutProgress, s: LiftoutSettings) -> MsgGenerator:
    """Lower the tip onto the lamella's top centre, the last part in fine steps."""
    progress.require("contact", "needle_to_lamella")

    def body() -> MsgGenerator[None]:
        yield from _move_tip(m, 0.0, 0.0, 5 * s.contact_step_m)
        yield from _approach(m, (0.0, 0.0, 0.0), 5)
        progress.tip_offset_m = yield from _tip(m)

    yield from _step(m, progress, "contact", body)


@plan
def weld(
    m: Microscope, progress: LiftoutProgress, s: LiftoutSettings, to: str = "lamella"
) -> MsgGenerator:
    """GIS deposition for `weld_time_s` while the needle touches the lamella (`to`
    'lamella') or the carried lamella touches the post ('post')."""
    if to not in ("lamella", "post"):
        raise ValueError(f"weld to={to!r}; use 'lamella' or 'post'")
    name, needed = ("weld", ("contact",)) if to == "lamella" else ("weld_to_post", ("land",))
    progress.require(name, *needed)
    stage = "liftout" if to == "lamella" else "landing"
    md = {"lamella": progress.lamella, "workflow_stage": stage, "liftout_step": name}
    yield from gis_deposition(m, s.weld_time_s, md=md)
    progress.done.append(name)


def sever_stage(s: LiftoutSettings, lamella_width_m: float, spacing_m: float) -> MillingStage:
    """Two cuts across the gap between the trenches, one at each end of the lamella."""
    x = (lamella_width_m + s.sever_width_m) / 2
    cuts = [
        RectanglePattern(name=f"sever-{side}", x_m=sign * x, y_m=0.0, width_m=s.sever_width_m,
                         height_m=spacing_m + 2 * s.sever_overlap_m, depth_m=s.sever_depth_m)
        for side, sign in (("left", -1.0), ("right", 1.0))
    ]  # fmt: skip
    return MillingStage(name="sever", patterns=cuts, parameters=_params(s, s.sever_current_a))


def _params(s: LiftoutSettings, current_a: float) -> MillingParameters:
    return MillingParameters(
        milling_current_a=current_a, milling_voltage_v=s.voltage_v, hfw_m=s.hfw_m,
        application_file=s.application_file,
    )  # fmt: skip


@plan
def sever(m: Microscope, progress: LiftoutProgress, stage: MillingStage) -> MsgGenerator:
    """Mill the last connections (the needle must be welded first)."""
    progress.require("sever", "weld")
    md = {"lamella": progress.lamella, "workflow_stage": "liftout", "liftout_step": "sever"}
    yield from run_milling(m, [stage], md=md)
    progress.done.append("sever")


@plan
def lift(m: Microscope, progress: LiftoutProgress, s: LiftoutSettings) -> MsgGenerator:
    """Raise the needle (with the lamella) by `lift_m`."""
    progress.require("lift", "weld", "sever")

    def body() -> MsgGenerator[None]:
        x, y, z = yield from _tip(m)
        yield from _approach(m, (x, y, z + s.lift_m), 2)

    yield from _step(m, progress, "lift", body, {"lift_m": s.lift_m})
