"""Ion-beam milling: draw a milling stage's patterns, mill them with progress, pause,
resume, halt.

`mill()` mills what is drawn to the end; `mill(duration_s)` mills for that much
microscope time and leaves the mill paused, so a plan can correct drift between
segments — the next `mill()` continues where it stopped. The device is Pausable: when
the RunEngine pauses, a running mill is paused (beam blanked) and continues on
resume, never repeated and never skipped. It refuses to draw or mill while vented or
with the ion beam off, and refuses patterns that do not fit the ion field of view.
Which current mills is the ion beam's business: `run_milling` sets and verifies it.

A mill that reports no progress for `stall_limit_s()` (`stall_timeout_s` if set, else
twice the stage's estimate and at least `STALL_MIN_S`; a paused mill is not stalled) is
halted and `mill()` fails saying so: a stalled mill must not hold the beam on the
specimen without end.
"""

from __future__ import annotations

import asyncio
import math
import time

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

# state: "idle" (nothing drawn), "drawn", "milling", "paused", "done", "stopped"
PAUSE_TIMEOUT_S = 30.0  # a pause that does not take effect by then stops the mill
STALL_MIN_S = 60.0  # the least time without progress before a mill counts as stalled
STALL_FACTOR = 2.0  # ... or this many times the stage's estimate, if longer


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
            self.state, self._set_state = soft_signal_r_and_setter(str, "idle")
            # What an image taken now shows: "before" / "after" milling (set by plans).
            self.phase = soft_signal_rw(str, "")
        self.drawn: MillingStage | None = None
        self._task: asyncio.Task[None] | None = None  # the backend's mill of `drawn`
        self._estimate = 0.0  # estimated milling time of the drawn stage (s)
        self._milled_s = 0.0  # milling time done of the drawn stage (s)
        self._segment_end_s: float | None = None
        self._segment_reached: asyncio.Event | None = None
        self._engine_paused = False
        self._stopping = False
        self._interrupted: str | None = None
        self._progress_at = time.monotonic()  # wall time of the last progress (or start)
        self.stall_timeout_s: float | None = None  # None: from the estimate
        super().__init__(name=name)

    @property
    def busy(self) -> bool:
        """A mill of the drawn stage has started and not ended (running or paused)."""
        return self._task is not None and not self._task.done()

    def _check_ready(self, action: str) -> None:
        self._interlocks.require_vacuum(action)
        if not self._ion.on:
            raise InterlockError(f"refused to {action}: the ion beam is off")
        if self._ion.blanked:
            raise InterlockError(
                f"refused to {action}: the ion beam is blanked (after a halt, set "
                "ion_beam.blanked to False to go on)"
            )

    @AsyncStatus.wrap
    async def draw(self, stage: MillingStage) -> None:
        """Draw `stage`'s patterns (validated against the present ion field of view)."""
        self._check_ready(f"draw milling stage {stage.name!r}")
        if self.busy:
            raise RuntimeError(
                f"refused to draw {stage.name!r}: milling of {self.drawn.name!r} is in "  # type: ignore[union-attr]
                "progress; halt it first"
            )
        hfw = stage.parameters.hfw_m
        if abs(self._ion.hfw_m - hfw) > 1e-3 * hfw:
            raise ValueError(
                f"ion.hfw_m is {self._ion.hfw_m:g} m but stage {stage.name!r} is laid out for "
                f"parameters.hfw_m={hfw:g} m; set the ion hfw first"
            )
        stage.validate_in_field(aspect=self._ion.resolution_x_px / self._ion.resolution_y_px)
        estimate = await self.backend.draw(stage)
        self.drawn, self._task, self._interrupted = stage, None, None
        self._estimate, self._milled_s = estimate, 0.0
        self._set_stage_name(stage.name)
        self._set_estimate(estimate)
        self._set_progress(0.0)
        self._set_remaining(estimate)
        self._set_state("drawn")

    def stall_limit_s(self) -> float:
        """Seconds without progress after which a mill is halted as stalled."""
        if self.stall_timeout_s is not None:
            return self.stall_timeout_s
        return max(STALL_MIN_S, STALL_FACTOR * self._estimate)

    def _on_progress(self, fraction: float, remaining_s: float) -> None:
        self._progress_at = time.monotonic()
        self._set_progress(fraction)
        self._set_remaining(remaining_s)
        self._milled_s = fraction * self._estimate
        end = self._segment_end_s
        if end is not None and self._milled_s >= end - 1e-9 * max(end, 1.0):
            self.backend.pause()  # synchronously: no further chunk runs
            if self._segment_reached is not None:
                self._segment_reached.set()

    async def _run_backend(self) -> None:
        self._stopping = False
        await self.backend.mill(self._on_progress)
        if not self._stopping:  # it returned by itself: everything is milled
            self._milled_s = self._estimate
            self._set_progress(1.0)
            self._set_remaining(0.0)

    def _stop_backend(self) -> None:
        self._stopping = True
        self.backend.stop()

    @AsyncStatus.wrap
    async def mill(self, duration_s: float | None = None) -> None:
        """Mill what is drawn: to the end, or for `duration_s` seconds of milling time
        (then paused; the next `mill()` continues). Raises if an interlock stopped it."""
        if self.drawn is None:
            raise RuntimeError("nothing is drawn: draw a milling stage first")
        if duration_s is not None and not (math.isfinite(duration_s) and duration_s > 0):
            raise ValueError(f"milling.duration_s={duration_s!r} s must be a number > 0 s")
        if self._task is not None and self._task.done():
            self._raise_if_failed()
            return  # milled to the end already
        if self._segment_reached is not None:
            raise RuntimeError(
                f"refused to mill {self.drawn.name!r}: a mill() of it is already in progress"
            )
        self._check_ready(f"mill {self.drawn.name!r}")
        self._segment_end_s = None if duration_s is None else self._milled_s + duration_s
        reached = self._segment_reached = asyncio.Event()
        if self._task is None:
            self._task = asyncio.create_task(self._run_backend())
        else:
            self.backend.resume()
        self._set_state("milling")
        waiter = asyncio.ensure_future(reached.wait())
        self._progress_at = time.monotonic()
        try:
            await self._until_ended_or_reached(waiter)
            if not self._task.done():
                await self._until_paused()
        except asyncio.CancelledError:
            self._stop_backend()  # a cancelled mill never keeps milling unattended
            raise
        finally:
            waiter.cancel()
            self._segment_end_s, self._segment_reached = None, None
        if self._task.done():
            self._raise_if_failed()
            self._set_state("done")
        else:
            self._set_state("paused")

    async def _until_ended_or_reached(self, waiter: asyncio.Future) -> None:
        """Wait for the mill to end or reach its segment's end; halt it and raise if it
        makes no progress for `stall_limit_s()` while not paused."""
        assert self._task is not None and self.drawn is not None
        while True:
            limit_s = self.stall_limit_s()
            done, _ = await asyncio.wait(
                {self._task, waiter}, timeout=min(limit_s, 1.0), return_when=asyncio.FIRST_COMPLETED
            )
            if done:
                return
            if self.backend.paused:
                self._progress_at = time.monotonic()  # a paused mill is not stalled
            elif time.monotonic() - self._progress_at > limit_s:
                fraction = self._milled_s / self._estimate if self._estimate else 0.0
                await self._halt(PAUSE_TIMEOUT_S)
                raise TimeoutError(
                    f"milling of {self.drawn.name!r} stalled at {fraction:.0%}: no progress "
                    f"for {limit_s:g} s; milling halted"
                )

    async def _until_paused(self, timeout_s: float = PAUSE_TIMEOUT_S) -> None:
        """Wait until a requested pause has taken effect (or the mill ended)."""
        waited = 0.0
        while self.busy and not self.backend.paused:
            if waited > timeout_s:
                self._stop_backend()
                raise TimeoutError(
                    f"milling did not pause within {timeout_s:g} s; it was stopped instead"
                )
            await asyncio.sleep(0.005)
            waited += 0.005

    def _raise_if_failed(self) -> None:
        """After the backend's mill ended: its error, the interlock that stopped it, or
        a stop before the end; nothing when it milled everything."""
        assert self._task is not None and self.drawn is not None
        if self._interrupted is not None:
            raise InterlockError(self._interrupted)
        error = self._task.exception()
        if error is not None:
            raise error
        if self._milled_s < self._estimate * (1 - 1e-9):
            raise RuntimeError(
                f"milling of {self.drawn.name!r} was stopped at "
                f"{self._milled_s / self._estimate:.0%}; draw it again to mill it"
            )

    def interrupt(self, reason: str) -> None:
        """Stop a mill in progress because it became unsafe (interlocks call this); the
        waiting `mill()` fails with `reason`."""
        if self.busy:
            self._interrupted = reason
            self._stop_backend()
            self._set_state("stopped")

    # bluesky's Pausable: the RunEngine calls these when it pauses and resumes.
    async def pause(self) -> None:
        """Pause a mill in progress and return once the beam is off the specimen."""
        if self.busy and not self.backend.paused:
            self.backend.pause()
            self._engine_paused = True
            await self._until_paused()
            self._set_state("paused")

    def resume(self) -> None:
        if self._engine_paused:
            self._engine_paused = False
            if self.busy:
                self.backend.resume()
                self._set_state("milling")

    @AsyncStatus.wrap
    async def clear(self) -> None:
        """Forget the drawn stage (a mill still in progress is halted first)."""
        if self.busy:
            await self._halt(30.0)
        self.backend.clear()
        self.drawn, self._task = None, None
        self._set_stage_name("")
        self._set_state("idle")

    @AsyncStatus.wrap
    async def halt(self, timeout_s: float = 30.0) -> None:
        """Stop milling at once (also a paused mill) and wait until the beam has really
        stopped (plans' cleanup calls this on abort)."""
        await self._halt(timeout_s)

    async def _halt(self, timeout_s: float) -> None:
        self._stop_backend()
        self._engine_paused = False
        waited = 0.0
        while self.backend.running or self.busy:
            if waited > timeout_s:
                raise TimeoutError(f"milling did not stop within {timeout_s:g} s")
            await asyncio.sleep(0.01)
            waited += 0.01
        if self.drawn is not None and self._task is not None:
            self._set_state("done" if self._milled_s >= self._estimate * (1 - 1e-9) else "stopped")
