"""One motor axis of a multi-axis positioner (stage, manipulator, objective).

The axis delegates its motion to a `move` coroutine of its parent, which knows how
to move the real positioner; `check_move` refuses NaN/inf and targets outside the
soft limits before anything moves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property

from ophyd_async.core import (
    MovableLogic,
    SignalR,
    StandardMovable,
    StandardReadable,
    TimeoutCalculator,
    soft_signal_rw,
)
from ophyd_async.core import StandardReadableFormat as Format

from ..ranges import in_range
from ._backed import backed_r
from .limits import AxisLimits


def check_axis_target(field: str, value: float, limits: AxisLimits) -> None:
    """Raise ValueError naming the field and its soft limits if `value` is not allowed
    (NaN/inf too; a string or bool is refused by the type rule of `fibsem_ophyd.values`)."""
    lo, hi = limits.minimum, limits.maximum
    in_range(field, value, lo, hi, limits.unit, what="soft limits")


@dataclass
class _AxisLogic(MovableLogic[float]):
    field: str
    limits: AxisLimits
    do_move: Callable[[float], Awaitable[None]]
    extra_check: Callable[[float], None]
    refresh: Callable[[], Awaitable[None]]

    async def check_move(self, new_position: float) -> None:
        check_axis_target(self.field, new_position, self.limits)
        self.extra_check(new_position)

    async def move(self, new_position: float, timeout: TimeoutCalculator) -> None:
        await self.setpoint.set(new_position)
        await self.do_move(new_position)
        await self.refresh()


class Axis(StandardReadable, StandardMovable[float]):
    """A movable axis whose readback comes from `read()` and whose moves go to `move()`."""

    def __init__(
        self,
        field: str,
        limits: AxisLimits,
        read: Callable[[], float],
        move: Callable[[float], Awaitable[None]],
        extra_check: Callable[[float], None] = lambda _v: None,
        precision: int = 9,
        name: str = "",
    ) -> None:
        self._field = field
        self._limits = limits
        self._move = move
        self._extra_check = extra_check
        with self.add_children_as_readables(Format.HINTED_SIGNAL):
            self.readback: SignalR[float] = backed_r(
                float, read, units=limits.unit, precision=precision
            )
        self.setpoint = soft_signal_rw(float, read(), units=limits.unit, precision=precision)
        super().__init__(name=name)

    def set_name(self, name: str, *, child_name_separator: str | None = None) -> None:
        super().set_name(name, child_name_separator=child_name_separator)
        # The readback carries the axis's own name, as a motor's does ("stage-x").
        self.readback.set_name(name)

    @cached_property
    def movable_logic(self) -> _AxisLogic:
        async def refresh() -> None:
            await self.readback.read(cached=False)

        return _AxisLogic(
            setpoint=self.setpoint,
            readback=self.readback,
            field=self._field,
            limits=self._limits,
            do_move=self._move,
            extra_check=self._extra_check,
            refresh=refresh,
        )
