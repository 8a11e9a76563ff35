"""Benchmark: fibsem_ophyd.alignment.Registrar versus scikit-image and OpenCV.

Synthetic 1536 x 1024 FIB/SEM-like pairs (noise, brightness/contrast change, known
sub-pixel shifts up to ±100 px) from ``fibsem_ophyd.alignment.synthetic``. Calls are
interleaved pair by pair so that load from other processes hits every method alike;
wall-clock and process-CPU medians are printed (CPU time counts all threads).

    .venv/bin/python -m benchmarks.bench_registration [--pairs 20] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import cv2
import numpy as np
from skimage.registration import phase_cross_correlation

from fibsem_ophyd.alignment import Registrar, register
from fibsem_ophyd.alignment.synthetic import make_pair

SHAPE = (1024, 1536)
Method = Callable[[np.ndarray, np.ndarray, Registrar], tuple[float, float]]


def _ours(ref: np.ndarray, mov: np.ndarray, reg: Registrar) -> tuple[float, float]:
    res = reg.register(mov)  # reference spectrum precomputed once per pair
    return res.shift_y_px, res.shift_x_px


def _ours_one_shot(ref: np.ndarray, mov: np.ndarray, reg: Registrar) -> tuple[float, float]:
    res = register(ref, mov)  # includes building the reference transform
    return res.shift_y_px, res.shift_x_px


def _skimage(upsample: int) -> Method:
    def run(ref: np.ndarray, mov: np.ndarray, reg: Registrar) -> tuple[float, float]:
        shift, _, _ = phase_cross_correlation(ref, mov, upsample_factor=upsample)
        return -float(shift[0]), -float(shift[1])  # skimage: shift that registers mov

    return run


def _cv2(ref: np.ndarray, mov: np.ndarray, reg: Registrar) -> tuple[float, float]:
    (dx, dy), _ = cv2.phaseCorrelate(ref, mov)  # content displacement, like ours
    return dy, dx


METHODS: dict[str, Method] = {
    "fibsem_ophyd Registrar.register (cached ref)": _ours,
    "fibsem_ophyd register() one-shot": _ours_one_shot,
    "skimage phase_cross_correlation up=10": _skimage(10),
    "skimage phase_cross_correlation up=100": _skimage(100),
    "cv2.phaseCorrelate": _cv2,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(2024)
    shifts = rng.uniform(-100, 100, size=(args.pairs, 2))
    wall: dict[str, list[float]] = {m: [] for m in METHODS}
    cpu: dict[str, list[float]] = {m: [] for m in METHODS}
    err: dict[str, list[float]] = {m: [] for m in METHODS}
    same_scores, unrelated_scores = [], []
    load0 = os.getloadavg()[0]
    for i, (dy, dx) in enumerate(shifts):
        ref, mov = make_pair(SHAPE, dy, dx, seed=i % 4, noise_seed=500 + i)
        reg = Registrar(ref)
        res = reg.register(mov)
        same_scores.append(res.score)
        _, other = make_pair(SHAPE, dy, dx, seed=(i % 4) + 50, noise_seed=900 + i)
        unrelated_scores.append(reg.register(other).score)
        for _ in range(args.repeats):
            for name, method in METHODS.items():
                t0, c0 = time.perf_counter(), time.process_time()
                fy, fx = method(ref, mov, reg)
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
        for name, method in METHODS.items():
            fy, fx = method(ref, mov, reg)
            err[name].append(float(np.hypot(fy - dy, fx - dx)))

    print(f"{args.pairs} pairs {SHAPE[1]}x{SHAPE[0]}, {args.repeats} timed repeats each, ")
    print(f"load average at start {load0:.2f}, now {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    header = (
        f"{'method':46s} {'wall ms':>8s} {'cpu ms':>8s} {'med err px':>11s} {'max err px':>11s}"
    )
    print(header)
    print("-" * len(header))
    for name in METHODS:
        print(
            f"{name:46s} {1e3 * np.median(wall[name]):8.1f} {1e3 * np.median(cpu[name]):8.1f}"
            f" {np.median(err[name]):11.4f} {np.max(err[name]):11.4f}"
        )
    same, unrel = np.array(same_scores), np.array(unrelated_scores)
    print(
        f"score same scene: median {np.median(same):.3f}, min {same.min():.3f};"
        f" unrelated: median {np.median(unrel):.3f}, max {unrel.max():.3f}"
    )


if __name__ == "__main__":
    main()
