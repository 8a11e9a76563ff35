"""The specimen stage: x, y, z (metres), r, t (degrees), raw coordinates.

Each axis is a Movable (`mv(stage.x, 1e-4)`); `stage.move_to(StagePosition(...))`
moves several axes in one coordinated move after checking every target against the
soft limits, so a bad target anywhere refuses the whole move before anything moves.
With a needle (manipulator or GIS) inserted or going in, a tilt or height outside the
insertion envelope is refused too (`Interlocks.require_stage_target_safe`), by the same
`check_position` / axis `check_move` that plans call to check a target in advance.

A move that has not reached its target within twice its expected time plus
`move_timeout_margin_s` is stopped (`backend.stop()`) and fails with a TimeoutError that
says so: a stage that never arrives must not hold a workflow forever.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ophyd_async.core import AsyncStatus, StandardReadable

from ..backend import StageBackend, StagePosition
from ..values import typed_model
from .axis import Axis, check_axis_target
from .interlocks import Interlocks
from .limits import StageLimits

AXES = ("x_m", "y_m", "z_m", "r_deg", "t_deg")
MOVE_TIMEOUT_MARGIN_S = 10.0  # beyond twice the expected move time


class Stage(StandardReadable):
    move_timeout_margin_s: float = MOVE_TIMEOUT_MARGIN_S

    def __init__(
        self, backend: StageBackend, limits: StageLimits, interlocks: Interlocks, name: str = ""
    ) -> None:
        self.backend = backend
        self.limits = limits
        self._interlocks = interlocks
        with self.add_children_as_readables():
            self.x = self._axis("x_m")
            self.y = self._axis("y_m")
            self.z = self._axis("z_m")
            self.r = self._axis("r_deg")
            self.t = self._axis("t_deg")
        super().__init__(name=name)

    def _axis(self, field: str) -> Axis:
        async def move(value: float) -> None:
            await self._move(StagePosition(**{field: value}))

        def inside_envelope(value: float) -> None:
            self._interlocks.require_stage_target_safe(StagePosition(**{field: value}))

        return Axis(
            f"stage.{field}",
            getattr(self.limits, field),
            read=lambda: float(getattr(self.backend.position(), field)),
            move=move,
            extra_check=inside_envelope,
            precision=9 if field.endswith("_m") else 4,
        )

    async def _move(self, target: StagePosition) -> None:
        # Checked again as the move starts, and held while it runs: the checks above ran
        # before awaits during which a needle may have started to go in.
        with self._interlocks.stage_moving(target):
            timeout_s = 2.0 * self.backend.move_time_s(target) + self.move_timeout_margin_s
            try:
                async with asyncio.timeout(timeout_s):
                    await self.backend.move_to(target)
            except TimeoutError:
                self.backend.stop()
                moved = {k: v for k, v in target if v is not None}
                raise TimeoutError(
                    f"stage move to {moved} did not reach its target within {timeout_s:.3g} s; "
                    "the stage was stopped"
                ) from None

    def axes(self) -> dict[str, Axis]:
        return {"x_m": self.x, "y_m": self.y, "z_m": self.z, "r_deg": self.r, "t_deg": self.t}

    def check_position(self, target: StagePosition) -> None:
        """Raise ValueError naming the first axis whose target is outside the soft
        limits, then InterlockError if it leaves the envelope of an inserted needle."""
        for field in AXES:
            value = getattr(target, field)
            if value is not None:
                check_axis_target(f"stage.{field}", value, getattr(self.limits, field))
        self._interlocks.require_stage_target_safe(target)

    async def position(self) -> StagePosition:
        return self.backend.position()

    @AsyncStatus.wrap
    async def move_to(self, target: StagePosition) -> None:
        """Move every axis that is not None, after checking all of them."""
        # A dict (even {}) is refused by name, not read as "move nothing".
        target = typed_model("stage target", StagePosition, target)
        self.check_position(target)
        await self._move(target)
        for axis in self.axes().values():
            await axis.readback.read(cached=False)

    def set(self, value: Any) -> AsyncStatus:
        """Movable protocol: `bps.mv(stage, StagePosition(x_m=..., t_deg=...))`."""
        return self.move_to(value)

    @AsyncStatus.wrap
    async def stop(self, success: bool = True) -> None:
        self.backend.stop()
