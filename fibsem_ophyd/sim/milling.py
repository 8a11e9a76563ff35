"""`TwinMilling`: the twin's `MillingBackend`.

`draw` rasterises the stage's shapes in the ion image plane and picks the site patch
under the pattern centre. `mill` runs for the twin-clock time volume / (rate × current)
(rate from the stage's application file, current = the ion beam's true current), in
chunks: after each it calls `progress`, yields to the event loop (so `stop()`, `pause()`
or a cancellation can interrupt) and removes the material of the chunks done so far.
Each chunk is projected at the true stage pose and the ion beam shift of its moment, so
stage drift moves where material goes and a beam-shift correction brings the patterns
back, as on a microscope. `pause()` blanks the beam between chunks (no clock time, no
material) until `resume()`; `stop()` ends the mill, paused or not. See
`mill_physics.py` for the projection.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..backend import VacuumState
from ..milling import MillingStage
from .mill_physics import (
    ShapeRaster,
    apply_dose,
    grid_pixel_m,
    image_to_specimen,
    plane_affine,
    rasterise,
    unit_geometry,
    volume_m3,
)
from .patch import LocalPatch
from .world import TwinWorld

MIN_CHUNKS = 10
MAX_CHUNKS = 100
CHUNK_S = 1.0  # preferred twin seconds per chunk (within MIN/MAX_CHUNKS)
FLUSH_SHIFT_M = 5e-9  # apply pending material removal once the projection moved this much
MAX_FLUSHES = 12  # ... but at most this often per mill (each costs a patch update)


@dataclass
class _Drawn:
    stage: MillingStage
    surface_h_m: float  # reference surface height the patterns are projected at
    patch: LocalPatch
    rasters: list[ShapeRaster]
    volume_m3: float


class TwinMilling:
    """Ion-beam patterning on a `TwinWorld` (implements `MillingBackend`)."""

    def __init__(self, world: TwinWorld) -> None:
        self._world = world
        self.running = False
        self._drawn: _Drawn | None = None
        self._stop_requested = False
        self._resume = asyncio.Event()  # cleared while a pause is requested
        self._resume.set()
        self._suspended = False
        self._rng = np.random.default_rng(world.params.seed + 11)

    @property
    def paused(self) -> bool:
        """The mill is suspended: beam off the specimen, waiting for `resume()`."""
        return self._suspended

    @property
    def drawn(self) -> MillingStage | None:
        return self._drawn.stage if self._drawn else None

    @property
    def patch(self) -> LocalPatch | None:
        """The site patch the drawn stage mills into."""
        return self._drawn.patch if self._drawn else None

    def _rate_m3_per_s(self, stage: MillingStage) -> float:
        current = self._world.ion.current_a
        if current <= 0:
            raise ValueError(f"ion current must be > 0 to mill, got {current} A")
        return stage.parameters.rate * current

    async def draw(self, stage: MillingStage) -> float:
        w = self._world
        geom = unit_geometry(w.ion, w.params)
        pose = w.true_pose()
        h_m = w.renderer.surface_centre(pose, geom)[2]
        affine = plane_affine(w.renderer, pose, geom, h_m)
        box = stage.bounding_box()
        if box is None:
            raise ValueError(f"stage {stage.name!r} has no patterns to draw")
        u, v = image_to_specimen(
            affine, (box.min_x_m + box.max_x_m) / 2, (box.min_y_m + box.max_y_m) / 2
        )
        patch = w.specimen.patch_at(u, v)
        rasters = rasterise(stage, grid_pixel_m(affine, patch.pixel_m))
        self._drawn = _Drawn(stage, h_m, patch, rasters, volume_m3(stage))
        return self._drawn.volume_m3 / self._rate_m3_per_s(stage)

    def clear(self) -> None:
        self._drawn = None

    def stop(self) -> None:
        self._stop_requested = True
        self._resume.set()  # a paused mill wakes up to end

    def pause(self) -> None:
        """Blank the beam after the present chunk until `resume()` (or `stop()`)."""
        if self.running:
            self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    async def mill(self, progress: Callable[[float, float], None]) -> None:
        if self._drawn is None:
            raise RuntimeError("nothing is drawn: draw a milling stage first")
        d, w = self._drawn, self._world
        total_s = d.volume_m3 / self._rate_m3_per_s(d.stage)
        n = int(min(MAX_CHUNKS, max(MIN_CHUNKS, math.ceil(total_s / CHUNK_S))))
        dt = total_s / n
        angle = float(self._rng.uniform(0.0, 2 * np.pi))
        drift = w.params.milling_beam_drift_m_per_s * np.array([np.cos(angle), np.sin(angle)])
        t0 = w.clock.now_s()
        pending: list[tuple[np.ndarray, np.ndarray]] = []  # (affine, beam offset) per chunk
        min_group = max(1, n // MAX_FLUSHES)
        self._stop_requested, self.running = False, True
        start = self._projection(d, drift, t0)
        try:
            for k in range(n):
                if not self._resume.is_set():  # what is milled so far shows while paused
                    if pending:
                        self._flush(d, pending, n)
                        pending = []
                    self._suspended = True
                    await self._resume.wait()
                    self._suspended = False
                    start = self._projection(d, drift, t0)  # corrections made meanwhile
                if self._stop_requested:
                    break
                await self._stall_if_faulted(k / n)
                if self._stop_requested:
                    break
                await self._advance(dt)
                end = self._projection(d, drift, t0)
                mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
                start = end
                if len(pending) >= min_group and not _close(pending[0], mid):
                    self._flush(d, pending, n)
                    pending = []
                if self._beam_reaches_sample():
                    pending.append(mid)
                progress((k + 1) / n, max(total_s - (k + 1) * dt, 0.0))
        finally:
            if pending:
                self._flush(d, pending, n)
            self.running, self._suspended = False, False
            self._stop_requested = False
            self._resume.set()
        box = d.stage.bounding_box()
        if box is not None:
            extent = (box.min_x_m, box.min_y_m, box.max_x_m, box.max_y_m)
            w.liftout.on_milled(w, d.patch, extent)

    async def _stall_if_faulted(self, fraction: float) -> None:
        """`faults.milling_stalls_at`: from that fraction on, no progress (beam on) until
        `stop()`."""
        stall_at = self._world.faults.milling_stalls_at
        if stall_at is not None and fraction >= stall_at:
            while not self._stop_requested:
                await asyncio.sleep(0.01)

    def _beam_reaches_sample(self) -> bool:
        """No material is removed with the ion beam off or blanked, or the chamber not
        pumped."""
        w = self._world
        return bool(w.ion.on and not w.ion.blanked) and w.chamber.state == VacuumState.PUMPED

    def _projection(self, d: _Drawn, drift: np.ndarray, t0: float) -> tuple[np.ndarray, np.ndarray]:
        w = self._world
        geom = unit_geometry(w.ion, w.params)  # the beam shift of this moment
        affine = plane_affine(w.renderer, w.true_pose(), geom, d.surface_h_m)
        return affine, drift * (w.clock.now_s() - t0)

    async def _advance(self, dt: float) -> None:
        w = self._world
        await w.clock.advance_async(dt)
        scale = w.params.milling_time_scale
        if scale > 0 and not w.clock.realtime:
            await asyncio.sleep(dt * scale)

    def _flush(self, d: _Drawn, pending: list[tuple[np.ndarray, np.ndarray]], n: int) -> None:
        w = self._world
        affine = np.mean([p[0] for p in pending], axis=0)
        offset = np.mean([p[1] for p in pending], axis=0)
        fraction = len(pending) / n * w.faults.milling_rate_factor
        d.patch.milling_map = np.diag([1.0, -1.0]) @ affine[:, :2]
        apply_dose(
            d.patch,
            d.rasters,
            affine,
            (float(offset[0]), float(offset[1])),
            fraction,
            list(w.coating.layers),
            w.params.milling_redeposition_fraction,
            self._rng,
        )


def _close(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool:
    """Whether two chunk projections put the pattern within FLUSH_SHIFT_M of each other."""
    shift = np.abs(a[0][:, 2] - b[0][:, 2]).max() + np.abs(a[1] - b[1]).max()
    return bool(shift < FLUSH_SHIFT_M and np.allclose(a[0][:, :2], b[0][:, :2], atol=1e-9))
