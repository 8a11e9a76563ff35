"""Unit and name conventions on either side of the bridge.

fibsem (like AutoScript) keeps stage and manipulator angles, scan rotation and pattern
rotation in radians; we keep degrees. Lengths are metres, currents amperes, voltages
volts, times seconds on both sides. Image-plane pattern coordinates are metres from the
image centre with x right and y up on both sides (tests/backends pin this).
"""

from __future__ import annotations

import math
from typing import Any

from ..backend import BeamName


def beam_type(beam: BeamName) -> Any:
    """fibsem's `BeamType` for one of our beam names."""
    from fibsem.structures import BeamType

    return BeamType.ELECTRON if beam == "electron" else BeamType.ION


def deg_to_rad(value_deg: float | None) -> float | None:
    return None if value_deg is None else math.radians(value_deg)


def rad_to_deg(value_rad: float | None) -> float | None:
    return None if value_rad is None else math.degrees(value_rad)
