"""Ion-beam milling: draw a milling stage's patterns, mill them with progress, stop.

The device refuses to draw or mill while vented or with the ion beam off, and refuses
patterns that do not fit the ion field of view. Which current mills is the ion beam's
business: the `run_milling` plan sets and verifies it before anything is drawn.
"""

from __future__ import annotations

import asyncio

from ophyd_async.core import (
    AsyncStatus,
    StandardReadable,
    soft_signal_r_and_setter,
    soft_signal_rw,
)
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import BeamBackend, MillingBackend
from ..milling import MillingStage
from .interlocks import InterlockError, Interlocks


class Milling(StandardReadable):
    def __init__(
        self,
        backend: MillingBackend,
        ion: BeamBackend,
        interlocks: Interlocks,
        name: str = "",
    ) -> None:
        self.backend = backend
        self._ion = ion
        self._interlocks = interlocks
        with self.add_children_as_readables(Format.HINTED_SIGNAL):
            self.progress, self._set_progress = soft_signal_r_and_setter(float, 0.0)
            self.time_remaining_s, self._set_remaining = soft_signal_r_and_setter(
                float, 0.0, units="s"
            )
            self.stage_name, self._set_stage_name = soft_signal_r_and_setter(str, "")
            self.estimated_time_s, self._set_estimate = soft_signal_r_and_setter(
                float, 0.0, units="s"
            )
            # What an image taken now shows: "before" / "after" milling (set by plans).
            self.phase = soft_signal_rw(str, "")
        self.drawn: MillingStage | None = None
        super().__init__(name=name)

    def _check_ready(self, action: str) -> None:
        self._interlocks.require_vacuum(action)
        if not self._ion.on:
            raise InterlockError(f"refused to {action}: the ion beam is off")

    @AsyncStatus.wrap
    async def draw(self, stage: MillingStage) -> None:
        """Draw `stage`'s patterns (validated against the present ion field of view)."""
        self._check_ready(f"draw milling stage {stage.name!r}")
        hfw = stage.parameters.hfw_m
        if abs(self._ion.hfw_m - hfw) > 1e-3 * hfw:
            raise ValueError(
                f"ion.hfw_m is {self._ion.hfw_m:g} m but stage {stage.name!r} is laid out for "
                f"parameters.hfw_m={hfw:g} m; set the ion hfw first"
            )
        stage.validate_in_field(aspect=self._ion.resolution_x_px / self._ion.resolution_y_px)
        estimate = self.backend.draw(stage)
        self.drawn = stage
        self._set_stage_name(stage.name)
        self._set_estimate(estimate)
        self._set_progress(0.0)
        self._set_remaining(estimate)

    @AsyncStatus.wrap
    async def mill(self) -> None:
        """Mill what is drawn; progress and time remaining update as it goes."""
        if self.drawn is None:
            raise RuntimeError("nothing is drawn: draw a milling stage first")
        self._check_ready(f"mill {self.drawn.name!r}")

        def progress(fraction: float, remaining_s: float) -> None:
            self._set_progress(fraction)
            self._set_remaining(remaining_s)

        try:
            await self.backend.mill(progress)
        finally:
            if self.backend.running:
                self.backend.stop()

    @AsyncStatus.wrap
    async def clear(self) -> None:
        self.backend.clear()
        self.drawn = None
        self._set_stage_name("")

    @AsyncStatus.wrap
    async def halt(self, timeout_s: float = 30.0) -> None:
        """Stop milling at once and wait until the beam has really stopped (plans'
        cleanup calls this on abort)."""
        self.backend.stop()
        waited = 0.0
        while self.backend.running:
            if waited > timeout_s:
                raise TimeoutError(f"milling did not stop within {timeout_s:g} s")
            await asyncio.sleep(0.01)
            waited += 0.01
