"""The twin's simulated clock: advanced by scans and moves, never by wall time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class TwinClock:
    """Simulated seconds. `advance` is instantaneous unless `realtime` pacing is on."""

    def __init__(self, start_s: float = 0.0, realtime: bool = False) -> None:
        self._now_s = float(start_s)
        self.realtime = realtime
        # Called with the new time after every advance (timed faults, sim/faults.py).
        self.listeners: list[Callable[[float], None]] = []

    def now_s(self) -> float:
        return self._now_s

    def advance(self, duration_s: float) -> None:
        """Move the clock forward without waiting (acquisitions, synchronous work)."""
        if duration_s < 0:
            raise ValueError(f"duration_s must be >= 0, got {duration_s}")
        self._now_s += duration_s
        for listener in self.listeners:
            listener(self._now_s)

    async def advance_async(self, duration_s: float) -> None:
        """Move the clock forward; with realtime pacing also sleep that long."""
        self.advance(duration_s)
        if self.realtime and duration_s > 0:
            await asyncio.sleep(duration_s)
        else:
            await asyncio.sleep(0)  # still yield, as a real move would
