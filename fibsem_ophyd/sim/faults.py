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
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StageAxis = Literal["x", "y", "z", "r", "t"]
AXIS_FIELDS: dict[str, str] = {"x": "x_m", "y": "y_m", "z": "z_m", "r": "r_deg", "t": "t_deg"}


class TwinFaults(BaseModel):
    """Injected faults (all off by default)."""

    model_config = ConfigDict(validate_assignment=True)

    ion_current_readback_factor: float = Field(1.0, gt=0.0)
    stage_stuck_axes: frozenset[StageAxis] = frozenset()
    milling_rate_factor: float = Field(1.0, ge=0.0)
    gis_blocked: bool = False

    def stuck_fields(self) -> set[str]:
        """`StagePosition` field names of the stuck axes."""
        return {AXIS_FIELDS[a] for a in self.stage_stuck_axes}
