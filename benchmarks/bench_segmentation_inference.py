"""Benchmark: the shipped segmentation model's inference time on a 1536x1024 frame.

Loads the shipped model once (``ml.segmentation.shipped.load_shipped_model``, the
default path: ``load_model`` with the backend read from the file) and times
``predict`` on twin-like 1536x1024 uint8 frames; prints the median and quartiles.
Target (issue 10): median <= 0.6 s on a 2-core CPU.

Run: .venv/bin/python benchmarks/bench_segmentation_inference.py [--repeats 15] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

TARGET_S = 0.6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (smp backend)")
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="a candidate model's folder (as shipped/)"
    )
    args = parser.parse_args()
    import torch

    from ml.segmentation.shipped import SHIPPED_DIR, averaging_setup, load_shipped_model

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = load_shipped_model(folder=args.model_dir or SHIPPED_DIR)
    load_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (1024, 1536), dtype=np.uint8) for _ in range(3)]
    model.predict(frames[0])  # warm-up (first-run allocations)
    times = []
    for i in range(args.repeats):
        t = time.perf_counter()
        prediction = model.predict(frames[i % len(frames)])
        times.append(time.perf_counter() - t)
    assert prediction.mask.shape == (1024, 1536)
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    setup = averaging_setup(model)
    print(f"shipped model ({model.backend}, views averaged: {', '.join(setup['flips'])}, "
          f"input widths (px): {setup['input_widths_px']}), load {load_s:.2f} s")  # fmt: skip
    print(f"predict 1536x1024: median {median:.3f} s (q1 {q1:.3f}, q3 {q3:.3f}, "
          f"min {min(times):.3f}, n={len(times)}); target <= {TARGET_S} s")  # fmt: skip
    print(f"mean {statistics.fmean(times):.3f} s")
    return 0 if median <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
