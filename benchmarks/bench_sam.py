"""Benchmark: SAM-assisted labelling speed on this CPU (medians).

- prompt -> mask with a cached embedding (points + box, 3 candidates, full-size masks),
  target <= 100 ms;
- embedding a 1024x1536 image with the MobileSAM-size encoder (TinyViT-5M body),
  target <= 3 s.

Timing does not depend on the weights, so the model is built with random weights.
Run: .venv/bin/python benchmarks/bench_sam.py [--repeats N] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from napari_plugins.labelling.sam.config import SamConfig
from napari_plugins.labelling.sam.engine import SamEngine
from napari_plugins.labelling.sam.prompts import BoxPrompt, PointPrompt, SamPrompts

HEIGHT_PX, WIDTH_PX = 1024, 1536
PROMPT_TARGET_S, EMBED_TARGET_S = 0.100, 3.0


def _medians_s(run, repeats: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (the CPU time does not grow
    when other jobs share the cores; the wall time does)."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="SamConfig.threads")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 65535, (HEIGHT_PX, WIDTH_PX), dtype=np.uint16)
    prompts = SamPrompts(
        points=(PointPrompt(x_px=700, y_px=500), PointPrompt(x_px=900, y_px=520, positive=False)),
        box=BoxPrompt(x0_px=500, y0_px=300, x1_px=1000, y1_px=700),
    )
    with tempfile.TemporaryDirectory() as cache:
        engine = SamEngine(
            SamConfig(
                backend="mobile_sam",
                random_weights=True,
                cache_dir=Path(cache),
                threads=args.threads,
            )
        )
        engine.embed(image[:512, :768])  # warm-up (first-call allocations)
        images = iter([image + np.uint16(i) for i in range(args.repeats)])  # no cache hits
        embed_s, embed_cpu_s = _medians_s(lambda: engine.embed(next(images)), args.repeats)
        embedding = engine.cached(image)
        assert embedding is not None
        engine.predict(embedding, prompts).mask(0)  # warm-up
        prompt_s, prompt_cpu_s = _medians_s(
            lambda: engine.predict(embedding, prompts).mask(0), args.repeats * 4
        )
    print(
        f"threads: {args.threads}; bfloat16: {engine._bfloat16}; image {HEIGHT_PX}x{WIDTH_PX} "
        f"uint16; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for label, wall, cpu, target in (
        ("embedding, MobileSAM-size (incl. cache write)", embed_s, embed_cpu_s, EMBED_TARGET_S),
        ("prompt -> mask, cached embedding", prompt_s, prompt_cpu_s, PROMPT_TARGET_S),
    ):
        verdict = "ok" if wall <= target else "SLOW"
        print(
            f"{label}: median {wall * 1e3:.0f} ms wall, {cpu * 1e3:.0f} ms CPU "
            f"(target <= {target * 1e3:.0f} ms) {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
