"""The parallax ray march samples only rays still in the air at each height: it must find
exactly the first hit that sampling every ray at every height finds."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fibsem_ophyd.sim.patch_render import _ROW_PX, _first_hit


def _every_ray_every_level(height, bx, by, kk, levels):
    hit = np.full(bx.shape, levels[-1], np.float32)
    found = np.zeros(bx.shape, bool)
    for level in levels:
        px = bx - np.float32(kk[0] * level)
        py = by - np.float32(kk[1] * level)
        surface = cv2.remap(height, px, py, cv2.INTER_LINEAR, borderValue=0.0)
        new = (surface >= level - 1e-12) & ~found
        hit[new] = level
        found |= new
    return hit


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_first_hit_equals_sampling_every_ray_at_every_height(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 96
    height = np.zeros((n, n), np.float32)
    height[30:60, 20:70] = -2e-6  # a milled trench
    height[40:45, 30:50] = 0.4e-6  # a raised strip (occludes)
    height += rng.normal(0, 5e-8, height.shape).astype(np.float32)
    # more rays than one row of the compacted map, so padding and row splits are used
    rows, cols = 70, _ROW_PX // 50 + 13
    bx, by = np.meshgrid(
        np.linspace(-5, n + 5, cols, dtype=np.float32),
        np.linspace(-5, n + 5, rows, dtype=np.float32),
    )
    kk = np.array([rng.uniform(-3e6, 3e6), rng.uniform(4e6, 9e6)])
    levels = np.linspace(float(height.max()), float(height.min()), 40)
    got = _first_hit(height, bx, by, kk, levels)
    want = _every_ray_every_level(height, bx, by, kk, levels)
    assert got.shape == bx.shape
    np.testing.assert_array_equal(got, want)
    assert len(np.unique(got)) > 3  # rays land at several heights: the march did work
