"""A lamella whose mask runs past its ends, or stops a little short of one, is fitted
to its given length where the frame shows both ends (ml/detection/lamella_ends.py);
where the frame shows no ends, or only one, or the mask's length is close to the
length or far from it, the mask's ends stand."""

from __future__ import annotations

import numpy as np
import pytest

from ml.classes import LAMELLA
from ml.detection.lamella_edges import LamellaBox
from ml.detection.lamella_ends import MAX_EXCESS_FRACTION, MAX_SHORT_FRACTION, fitted_to_length
from ml.detection.mask_features import features_from_mask

H, W = 400, 700
PS = 20e-9
CENTRE = (350.0, 200.0)
LENGTH_PX = 300.0


def _strip(u0: float, u1: float, v0: float, v1: float, angle_deg: float) -> np.ndarray:
    """Pixels of a strip rotated by ``angle_deg`` about CENTRE: u0..u1 along, v0..v1 across."""
    yy, xx = np.mgrid[:H, :W].astype(float)
    a = np.deg2rad(angle_deg)
    u = (xx - CENTRE[0]) * np.cos(a) + (yy - CENTRE[1]) * np.sin(a)
    v = -(xx - CENTRE[0]) * np.sin(a) + (yy - CENTRE[1]) * np.cos(a)
    return (u >= u0) & (u < u1) & (v >= v0) & (v < v1)


