"""Sliding-window stitching: tile placement as nnU-Net places tiles, seamless results."""

from __future__ import annotations

import itertools

import numpy as np

from ml.segmentation.sliding_window import gaussian_weights, predict_tiled, tile_starts


def test_tiles_overlap_by_half_and_touch_both_borders() -> None:
    assert tile_starts(110, 64) == [0, 23, 46]  # the example nnU-Net documents
    assert tile_starts(64, 64) == [0] and tile_starts(30, 64) == [0]
    starts = tile_starts(1536, 512)
    assert starts[0] == 0 and starts[-1] == 1536 - 512
    assert all(0 < b - a <= 256 for a, b in itertools.pairwise(starts))


def test_gaussian_weights_peak_in_the_centre_and_never_zero() -> None:
    weights = gaussian_weights((64, 96))
    assert weights.max() == weights[32, 48] == np.float32(10.0)
    assert weights.min() > 0 and weights[0, 0] < weights[32, 0] < weights[32, 48]


def test_stitching_reproduces_a_pointwise_model_exactly() -> None:
    data = np.random.default_rng(0).normal(size=(150, 230)).astype(np.float32)
    calls: list[tuple[int, int]] = []

    def pointwise(tile: np.ndarray) -> np.ndarray:
        calls.append(tile.shape)
        return np.stack([tile, -2 * tile])

    out = predict_tiled(data, (64, 96), pointwise)
    assert set(calls) == {(64, 96)} and len(calls) == 4 * 4
    np.testing.assert_allclose(out[0], data, atol=1e-5)
    np.testing.assert_allclose(out[1], -2 * data, atol=1e-5)
    small = predict_tiled(data[:40, :50], (64, 96), pointwise)  # padded around, cropped back
    np.testing.assert_allclose(small[0], data[:40, :50], atol=1e-6)
