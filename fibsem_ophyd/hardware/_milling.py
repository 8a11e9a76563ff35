"""`FibsemMilling`: draw, mill, pause, resume and stop through fibsem (`MillingBackend`).

`mill` runs fibsem's blocking `run_milling` in the worker thread, bounded by twice the
estimated time plus a margin, and reports progress from the elapsed time while it waits.
`stop`/`pause`/`resume` are quick requests made from the event loop while the worker
mills; fibsem's own state machine (`get_milling_state`) says whether a pause took hold.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ..milling import MillingStage
from ._beams import FibsemBeam
from ._calls import VendorCalls
from ._patterns import milling_settings, stage_patterns

PROGRESS_INTERVAL_S = 0.5
MILL_TIMEOUT_FACTOR = 2.0
MILL_TIMEOUT_MARGIN_S = 60.0


class FibsemMilling:
    def __init__(self, microscope: Any, calls: VendorCalls, ion: FibsemBeam) -> None:
        self._m = microscope
        self._calls = calls
        self._ion = ion
        self.running = False
        self.estimated_time_s = 0.0
        self.drawn: list[Any] = []  # the fibsem pattern settings last drawn

    @property
    def paused(self) -> bool:
        from fibsem.structures import MillingState

        state = self._calls.now("milling", "state", self._m.get_milling_state)
        return bool(self.running and state == MillingState.PAUSED)

    async def draw(self, stage: MillingStage) -> float:
        patterns = stage_patterns(stage)  # translation errors come before any vendor call
        settings = milling_settings(
            stage, self._ion.current_a, self._ion.voltage_v, self._ion.hfw_m
        )
        await self._calls.slow("milling", "setup", self._m.setup_milling, settings)
        await self._calls.slow("milling", "draw", self._m.draw_patterns, patterns)
        self.drawn = patterns
        vendor_s = await self._calls.slow("milling", "estimate", self._m.estimate_milling_time)
        # fibsem's estimate where it gives one, else ours (volume / (rate × current)).
        self.estimated_time_s = float(vendor_s) if vendor_s else stage.estimated_time_s()
        return self.estimated_time_s

    def clear(self) -> None:
        self._calls.now("milling", "clear", self._m.clear_patterns)
        self.drawn = []

    async def mill(self, progress: Callable[[float, float], None]) -> None:
        total_s = max(self.estimated_time_s, 0.0)
        timeout_s = MILL_TIMEOUT_FACTOR * total_s + MILL_TIMEOUT_MARGIN_S
        current, voltage = self._ion.current_a, self._ion.voltage_v
        self.running = True
        start = time.monotonic()
        job = asyncio.ensure_future(
            self._calls.slow(
                "milling", "run", self._m.run_milling, current, voltage, timeout_s=timeout_s
            )
        )
        try:
            while not job.done():
                await asyncio.wait({job}, timeout=PROGRESS_INTERVAL_S)
                elapsed = time.monotonic() - start
                if total_s > 0 and not job.done():
                    progress(min(elapsed / total_s, 0.99), max(total_s - elapsed, 0.0))
            await job
            progress(1.0, 0.0)
        except BaseException:
            if not job.done():  # interrupted: the beam must not keep milling
                self.stop()
                job.cancel()
            raise
        finally:
            self.running = False

    def stop(self) -> None:
        self._calls.now("milling", "stop", self._m.stop_milling)

    def pause(self) -> None:
        if self.running:
            self._calls.now("milling", "pause", self._m.pause_milling)

    def resume(self) -> None:
        if self.running:
            self._calls.now("milling", "resume", self._m.resume_milling)
