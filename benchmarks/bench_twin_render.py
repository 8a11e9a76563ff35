"""Benchmark: median render time of full 1536 × 1024 twin frames (electron and ion).

Stage poses vary every frame (x/y within ±5 µm, tilt 30–40°), so content follows the
state; the tile cache is warmed first, as in a session that keeps imaging one region.
Run: .venv/bin/python benchmarks/bench_twin_render.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.sim import TwinWorld

N_FRAMES = 40


def bench(world: TwinWorld, beam: str, rng: np.random.Generator) -> tuple[float, float]:
    times_ms = []
    poses = [
        StagePosition(
            x_m=float(rng.uniform(-5e-6, 5e-6)),
            y_m=float(rng.uniform(-5e-6, 5e-6)),
            t_deg=float(rng.uniform(30.0, 40.0)),
        )
        for _ in range(N_FRAMES)
    ]
    for pose in poses[:5]:  # warm the tile cache for this region
        world.set_stage(pose)
        world.render(beam)
    for pose in poses:
        world.set_stage(pose)
        t0 = time.perf_counter()
        world.render(beam)
        times_ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times_ms), max(times_ms)


def main() -> None:
    world = TwinWorld()
    rng = np.random.default_rng(0)
    for beam in ("electron", "ion"):
        b = world.beam(beam)
        median_ms, max_ms = bench(world, beam, rng)
        print(
            f"{beam:8s} {b.resolution_x_px}x{b.resolution_y_px} hfw {b.hfw_m * 1e6:.0f} um: "
            f"median {median_ms:.1f} ms, max {max_ms:.1f} ms over {N_FRAMES} frames"
        )


if __name__ == "__main__":
    main()
