"""Stage and manipulator (`StageBackend`, `ManipulatorBackend`) over fibsem's RAW
positions. Angles are radians in fibsem, degrees here; every move runs in the worker
thread with a timeout. Limits are the devices' job: a target reaches this file only
after `fibsem_ophyd.devices.limits` accepted it.
"""

from __future__ import annotations

from typing import Any

from ..backend import ManipulatorPosition, StagePosition
from ._calls import VendorCalls
from ._units import deg_to_rad, rad_to_deg

MOVE_TIMEOUT_MARGIN_S = 30.0  # beyond the estimated move time (settling, network)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


class FibsemStage:
    """Raw stage axes. `speeds` (m/s, deg/s, deg/s) only estimate move times."""

    def __init__(
        self,
        microscope: Any,
        calls: VendorCalls,
        linear_m_per_s: float,
        rotation_deg_per_s: float,
        tilt_deg_per_s: float,
    ) -> None:
        self._m = microscope
        self._calls = calls
        self._speeds = (linear_m_per_s, rotation_deg_per_s, tilt_deg_per_s)

    def position(self) -> StagePosition:
        p = self._calls.now("stage", "position", self._m.get_stage_position)
        return StagePosition(
            x_m=_float(p.x),
            y_m=_float(p.y),
            z_m=_float(p.z),
            r_deg=rad_to_deg(_float(p.r)),
            t_deg=rad_to_deg(_float(p.t)),
        )

    def move_time_s(self, target: StagePosition) -> float:
        here = self.position()
        linear, rotation, tilt = self._speeds
        times = [0.0]
        for axis in ("x_m", "y_m", "z_m"):
            goal, now = getattr(target, axis), getattr(here, axis)
            if goal is not None and now is not None:
                times.append(abs(goal - now) / linear)
        if target.r_deg is not None and here.r_deg is not None:
            turn = abs(target.r_deg - here.r_deg) % 360.0
            times.append(min(turn, 360.0 - turn) / rotation)
        if target.t_deg is not None and here.t_deg is not None:
            times.append(abs(target.t_deg - here.t_deg) / tilt)
        return max(times)

    async def move_to(self, target: StagePosition) -> None:
        from fibsem.structures import FibsemStagePosition

        vendor = FibsemStagePosition(
            x=target.x_m,
            y=target.y_m,
            z=target.z_m,
            r=deg_to_rad(target.r_deg),
            t=deg_to_rad(target.t_deg),
            coordinate_system="RAW",
        )
        timeout_s = self._calls.timeout_s + self.move_time_s(target) + MOVE_TIMEOUT_MARGIN_S
        await self._calls.slow(
            "stage", "move_to", self._m.move_stage_absolute, vendor, timeout_s=timeout_s
        )

    def stop(self) -> None:
        """fibsem 0.5.3 has no stage stop in its common API: a move in progress runs to
        its target (docs/hardware.md, 'Not covered yet'). Recorded so the request shows."""
        self._calls.log.append(("stage", "stop (not available through fibsem)"))


class FibsemManipulator:
    def __init__(self, microscope: Any, calls: VendorCalls) -> None:
        self._m = microscope
        self._calls = calls

    @property
    def inserted(self) -> bool:
        return bool(self._calls.now("manipulator", "inserted", self._m.get, "manipulator_state"))

    def _vendor_position(self) -> Any:
        return self._calls.now("manipulator", "position", self._m.get_manipulator_position)

    def position(self) -> ManipulatorPosition:
        p = self._vendor_position()
        return ManipulatorPosition(
            x_m=_float(p.x), y_m=_float(p.y), z_m=_float(p.z), r_deg=rad_to_deg(_float(p.r))
        )

    def _target(self, target: ManipulatorPosition) -> Any:
        """fibsem's position for `target`, unset axes kept where they are (fibsem fills
        an unset manipulator axis with 0, which would move it)."""
        from fibsem.structures import FibsemManipulatorPosition

        here = self._vendor_position()
        return FibsemManipulatorPosition(
            x=here.x if target.x_m is None else target.x_m,
            y=here.y if target.y_m is None else target.y_m,
            z=here.z if target.z_m is None else target.z_m,
            r=here.r if target.r_deg is None else deg_to_rad(target.r_deg),
            t=here.t,
            coordinate_system="RAW",
        )

    async def _go(self, action: str, target: ManipulatorPosition) -> None:
        vendor = self._target(target)
        await self._calls.slow("manipulator", action, self._m.move_manipulator_absolute, vendor)

    async def move_to(self, target: ManipulatorPosition) -> None:
        if not self.inserted:
            raise ValueError("manipulator is retracted: insert it before moving")
        await self._go("move_to", target)

    async def insert(self, target: ManipulatorPosition) -> None:
        await self._calls.slow("manipulator", "insert", self._m.insert_manipulator, "PARK")
        await self._go("move_to", target)

    async def retract(self) -> None:
        await self._calls.slow("manipulator", "retract", self._m.retract_manipulator)

    async def move_retracted(self, target: ManipulatorPosition) -> None:
        if self.inserted:
            raise ValueError("manipulator is inserted: retract it before this move")
        await self._go("move_retracted", target)
