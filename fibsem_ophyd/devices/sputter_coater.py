"""Sputter coater: a conductive metal layer over the whole specimen."""

from __future__ import annotations

import math

from ophyd_async.core import AsyncStatus, StandardReadable, soft_signal_r_and_setter
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import SputterCoaterBackend
from ..values import typed
from .interlocks import Interlocks


class SputterCoater(StandardReadable):
    def __init__(
        self,
        backend: SputterCoaterBackend,
        interlocks: Interlocks,
        max_time_s: float = 600.0,
        name: str = "",
    ) -> None:
        self.backend = backend
        self._interlocks = interlocks
        self._max_time_s = max_time_s
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.last_duration_s, self._set_last = soft_signal_r_and_setter(float, 0.0, units="s")
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def coat(self, duration_s: float, current_a: float = 10e-3) -> None:
        """Sputter for `duration_s` seconds at plasma current `current_a` amperes."""
        duration_s = typed("sputter_coater.duration_s", float, duration_s, "s")
        current_a = typed("sputter_coater.current_a", float, current_a, "A")
        if not math.isfinite(duration_s) or not (0 < duration_s <= self._max_time_s):
            raise ValueError(
                f"sputter_coater.duration_s={duration_s!r} s is outside the allowed range "
                f"(0, {self._max_time_s:g}] s"
            )
        if not math.isfinite(current_a) or not (0 < current_a <= 0.1):
            raise ValueError(
                f"sputter_coater.current_a={current_a!r} A is outside the allowed range (0, 0.1] A"
            )
        with self._interlocks.coating():  # venting and insertions refused until it ends
            await self.backend.coat(duration_s, current_a)
        self._set_last(duration_s)
