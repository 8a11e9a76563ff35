"""Save and restore the whole microscope state; named positions (lamella sites)."""

from __future__ import annotations

from pathlib import Path

import bluesky.plan_stubs as bps
import yaml
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.devices.beam import Beam
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.state import (
    BEAM_FIELDS,
    BEAM_RESTORE_ORDER,
    BeamSettings,
    FluorescenceSettings,
    MicroscopeState,
)

from .movement import safe_move
from .stubs import read_pose


@plan
def _read_beam(beam: Beam) -> MsgGenerator[BeamSettings]:
    values = {}
    for field in BEAM_FIELDS:
        values[field] = yield from bps.rd(getattr(beam, field))
    return BeamSettings(**values)


@plan
def save_state(microscope: Microscope) -> MsgGenerator[MicroscopeState]:
    """Read every stage, beam and fluorescence setting into a MicroscopeState."""
    pose = yield from read_pose(microscope)
    electron = yield from _read_beam(microscope.electron_beam)
    ion = yield from _read_beam(microscope.ion_beam)
    fm = microscope.fluorescence
    fluorescence = FluorescenceSettings(
        objective_position_m=(yield from bps.rd(fm.objective.readback)),
        channel=(yield from bps.rd(fm.channel)),
        exposure_time_s=(yield from bps.rd(fm.exposure_time_s)),
        excitation_power=(yield from bps.rd(fm.excitation_power)),
    )
    clock = yield from bps.rd(microscope.clock_s)
    return MicroscopeState(
        stage=pose, electron=electron, ion=ion, fluorescence=fluorescence, clock_s=clock
    )


@plan
def restore_state(microscope: Microscope, state: MicroscopeState) -> MsgGenerator[None]:
    """Bring back a saved state: beams first (each value validated before it is
    written), then a safe stage move, then the fluorescence settings."""
    for name, settings in (("electron", state.electron), ("ion", state.ion)):
        beam = microscope.beam(name)
        for field in BEAM_RESTORE_ORDER:  # voltage and current first, beam on last
            yield from bps.mv(getattr(beam, field), getattr(settings, field))
    yield from safe_move(microscope, state.stage)
    if state.fluorescence is not None:
        fm, f = microscope.fluorescence, state.fluorescence
        yield from bps.mv(
            fm.channel, f.channel, fm.exposure_time_s, f.exposure_time_s,
            fm.excitation_power, f.excitation_power,
        )  # fmt: skip
        yield from bps.mv(fm.objective, f.objective_position_m)


def save_positions(positions: dict[str, StagePosition], path: str | Path) -> None:
    """Write named positions (lamella sites) to YAML."""
    data = {name: pose.model_dump(mode="json") for name, pose in positions.items()}
    Path(path).write_text(yaml.safe_dump(data, sort_keys=False))


def load_positions(path: str | Path) -> dict[str, StagePosition]:
    """Read named positions back; every axis validated as a number."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of name -> stage position")
    return {str(name): StagePosition.model_validate(pose) for name, pose in data.items()}


@plan
def move_to_position(microscope: Microscope, name: str) -> MsgGenerator[None]:
    """Safe move to a named position of `microscope.sites`."""
    if name not in microscope.sites:
        raise ValueError(f"position {name!r} is unknown; known: {sorted(microscope.sites)}")
    yield from safe_move(microscope, microscope.sites[name])
