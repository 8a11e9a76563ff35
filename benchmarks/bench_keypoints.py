"""Benchmark: every keypoint feature (ml.layout.FEATURES) from one 1536 x 1024 class mask.

The mask holds what a lift-out FIB image can: three lamellae (one with a noisy outline),
a tapered needle entering from the border, two landing posts, a copper adaptor, a volume
block, and a sprinkle of one-pixel noise in every class. With and without the model's
probabilities (scores), and with the frame too (the lamella's bottom edge taken from the
image, ml/detection/lamella_edges.py: a grey image drawn from the mask, with noise),
and last with what a workflow knows as well (the lamella's length, 5 % under its
mask's, so the mask is fitted to its ends, ml/detection/lamella_ends.py; the posts'
view and size); wall-clock and process-CPU medians, OpenCV on one thread.
Target (issue 11): median <= 30 ms.

    .venv/bin/python benchmarks/bench_keypoints.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import time

import cv2
import numpy as np

from ml.classes import (
    COPPER_ADAPTOR,
    LAMELLA,
    LANDING_POST,
    MANIPULATOR,
    VOLUME_BLOCK,
)
from ml.detection.mask_features import features_from_mask
from ml.layout import FEATURES

SHAPE = (1024, 1536)
PIXEL_SIZE_M = 150e-6 / 1536


def make_mask(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = np.zeros(SHAPE, np.uint8)
    for top, left in ((420, 600), (150, 200), (700, 1100)):
        mask[top : top + 180, left : left + 420] = LAMELLA
    edge = rng.random((180, 420)) < 0.05  # a rough outline on the middle lamella
    mask[420:600, 600:1020][edge] = 0
    cv2.fillConvexPoly(
        mask, np.array([[760, 380], [1536, 0], [1536, 140], [760, 392]], np.int32), MANIPULATOR
    )
    cv2.circle(mask, (760, 386), 6, MANIPULATOR, -1)
    mask[600:1024, 100:300] = LANDING_POST
    mask[650:1024, 1300:1500] = LANDING_POST
    mask[0:120, 0:400] = COPPER_ADAPTOR
    mask[860:1000, 500:900] = VOLUME_BLOCK
    noise = rng.random(SHAPE) < 1e-3
    mask[noise] = rng.integers(1, 6, int(noise.sum()))
    return mask


def one_hot_probabilities(mask: np.ndarray) -> np.ndarray:
    probs = np.full((6, *mask.shape), 0.02, np.float32)
    np.put_along_axis(probs, mask[None].astype(np.int64), 0.9, axis=0)
    return probs


def grey_frame(mask: np.ndarray, seed: int = 1) -> np.ndarray:
    """A uint8 frame of the mask: a grey per class, noise."""
    rng = np.random.default_rng(seed)
    levels = np.array([0.3, 0.7, 0.8, 0.6, 0.75, 0.5])
    grey = levels[mask] + rng.normal(0.0, 0.03, mask.shape)
    return (np.clip(grey, 0.0, 1.0) * 255).astype(np.uint8)


def _median_ms(run, repeats: int) -> tuple[float, float]:
    """Median wall-clock and process-CPU milliseconds (CPU time is what a loaded,
    shared machine does not inflate)."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return 1e3 * float(np.median(wall)), 1e3 * float(np.median(cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    mask = make_mask()
    probs = one_hot_probabilities(mask)
    result = features_from_mask(mask, PIXEL_SIZE_M, probabilities=probs)
    missing = [n for n in FEATURES if n not in result.found()]
    if missing:
        raise SystemExit(f"benchmark mask lost features: {missing}")
    features_from_mask(mask, PIXEL_SIZE_M)  # warm up
    plain = _median_ms(lambda: features_from_mask(mask, PIXEL_SIZE_M), args.repeats)
    scored = _median_ms(
        lambda: features_from_mask(mask, PIXEL_SIZE_M, probabilities=probs), args.repeats
    )
    frame = grey_frame(mask)
    imaged = _median_ms(
        lambda: features_from_mask(mask, PIXEL_SIZE_M, probabilities=probs, image=frame),
        args.repeats,
    )
    hinted = _median_ms(
        lambda: features_from_mask(
            mask,
            PIXEL_SIZE_M,
            probabilities=probs,
            image=frame,
            lamella_length_m=400 * PIXEL_SIZE_M,  # the masks are 420 px long
            post_view="side",
            post_size_m=(200 * PIXEL_SIZE_M, 600 * PIXEL_SIZE_M),
        ),
        args.repeats,
    )
    print(f"{len(FEATURES)} features from one {SHAPE[1]}x{SHAPE[0]} mask, {os.cpu_count()} CPUs")
    print(f"  mask only:          median {plain[0]:6.1f} ms wall, {plain[1]:6.1f} ms CPU")
    print(
        f"  with probabilities: median {scored[0]:6.1f} ms wall, {scored[1]:6.1f} ms CPU"
        "   (target <= 30 ms)"
    )
    print(f"  and the frame:      median {imaged[0]:6.1f} ms wall, {imaged[1]:6.1f} ms CPU")
    print(f"  and the hints:      median {hinted[0]:6.1f} ms wall, {hinted[1]:6.1f} ms CPU")


if __name__ == "__main__":
    main()
