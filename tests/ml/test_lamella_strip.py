"""A lamella's ends from its mask between its edges: drawn lamellae whose mask runs on
into the band under them, the band longer than the lamella (as the model's masks of
polished lamellae do), with the lamella's true ends to find."""

from __future__ import annotations

import numpy as np
import pytest

from ml.classes import LAMELLA
from ml.detection.lamella_edges import LamellaBox
from ml.detection.lamella_strip import MAX_TRIM, ends_in_strip
from ml.detection.mask_features import features_from_mask

H, W = 400, 700
PS = 20e-9
ANGLE_DEG = 3.0
CENTRE = (350.0, 200.0)
HALF_LENGTH = 200.0  # the lamella's, in px along its axis


def _rotated(u_range: tuple[float, float], v_range: tuple[float, float]) -> np.ndarray:
    """Pixels of a strip rotated by ANGLE_DEG about CENTRE: `u_range` along its axis,
    `v_range` across it (down)."""
    yy, xx = np.mgrid[:H, :W].astype(float)
    a = np.deg2rad(ANGLE_DEG)
    u = (xx - CENTRE[0]) * np.cos(a) + (yy - CENTRE[1]) * np.sin(a)
    v = -(xx - CENTRE[0]) * np.sin(a) + (yy - CENTRE[1]) * np.cos(a)
    return (u >= u_range[0]) & (u <= u_range[1]) & (v >= v_range[0]) & (v < v_range[1])


def _scene(band_half: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A lamella 40 px high (-20..20 across) and 400 px long, a band of brighter grey
    under it (20..44) ``band_half`` px either side of the centre; the mask labels both
    lamella (the model's). Returns the uint8 image and the mask."""
    rng = np.random.default_rng(seed)
    grey = np.full((H, W), 0.12)
    grey[_rotated((-HALF_LENGTH, HALF_LENGTH), (-20, 20))] = 0.5
    grey[_rotated((-band_half, band_half), (20, 44))] = 0.85
    grey += rng.normal(0, 0.03, grey.shape)
    image = (np.clip(grey, 0, 1) * 255).astype(np.uint8)
    mask = np.zeros((H, W), np.uint8)
    mask[_rotated((-HALF_LENGTH, HALF_LENGTH), (-20, 20))] = LAMELLA
    mask[_rotated((-band_half, band_half), (20, 44))] = LAMELLA
    return image, mask


def _end(side: int) -> tuple[float, float]:
    """The true midpoint of the lamella's left (-1) or right (+1) end."""
    a = np.deg2rad(ANGLE_DEG)
    return CENTRE[0] + side * HALF_LENGTH * np.cos(a), CENTRE[1] + side * HALF_LENGTH * np.sin(a)


def _xy(result) -> tuple[float, float]:
    kp = result.keypoint
    return kp.x_px, kp.y_px


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_ends_are_the_lamella_s_not_those_of_the_band_under_it(seed):
    image, mask = _scene(band_half=250.0, seed=seed)
    # the mask alone: its box runs to the band's ends, 50 px past the lamella's
    alone = features_from_mask(mask, PS)
    assert abs(_xy(alone.require("LamellaLeftEdge"))[0] - _end(-1)[0]) > 40
    f = features_from_mask(mask, PS, image=image)
    for name, side in (("LamellaLeftEdge", -1), ("LamellaRightEdge", 1)):
        x, y = _xy(f.require(name))
        assert np.hypot(x - _end(side)[0], y - _end(side)[1]) < 3, name
    cx, _ = _xy(f.require("LamellaCentre"))
    assert cx == pytest.approx(CENTRE[0], abs=3)
    # the bottom edge is the lamella's (the step to the band), not the band's foot
    _, by = _xy(f.require("LamellaBottomEdge"))
    assert by == pytest.approx(CENTRE[1] + 20, abs=3)


def test_a_band_no_longer_than_the_lamella_changes_nothing():
    image, mask = _scene(band_half=HALF_LENGTH)
    f = features_from_mask(mask, PS, image=image)
    for name, side in (("LamellaLeftEdge", -1), ("LamellaRightEdge", 1)):
        x, y = _xy(f.require(name))
        assert np.hypot(x - _end(side)[0], y - _end(side)[1]) < 3, name


def _flat_box(half_length: float, half_height: float) -> LamellaBox:
    return LamellaBox(np.array([350.0, 200.0]), np.array([1.0, 0.0]), np.array([0.0, 1.0]),
                      half_length, half_height)  # fmt: skip


def _flat_mask(strip_cols: tuple[int, int], band_cols: tuple[int, int]) -> np.ndarray:
    """Rows 180..219 the strip (centre row 200, half height 20), rows 220..243 the band."""
    px = np.zeros((H, W), bool)
    px[180:220, strip_cols[0] : strip_cols[1] + 1] = True
    px[220:244, band_cols[0] : band_cols[1] + 1] = True
    return px


def test_an_end_past_the_border_is_kept_and_a_partly_filled_end_is_not_cut():
    px = _flat_mask((150, 550), (100, 600))
    box = _flat_box(250.0, 20.0)  # the band's length: 100..600 about col 350
    trimmed = ends_in_strip(px, 0, 0, box, (False, False))
    assert trimmed.centre[0] - trimmed.half_length_px == pytest.approx(150, abs=1)
    assert trimmed.centre[0] + trimmed.half_length_px == pytest.approx(550, abs=1)
    kept_left = ends_in_strip(px, 0, 0, box, (True, False))
    assert kept_left.centre[0] - kept_left.half_length_px == pytest.approx(100, abs=1)
    assert kept_left.centre[0] + kept_left.half_length_px == pytest.approx(550, abs=1)
    # the strip thinned, not empty, towards its left end: no cut there
    px[184:196, 100:150] = True
    partly = ends_in_strip(px, 0, 0, box, (False, False))
    assert partly.centre[0] - partly.half_length_px == pytest.approx(100, abs=1)


def test_an_end_losing_more_than_max_trim_of_the_length_is_not_cut():
    """A band overhangs by a small part of the lamella; a strip's mask empty over much
    more of it at one end is a patchy mask (holes), not the lamella's end: that end
    stays, the other is still cut."""
    px = _flat_mask((150, 400), (100, 600))  # left: 50 px (10 %), right: 200 px (40 %)
    box = _flat_box(250.0, 20.0)
    assert 50 / 500 < MAX_TRIM < 200 / 500
    cut = ends_in_strip(px, 0, 0, box, (False, False))
    assert cut.centre[0] - cut.half_length_px == pytest.approx(150, abs=1)
    assert cut.centre[0] + cut.half_length_px == pytest.approx(600, abs=1)
