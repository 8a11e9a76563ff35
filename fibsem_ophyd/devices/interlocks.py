"""Safety interlocks, enforced by the devices before any command reaches the backend.

A refused command raises `InterlockError` with the reason, and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..backend import MicroscopeBackend, VacuumState
from .limits import ManipulatorLimits


class InterlockError(RuntimeError):
    """A command was refused because it is unsafe in the present state."""


@dataclass
class Interlocks:
    backend: MicroscopeBackend
    manipulator_limits: ManipulatorLimits

    def require_vacuum(self, action: str) -> None:
        """Imaging, milling, beams on, deposition: only with the chamber pumped."""
        state = VacuumState(self.backend.chamber.state)
        if state is not VacuumState.PUMPED:
            raise InterlockError(
                f"refused to {action}: the chamber is {state.value}; pump it first (chamber.pump())"
            )

    def require_needles_retracted(self, action: str) -> None:
        """Venting (and large stage moves) only with every needle retracted."""
        inserted = []
        if self.backend.manipulator.inserted:
            inserted.append("manipulator")
        if self.backend.gis.inserted:
            inserted.append("gas injection needle")
        if inserted:
            raise InterlockError(
                f"refused to {action}: the {' and the '.join(inserted)} "
                f"{'is' if len(inserted) == 1 else 'are'} inserted; retract first"
            )

    def require_safe_for_insertion(self) -> None:
        """Manipulator insertion only inside the safe stage envelope."""
        self.require_vacuum("insert the manipulator")
        pose = self.backend.stage.position()
        lo, hi = self.manipulator_limits.safe_tilt_deg
        t = pose.t_deg if pose.t_deg is not None else 0.0
        z = pose.z_m if pose.z_m is not None else 0.0
        if not (lo <= t <= hi):
            raise InterlockError(
                f"refused to insert the manipulator: stage t_deg={t:.2f} deg is outside "
                f"the safe envelope [{lo:g}, {hi:g}] deg"
            )
        if z > self.manipulator_limits.safe_z_max_m:
            raise InterlockError(
                f"refused to insert the manipulator: stage z_m={z:.6g} m is above the "
                f"safe envelope (z_m <= {self.manipulator_limits.safe_z_max_m:g} m)"
            )

    def switch_beams_off(self) -> None:
        """Before venting: both beams off (a column must never run vented)."""
        self.backend.electron.on = False
        self.backend.ion.on = False
