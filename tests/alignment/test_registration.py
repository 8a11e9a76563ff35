"""Accuracy, score, options and caching of the image registration."""

from __future__ import annotations

import numpy as np
import pytest

from fibsem_ophyd.alignment import Registrar, Registration, rectangular_mask, register
from fibsem_ophyd.alignment.synthetic import add_needle, make_pair, render

from .cases import SHAPE, SHIFTS, pair


def _errors(results: list[tuple[float, float, float, float, float]]) -> np.ndarray:
    return np.array([np.hypot(fy - ty, fx - tx) for ty, tx, fy, fx, _ in results])


def test_known_shifts_median_error(known_shift_results):
    err = _errors(known_shift_results)
    assert np.median(err) <= 0.01, err
    assert err.max() <= 0.05, err


@pytest.mark.parametrize("index", range(len(SHIFTS)))
def test_each_known_shift(known_shift_results, index):
    ty, tx, fy, fx, score = known_shift_results[index]
    assert abs(fy - ty) <= 0.05 and abs(fx - tx) <= 0.05, (ty, tx, fy, fx)
    assert score >= 0.9


def test_sign_convention_integer_roll():
    """Content moved 5 rows down and 7 columns left -> shift_y=+5, shift_x=-7."""
    ref = render((256, 384), seed=4).astype(np.float32)
    mov = np.roll(ref, (5, -7), axis=(0, 1))
    res = register(ref, mov)
    assert res.shift_y_px == pytest.approx(5, abs=0.02)
    assert res.shift_x_px == pytest.approx(-7, abs=0.02)
    assert res.shift_yx == (res.shift_y_px, res.shift_x_px)


@pytest.mark.parametrize("seeds", [(0, 10), (1, 11), (2, 12), (3, 7)])
def test_unrelated_images_score_low(seeds):
    ref, _ = make_pair(SHAPE, seed=seeds[0])
    _, other = make_pair(SHAPE, 5.0, -3.0, seed=seeds[1])
    res = Registrar(ref).register(other)
    assert res.score <= 0.1
    assert res.peak_ratio < 1.5


def test_same_scene_peak_is_unambiguous():
    ref, mov, _ = pair(9)
    assert Registrar(ref).register(mov).peak_ratio > 3


def test_cached_reference_equals_one_shot():
    ref, mov, _ = pair(10)
    registrar = Registrar(ref, lowpass_px=3.0, whitening=0.7)
    cached = [registrar.register(mov) for _ in range(3)]
    one_shot = register(ref, mov, lowpass_px=3.0, whitening=0.7)
    assert all(c == one_shot for c in cached)
    assert isinstance(one_shot, Registration)


def test_mask_excludes_moving_needle():
    dy, dx = 23.4, -37.8
    ref, mov = make_pair(SHAPE, dy, dx, seed=2)
    ref = add_needle(ref, (600, 800), width_px=200, level=3.0)
    mov = add_needle(mov, (640, 700), width_px=200, level=3.0)  # needle moved on its own
    mask = rectangular_mask(SHAPE, (420, 860), (640, SHAPE[1]), keep=False)
    masked = Registrar(ref, mask=mask).register(mov)
    plain = Registrar(ref).register(mov)
    err_masked = np.hypot(masked.shift_y_px - dy, masked.shift_x_px - dx)
    err_plain = np.hypot(plain.shift_y_px - dy, plain.shift_x_px - dx)
    assert err_masked <= 0.02
    assert masked.score >= 0.9
    assert err_plain > 2 * err_masked  # the needle does pull when it is not masked
    assert plain.score < 0.5


def test_highpass_removes_brightness_gradient():
    """A strong charging-like ramp in the new image does not bias the default filter."""
    dy, dx = -12.6, 31.3
    ref, mov = make_pair(SHAPE, dy, dx, seed=1)
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
    mov = mov + (0.5 * xx / SHAPE[1] + 0.3 * np.sin(yy / 150.0)).astype(np.float32)
    res = Registrar(ref).register(mov)
    assert np.hypot(res.shift_y_px - dy, res.shift_x_px - dx) <= 0.02
    assert res.score >= 0.9


@pytest.mark.parametrize(
    "options",
    [
        {"lowpass_px": None, "highpass_px": None},
        {"whitening": 0.0},
        {"whitening": 1.0},
        {"window": "hann"},
        {"window": "none"},
        {"lowpass_px": 8.0, "highpass_px": 32.0},
        {"max_shift_px": 60.0},
    ],
)
def test_options_recover_shift(options):
    dy, dx = 17.3, -42.7
    ref, mov = make_pair(SHAPE, dy, dx, seed=0)
    res = Registrar(ref, **options).register(mov)
    assert np.hypot(res.shift_y_px - dy, res.shift_x_px - dx) <= 0.05


def test_max_shift_limits_search():
    ref, mov = make_pair(SHAPE, 80.0, 0.0, seed=0)
    res = Registrar(ref, max_shift_px=40.0).register(mov)
    assert abs(res.shift_y_px) <= 40.5 and abs(res.shift_x_px) <= 40.5
    assert res.score < 0.5


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float64, np.int32])
def test_integer_and_float_dtypes(dtype):
    dy, dx = 6.4, -9.1
    ref, mov = make_pair(SHAPE, dy, dx, seed=1)
    scale = 200 if dtype == np.uint8 else 20000
    ref_t = np.clip(ref * scale, 0, scale * 1.2).astype(dtype)
    mov_t = np.clip(mov * scale, 0, scale * 1.2).astype(dtype)
    res = register(ref_t, mov_t)
    assert np.hypot(res.shift_y_px - dy, res.shift_x_px - dx) <= 0.05


@pytest.mark.parametrize("shape", [(999, 1501), (512, 512), (300, 700)])
def test_odd_and_small_shapes(shape):
    dy, dx = -8.25, 5.5
    ref, mov = make_pair(shape, dy, dx, seed=0)
    res = register(ref, mov)
    assert np.hypot(res.shift_y_px - dy, res.shift_x_px - dx) <= 0.05
    assert res.score >= 0.9
