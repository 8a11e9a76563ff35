"""compare_milled on synthetic ion images: a mill where the patterns are is recognised
(coverage, precision, no offset); a mill beside them, or none at all, is not; a stage
drift between the two images does not count as change."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter, shift

from fibsem_ophyd.alignment.milled_region import compare_milled

PIXEL_M = 50e-9
SHAPE = (256, 384)


def _scene(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    texture = gaussian_filter(rng.normal(0, 1, SHAPE), 6)
    return 120 + 400 * texture


def _noisy(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(img + rng.normal(0, 4, img.shape), 0, 255)


def _mask(row0: int, rows: int, col0: int, cols: int) -> np.ndarray:
    m = np.zeros(SHAPE, bool)
    m[row0 : row0 + rows, col0 : col0 + cols] = True
    return m


def _mill(img: np.ndarray, where: np.ndarray) -> np.ndarray:
    out = img.copy()
    out[where] = 30.0  # a dark trench floor
    return out


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1)


def test_a_mill_on_the_patterns_matches(rng):
    scene, mask = _scene(), _mask(100, 30, 120, 140)
    r = compare_milled(_noisy(scene, rng), _noisy(_mill(scene, mask), rng), mask, PIXEL_M)
    assert r.coverage > 0.9
    assert r.precision > 0.9
    assert np.hypot(r.offset_x_m, r.offset_y_m) <= 2 * PIXEL_M


def test_drift_between_the_images_is_not_change(rng):
    scene, mask = _scene(), _mask(100, 30, 120, 140)
    after = shift(_mill(scene, mask), (2.6, -1.4), order=1, mode="nearest")
    r = compare_milled(_noisy(scene, rng), _noisy(after, rng), mask, PIXEL_M)
    assert (r.shift_y_px, r.shift_x_px) == pytest.approx((2.6, -1.4), abs=0.1)
    assert r.coverage > 0.9 and r.precision > 0.8


def test_a_mill_beside_the_patterns_is_caught(rng):
    scene, mask = _scene(), _mask(100, 30, 120, 140)
    beside = np.roll(mask, 14, axis=0)  # 0.7 µm lower than drawn
    r = compare_milled(_noisy(scene, rng), _noisy(_mill(scene, beside), rng), mask, PIXEL_M)
    assert r.offset_y_m == pytest.approx(-14 * PIXEL_M, abs=2 * PIXEL_M)
    far = np.roll(mask, 60, axis=0)  # 3 µm away: nothing near the patterns changed
    r = compare_milled(_noisy(scene, rng), _noisy(_mill(scene, far), rng), mask, PIXEL_M)
    assert r.coverage < 0.05


def test_nothing_milled_covers_nothing(rng):
    scene, mask = _scene(), _mask(100, 30, 120, 140)
    r = compare_milled(_noisy(scene, rng), _noisy(scene, rng), mask, PIXEL_M)
    assert r.coverage < 0.02


def test_bad_input_is_refused():
    scene = _scene()
    with pytest.raises(ValueError, match="same 2-D shape"):
        compare_milled(scene, scene[:-1], _mask(0, 5, 0, 5), PIXEL_M)
    with pytest.raises(ValueError, match="pattern mask is empty"):
        compare_milled(scene, scene, np.zeros(SHAPE, bool), PIXEL_M)