def _scene(face: float = 0.6, left: float = 0.45, right: float = 0.45,
           mask_span: tuple[float, float] = (-200.0, 180.0), angle_deg: float = 3.0,
           seed: int = 0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """A lamella 300 px long (-150..150 along its axis) and 30 px high between two dark
    trenches; beside its ends the strip goes on in grey ``left`` and ``right`` (the
    unpolished material). The mask, as the model's, covers ``mask_span`` of the strip."""
    rng = np.random.default_rng(seed)
    grey = np.full((H, W), 0.5)
    grey[_strip(-260, 260, -70, 70, angle_deg)] = 0.15  # the trenches
    grey[_strip(-260, -150, -15, 15, angle_deg)] = left
    grey[_strip(150, 260, -15, 15, angle_deg)] = right
    grey[_strip(-150, 150, -15, 15, angle_deg)] = face
    grey += rng.normal(0, 0.03, grey.shape)
    image = (np.clip(grey, 0, 1) * 255).astype(np.uint8)
    mask = np.zeros((H, W), np.uint8)
    mask[_strip(*mask_span, -15, 15, angle_deg)] = LAMELLA
    return image, mask


def _ends(f) -> tuple[float, float]:
    """The left and right edges' distance along the axis from CENTRE (px)."""
    a = np.deg2rad(3.0)
    out = []
    for name in ("LamellaLeftEdge", "LamellaRightEdge"):
        kp = f.require(name).keypoint
        out.append((kp.x_px - CENTRE[0]) * np.cos(a) + (kp.y_px - CENTRE[1]) * np.sin(a))
    return out[0], out[1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_mask_past_both_ends_is_fitted_to_the_lamella(seed):
    """The mask runs 50 px past the left end and 30 px past the right: given the length,
    both edges and the centre come to the lamella's, within 2 px."""
    image, mask = _scene(seed=seed)
    before = features_from_mask(mask, PS, image=image)
    left, right = _ends(before)
    assert left < -190 and right > 170  # the mask's ends
    f = features_from_mask(mask, PS, image=image, lamella_length_m=LENGTH_PX * PS)
    left, right = _ends(f)
    assert left == pytest.approx(-150, abs=2) and right == pytest.approx(150, abs=2)
    centre = f.require("LamellaCentre").keypoint
    assert np.hypot(centre.x_px - CENTRE[0], centre.y_px - CENTRE[1]) < 2


def test_a_mask_short_of_an_end_is_extended_to_it():
    """The mask stops 25 px short of the right end (8 % of the length): given the
    length, the right edge comes to the lamella's end and the left one stays."""
    image, mask = _scene(mask_span=(-150, 125))
    f = features_from_mask(mask, PS, image=image, lamella_length_m=LENGTH_PX * PS)
    left, right = _ends(f)
    assert left == pytest.approx(-150, abs=2) and right == pytest.approx(150, abs=2)


def test_a_mask_far_short_of_the_length_is_left_to_the_second_look():
    """A mask 40 % short is not extended here (lamella_zoom.py looks again at it)."""
    image, mask = _scene(mask_span=(-150, 30))
    assert (1 - MAX_SHORT_FRACTION) * LENGTH_PX > 180
    f = features_from_mask(mask, PS, image=image, lamella_length_m=LENGTH_PX * PS)
    assert _ends(f)[1] == pytest.approx(30, abs=2)


def test_a_face_darker_than_beside_it_is_fitted_too():
    image, mask = _scene(face=0.35, left=0.55, right=0.55, mask_span=(-150, 230))
    f = features_from_mask(mask, PS, image=image, lamella_length_m=LENGTH_PX * PS)
    left, right = _ends(f)
    assert left == pytest.approx(-150, abs=2) and right == pytest.approx(150, abs=2)


def test_without_ends_in_the_image_the_mask_stands():
    """The face has the grey of the strip beside it: no place is better than another,
    so the mask's ends are kept rather than a guess."""
    image, mask = _scene(face=0.5, left=0.5, right=0.5)
    f = features_from_mask(mask, PS, image=image, lamella_length_m=LENGTH_PX * PS)
    left, right = _ends(f)
    assert left == pytest.approx(-200, abs=2) and right == pytest.approx(180, abs=2)


def test_one_end_alone_moves_nothing():
    """A step at the left end only (the right end joins material of the face's grey):
    sliding the length to that step would put the right end nowhere in particular."""
    image, mask = _scene(face=0.6, left=0.3, right=0.6)
    f = features_from_mask(mask, PS, image=image, lamella_length_m=LENGTH_PX * PS)
    left, right = _ends(f)
    assert left == pytest.approx(-200, abs=2) and right == pytest.approx(180, abs=2)


def test_a_length_given_short_does_not_pull_true_ends_in():
    """The mask is right (both ends on the face's edges) but the length given is 5 %
    short, and the face has a band of other grey near its left end: the window of the
    given length fits that band's edge and the right end, yet the mask's own ends are
    edges at least as strong, so they stand (a wrong length moves nothing)."""
    image, mask = _scene(left=0.3, mask_span=(-150, 150))
    band = _strip(-150, -135, -15, 15, 3.0)
    grey = image.astype(float) / 255
    grey[band] = 0.5 + (grey[band] - 0.6)  # the band 0.1 darker, its noise kept
    image = (np.clip(grey, 0, 1) * 255).astype(np.uint8)
    f = features_from_mask(mask, PS, image=image, lamella_length_m=0.95 * LENGTH_PX * PS)
    left, right = _ends(f)
    assert left == pytest.approx(-150, abs=2) and right == pytest.approx(150, abs=2)


def test_only_a_mask_clearly_longer_than_the_length_is_trimmed():
    """5 px past an end is the mask's blur, and a mask far longer than the length (here
    twice) is something else's: both are left as they are."""
    image, mask = _scene(mask_span=(-155, 150))
    f = features_from_mask(mask, PS, image=image, lamella_length_m=LENGTH_PX * PS)
    assert _ends(f)[0] == pytest.approx(-155, abs=2)
    box = LamellaBox(np.array(CENTRE), np.array([1.0, 0.0]), np.array([0.0, 1.0]), 150.0, 15.0)
    short = (300.0 - 1) / (1 + MAX_EXCESS_FRACTION) - 1
    assert fitted_to_length(image, box, short) is box


@pytest.mark.parametrize("seed", range(10))
def test_noise_alone_moves_nothing(seed):
    """A frame of noise only (grey 0.5, spread 0.15 of full scale): its profile has
    chance steps over the fixed threshold at both ends of many places (in 19 of 50 such
    frames without the noise bar), but none that stands out of its own noise."""
    image = np.random.default_rng(seed).normal(0.5, 0.15, (200, 400)).clip(0, 1)
    box = LamellaBox(np.array([200.0, 100.0]), np.array([1.0, 0.0]), np.array([0.0, 1.0]),
                     100.0, 10.0)  # fmt: skip
    assert fitted_to_length(image, box, 180.0) is box


def test_a_noisy_frame_still_shows_clear_ends():
    """Noise five times the scene's (0.15 of full scale) leaves steps of 0.15 clear."""
    image, mask = _scene(face=0.75, left=0.45, right=0.45)
    noisy = (image / 255.0 + np.random.default_rng(5).normal(0, 0.15, image.shape)).clip(0, 1)
    f = features_from_mask(mask, PS, image=noisy, lamella_length_m=LENGTH_PX * PS)
    left, right = _ends(f)
    assert left == pytest.approx(-150, abs=3) and right == pytest.approx(150, abs=3)


def test_a_mask_reaching_out_of_the_image_is_kept():
    """The profile would leave the frame: nothing is judged from outside it."""
    image, _ = _scene()
    box = LamellaBox(np.array([100.0, 200.0]), np.array([1.0, 0.0]), np.array([0.0, 1.0]),
                     120.0, 15.0)  # fmt: skip
    assert fitted_to_length(image, box, 200.0) is box
