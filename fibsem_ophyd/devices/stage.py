"""The specimen stage: x, y, z (metres), r, t (degrees), raw coordinates.

Each axis is a Movable (`mv(stage.x, 1e-4)`); `stage.move_to(StagePosition(...))`
moves several axes in one coordinated move after checking every target against the
soft limits, so a bad target anywhere refuses the whole move before anything moves.
"""

from __future__ import annotations

from ophyd_async.core import AsyncStatus, StandardReadable

from ..backend import StageBackend, StagePosition
from .axis import Axis, check_axis_target
from .limits import StageLimits

AXES = ("x_m", "y_m", "z_m", "r_deg", "t_deg")


class Stage(StandardReadable):
    def __init__(self, backend: StageBackend, limits: StageLimits, name: str = "") -> None:
        self.backend = backend
        self.limits = limits
        with self.add_children_as_readables():
            self.x = self._axis("x_m")
            self.y = self._axis("y_m")
            self.z = self._axis("z_m")
            self.r = self._axis("r_deg")
            self.t = self._axis("t_deg")
        super().__init__(name=name)

    def _axis(self, field: str) -> Axis:
        async def move(value: float) -> None:
            await self.backend.move_to(StagePosition(**{field: value}))

        return Axis(
            f"stage.{field}",
            getattr(self.limits, field),
            read=lambda: float(getattr(self.backend.position(), field)),
            move=move,
            precision=9 if field.endswith("_m") else 4,
        )

    def axes(self) -> dict[str, Axis]:
        return {"x_m": self.x, "y_m": self.y, "z_m": self.z, "r_deg": self.r, "t_deg": self.t}

    def check_position(self, target: StagePosition) -> None:
        """Raise ValueError naming the first axis whose target is not allowed."""
        for field in AXES:
            value = getattr(target, field)
            if value is not None:
                check_axis_target(f"stage.{field}", value, getattr(self.limits, field))

    async def position(self) -> StagePosition:
        return self.backend.position()

    @AsyncStatus.wrap
    async def move_to(self, target: StagePosition) -> None:
        """Move every axis that is not None, after checking all of them."""
        self.check_position(target)
        await self.backend.move_to(target)
        for axis in self.axes().values():
            await axis.readback.read(cached=False)

    def set(self, value: StagePosition) -> AsyncStatus:
        """Movable protocol: `bps.mv(stage, StagePosition(x_m=..., t_deg=...))`."""
        return self.move_to(value)

    @AsyncStatus.wrap
    async def stop(self, success: bool = True) -> None:
        self.backend.stop()
