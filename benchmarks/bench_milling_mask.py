"""Median time to rasterise milling patterns over a 1536x1024 ion frame (the twin's
milling and pattern overlays do this for every stage)."""

from __future__ import annotations

import statistics
import time

from fibsem_ophyd.milling import CirclePattern, RectanglePattern, TrenchPattern

SHAPE = (1024, 1536)
PIXEL_M = 80e-6 / 1536


def median_ms(fn, repeats: int = 20) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> None:
    patterns = {
        "rectangle 12x8 µm rotated 20°": RectanglePattern(
            width_m=12e-6, height_m=8e-6, rotation_deg=20
        ),
        "trench pair": TrenchPattern(),
        "circle r=3 µm": CirclePattern(radius_m=3e-6),
    }
    for name, pattern in patterns.items():
        print(
            f"{name:32s} mask median {median_ms(lambda p=pattern: p.mask(SHAPE, PIXEL_M)):6.2f} ms"
        )


if __name__ == "__main__":
    main()
