"""The lamella's bottom edge from the image: a drawn lamella whose mask runs into the
band under it (as the model's does), with the image's true edge to find."""

from __future__ import annotations

import numpy as np
import pytest

from ml.classes import LAMELLA
from ml.detection.lamella_edges import STEP_MIN, first_step, unit_grey
from ml.detection.mask_features import FoundFeature, features_from_mask

H, W = 400, 600
PS = 20e-9
ANGLE_DEG = 3.0


def _rotated(half_length: float, top: float, bottom: float, centre=(300.0, 200.0)):
    """Pixels of a strip rotated by ANGLE_DEG, `top`..`bottom` across its axis."""
    yy, xx = np.mgrid[:H, :W].astype(float)
    a = np.deg2rad(ANGLE_DEG)
    u = (xx - centre[0]) * np.cos(a) + (yy - centre[1]) * np.sin(a)
    v = -(xx - centre[0]) * np.sin(a) + (yy - centre[1]) * np.cos(a)
    return (np.abs(u) <= half_length) & (v >= top) & (v < bottom)


def _scene(lamella: float, band: float, shading: float = 0.0, seed: int = 0):
    """A lamella 40 px high (rows -20..20 about its centre) with a bright coating on top,
    a 24-px band of `band` grey under it, trenches above and below; noise. Returns the
    image (uint8) and a mask whose lamella runs over the band too."""
    rng = np.random.default_rng(seed)
    grey = np.full((H, W), 0.15)
    grey[_rotated(230, -60, 120)] = 0.12  # the trenches
    face = _rotated(200, -20, 20)
    yy = np.mgrid[:H, :W][0].astype(float)
    grey[face] = lamella + shading * (yy[face] - 180) / 40  # shading down the face
    grey[_rotated(200, -20, -14)] = min(1.0, lamella + 0.15)  # the coating
    grey[_rotated(210, 20, 44)] = band
    grey += rng.normal(0, 0.03, grey.shape)
    image = (np.clip(grey, 0, 1) * 255).astype(np.uint8)
    mask = np.zeros((H, W), np.uint8)
    mask[_rotated(200, -20, 44)] = LAMELLA  # the model's: lamella and band
    return image, mask


def _true_bottom():
    a = np.deg2rad(ANGLE_DEG)
    return 300.0 - 20 * np.sin(a), 200.0 + 20 * np.cos(a)


@pytest.mark.parametrize(("lamella", "band"), [(0.7, 0.55), (0.55, 0.7), (0.6, 0.9)])
def test_the_bottom_edge_is_the_image_step_not_the_mask_edge(lamella, band):
    image, mask = _scene(lamella, band)
    tx, ty = _true_bottom()
    from_mask = features_from_mask(mask, PS).require("LamellaBottomEdge").keypoint
    assert np.hypot(from_mask.x_px - tx, from_mask.y_px - ty) > 20  # the model's error
    f = features_from_mask(mask, PS, image=image)
    kp = f.require("LamellaBottomEdge").keypoint
    assert np.hypot(kp.x_px - tx, kp.y_px - ty) < 1.5
    # the top edge stays; the centre is half-way between the two
    top = f.require("LamellaTopEdge").keypoint
    centre = f.require("LamellaCentre").keypoint
    assert np.hypot(top.x_px - (300 + 20 * np.sin(np.deg2rad(ANGLE_DEG))),
                    top.y_px - (200 - 20 * np.cos(np.deg2rad(ANGLE_DEG)))) < 1.5  # fmt: skip
    assert np.hypot(centre.x_px - 300.0, centre.y_px - 200.0) < 1.5


def test_shading_across_the_face_is_not_an_edge():
    """A face that darkens by 0.08 from top to bottom — more than the step threshold, but
    spread over 40 rows — still ends at its true edge."""
    image, mask = _scene(0.7, 0.5, shading=-0.08)
    tx, ty = _true_bottom()
    kp = features_from_mask(mask, PS, image=image).require("LamellaBottomEdge").keypoint
    assert np.hypot(kp.x_px - tx, kp.y_px - ty) < 1.5


def test_without_a_step_the_mask_edge_stands():
    image, mask = _scene(0.7, 0.7)
    below = np.zeros_like(mask, bool)
    below[150:] = True
    image[below & (image < 120)] = 178  # the band and all under it the lamella's grey
    plain = features_from_mask(mask, PS).require("LamellaBottomEdge").keypoint
    kp = features_from_mask(mask, PS, image=image).require("LamellaBottomEdge").keypoint
    assert (kp.x_px, kp.y_px) == pytest.approx((plain.x_px, plain.y_px))


def test_a_step_far_below_the_mask_edge_is_not_taken():
    """A lamella landed on its post: the mask ends at the lamella's true bottom edge, the
    post under it has the face's grey, and the post's own lower edge 16 px further down
    is the first step. That step is not the lamella's edge: the mask's edge stands."""
    image, _ = _scene(0.7, 0.7)
    post = _rotated(210, 20, 36)
    grey = image.astype(float)
    grey[_rotated(230, 36, 120)] = 0.15 * 255  # what lies under the post
    grey[post] = 0.7 * 255
    image = grey.astype(np.uint8)
    mask = np.zeros((H, W), np.uint8)
    mask[_rotated(200, -20, 20)] = LAMELLA  # the model's mask is right this time
    tx, ty = _true_bottom()
    kp = features_from_mask(mask, PS, image=image).require("LamellaBottomEdge").keypoint
    assert np.hypot(kp.x_px - tx, kp.y_px - ty) < 1.5


def test_a_lamella_at_the_bottom_border_keeps_its_mask_edge():
    image, mask = _scene(0.7, 0.5)
    shifted = np.zeros_like(mask)
    shifted[150:] = mask[:-150]  # the band now runs past the bottom border
    picture = np.zeros_like(image)
    picture[150:] = image[:-150]
    f = features_from_mask(shifted, PS, image=picture)
    assert isinstance(f["LamellaCentre"], FoundFeature)  # no error: the profile leaves
    # the image, and the mask's edge is kept


def test_first_step_finds_steps_of_at_least_the_threshold_where_they_are():
    profile = np.full(60, 0.5)
    profile[30:] += STEP_MIN * 0.8
    assert first_step(profile, 0) is None
    profile[30:] = 0.5 + 2 * STEP_MIN
    assert first_step(profile, 0) == pytest.approx(29.5)
    profile[10:30] = 0.5 + 4 * STEP_MIN  # an earlier step: the first one is taken
    assert first_step(profile, 0) == pytest.approx(9.5)
    assert first_step(profile, 12) == pytest.approx(29.5)  # unless searched from past it


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (np.array([[0, 255]], np.uint8), [0.0, 1.0]),
        (np.array([[0, 65535]], np.uint16), [0.0, 1.0]),
        (np.array([[2.0, 4.0]]), [0.0, 1.0]),
    ],
)
def test_grey_is_taken_as_a_fraction_of_full_scale(image, expected):
    assert unit_grey(image).ravel().tolist() == pytest.approx(expected)
