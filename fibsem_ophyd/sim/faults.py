"""Fault injection: switches that make the twin misbehave the way hardware does.

Set them on `world.faults` at any time (validated on assignment):

- `ion_current_readback_factor`: the ion column's `current_a` *readback* is the setpoint
  times this factor (the beam itself still runs at the setpoint). 1.0 = healthy; e.g. 0.5
  makes `run_milling`'s readback check refuse to mill.
- `stage_stuck_axes`: axes ("x", "y", "z", "r", "t") that ignore move commands. The move
  still takes its time, but the axis stays put and its readback says so.
- `milling_rate_factor`: the specimen really mills this many times faster than its
  application file says (0.8 = under-milling: trenches come out 20 % shallow).
- `gis_blocked`: the GIS valve opens but nothing is deposited.
- `stage_move_hangs`: a stage move never reaches its target: it runs until `stop()`,
  and the stage stays where it was.
- `milling_stalls_at`: a mill stops making progress at this fraction (0..1) and waits,
  beam on, until it is stopped (None: never).
- `beam_trips`: the next frame of this beam ends half-way: the beam trips off and the
  acquisition fails (a one-shot fault, cleared when it fires).
- `vacuum_lost_at_s`: at this twin-clock time the chamber loses its vacuum: vented, and
  both beams off, as the microscope's own interlock does (None: never).
- `unconnectable`: devices of the Microscope, by their names in `m.devices()` ("stage",
  "electron_beam", "milling", ...), whose subsystem never answers when it connects.

`world.lose_vacuum()` loses the vacuum at once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..backend import BeamName

StageAxis = Literal["x", "y", "z", "r", "t"]
AXIS_FIELDS: dict[str, str] = {"x": "x_m", "y": "y_m", "z": "z_m", "r": "r_deg", "t": "t_deg"}


class TwinFaults(BaseModel):
    """Injected faults (all off by default)."""

    model_config = ConfigDict(validate_assignment=True)

    ion_current_readback_factor: float = Field(1.0, gt=0.0)
    stage_stuck_axes: frozenset[StageAxis] = frozenset()
    milling_rate_factor: float = Field(1.0, ge=0.0)
    gis_blocked: bool = False
    stage_move_hangs: bool = False
    milling_stalls_at: float | None = Field(None, ge=0.0, le=1.0)
    beam_trips: BeamName | None = None
    vacuum_lost_at_s: float | None = Field(None, ge=0.0)
    unconnectable: frozenset[str] = frozenset()

    def stuck_fields(self) -> set[str]:
        """`StagePosition` field names of the stuck axes."""
        return {AXIS_FIELDS[a] for a in self.stage_stuck_axes}
