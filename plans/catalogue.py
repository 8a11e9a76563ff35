"""The plans the napari control widgets may ask for, by name, with JSON-able arguments.

The same table serves in-process runs (`napari_plugins.control.InProcessRunner`) and
the queueserver, whose worker offers every entry under its name, bound to the
microscope (`profiles.remote.bound.catalogue_plans`). Each entry turns
``(microscope, **kwargs)`` into a plan from `plans/` (pydantic models are rebuilt from
their JSON form here, so a request travels through a queueserver unchanged).
`read_status` and `remember_position` are small plans of this module: the widgets'
read-outs come from plans too, never from a device call in the widget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bluesky.plan_stubs as bps
from bluesky.utils import MsgGenerator, plan

import plans as P
from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.milling import MillingStage
from plans.stubs import call, read_pose

PlanFactory = Callable[..., MsgGenerator[Any]]


@plan
def read_status(microscope: Microscope) -> MsgGenerator[dict[str, Any]]:
    """What the read-outs show: stage pose, named positions, chamber, needles, beams."""
    m = microscope
    pose = yield from read_pose(m)
    out: dict[str, Any] = {
        "stage": pose.model_dump(),
        "positions": sorted({*m.sites, *m.positions}),
    }
    signals = {
        "chamber_state": m.chamber.state,
        "pressure_pa": m.chamber.pressure_pa,
        "cryo_temperature_k": m.chamber.cryo_temperature_k,
        "cryo_target_k": m.chamber.cryo_target_k,
        "manipulator_inserted": m.manipulator.inserted,
        "manipulator_calibrated": m.manipulator.calibrated,
        "gis_inserted": m.gis.inserted,
        "gis_gas": m.gis.gas,
        "gis_temperature_k": m.gis.temperature_k,
    }
    for key, signal in signals.items():
        out[key] = yield from bps.rd(signal)
    for beam in ("electron", "ion"):
        b = m.beam(beam)
        out[beam] = {}
        for key in ("hfw_m", "resolution", "dwell_time_s", "current_a", "detector_type"):
            out[beam][key] = yield from bps.rd(getattr(b, key))
    return out


@plan
def remember_position(microscope: Microscope, name: str) -> MsgGenerator[StagePosition]:
    """Keep the present stage pose as the named position `name` (microscope.sites)."""
    if not name.strip():
        raise ValueError("position name is empty: type a name for the present position")
    pose = yield from read_pose(microscope)
    microscope.sites[name.strip()] = pose
    return pose


@plan
def set_and_acquire(microscope: Microscope, beam: str, **settings: Any) -> MsgGenerator[str]:
    """`set_imaging` then `acquire_image` of that beam (a refused setting takes no image)."""
    yield from P.set_imaging(microscope, beam, **settings)
    return (yield from P.acquire_image(microscope, beam))


def _go_to(m: Microscope, name: str) -> MsgGenerator[None]:
    if name in m.positions and name not in m.sites:
        return P.safe_move(m, m.positions[name])
    return P.move_to_position(m, name)


def _mill(m: Microscope, stages: list[dict[str, Any]]) -> MsgGenerator[None]:
    return P.run_milling(m, [MillingStage.model_validate(s) for s in stages])


def _needle(m: Microscope, device: str, action: str, **kwargs: Any) -> MsgGenerator[None]:
    target = {"manipulator": m.manipulator, "gis": m.gis}[device]
    return call(lambda: getattr(target, action)(**kwargs))


def _chamber(m: Microscope, action: str) -> MsgGenerator[None]:
    if action not in ("pump", "vent"):
        raise ValueError(f"chamber action {action!r} not allowed; use 'pump' or 'vent'")
    return call(lambda: getattr(m.chamber, action)())


CATALOGUE: dict[str, PlanFactory] = {
    "read_status": read_status,
    "remember_position": remember_position,
    "set_imaging": P.set_imaging,
    "acquire_image": P.acquire_image,
    "acquire_both": P.acquire_both,
    "set_and_acquire": set_and_acquire,
    "move_relative": P.move_relative,
    "move_absolute": lambda m, **pose: P.move_absolute(m, StagePosition(**pose)),
    "stable_move": P.stable_move,
    "vertical_move": P.vertical_move,
    "move_to_position": _go_to,
    "run_milling": _mill,
    "insert_manipulator": lambda m, position="park": _needle(
        m, "manipulator", "insert", position=position
    ),
    "retract_manipulator": lambda m: _needle(m, "manipulator", "retract"),
    "calibrate_manipulator": lambda m: P.calibrate_manipulator(m),
    "insert_gis": lambda m: _needle(m, "gis", "insert"),
    "retract_gis": lambda m: _needle(m, "gis", "retract"),
    "gis_deposition": P.gis_deposition,
    "pump": lambda m: _chamber(m, "pump"),
    "vent": lambda m: _chamber(m, "vent"),
    "cool_down": P.cool_down,
    "warm_up": P.warm_up,
}
"""Plan name -> factory(microscope, **kwargs); the queueserver's worker offers the same
names (`profiles.remote.bound.catalogue_plans`)."""


def build(
    microscope: Microscope,
    name: str,
    kwargs: dict[str, Any],
    catalogue: dict[str, PlanFactory] | None = None,
) -> MsgGenerator[Any]:
    """The plan generator for `name`; an unknown name is refused with the known ones."""
    table = CATALOGUE if catalogue is None else catalogue
    if name not in table:
        raise ValueError(f"plan {name!r} is not in the catalogue; known: {sorted(table)}")
    return table[name](microscope, **kwargs)
