"""A lamella the model split into pieces along its length is measured whole when its
length is given (ml/detection/lamella_pieces.py); other lamellae, pieces off its line,
thicker things, specks and pieces beyond its given length are not joined to it, and
without a length nothing is."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ml.classes import LAMELLA
from ml.detection.lamella_pieces import joined_pieces
from ml.detection.mask_features import features_from_mask
from ml.detection.mask_regions import ClassRegions
from ml.detection.region_box import lamella_box

from .mask_cases import PS, H, W
from .mask_cases import box as _box
from .mask_cases import xy as _xy


def _pieces(mask: np.ndarray, spans: list[tuple[int, int]], top: int = 45, height: int = 11):
    """Lamella pieces on rows ``top``..``top + height - 1``, each over cols [a, b)."""
    for a, b in spans:
        _box(mask, top, a, height, b - a, LAMELLA)


def test_a_lamella_in_three_pieces_is_measured_whole_given_its_length():
    """Cols 30..129 in three pieces (gaps of 6 px): given its length (100 px) the centre
    is the whole lamella's (col 79.5), not the middle piece's, and its ends are the outer
    pieces' ends; without it, the middle piece stands alone."""
    mask = np.zeros((H, W), np.uint8)
    _pieces(mask, [(30, 60), (66, 96), (102, 130)])
    f = features_from_mask(mask, PS, lamella_length_m=100 * PS)
    assert _xy(f["LamellaCentre"]) == pytest.approx((79.5, 50.0), abs=0.6)
    assert _xy(f["LamellaLeftEdge"])[0] == pytest.approx(30, abs=0.6)
    assert _xy(f["LamellaRightEdge"])[0] == pytest.approx(129, abs=0.6)
    alone = features_from_mask(mask, PS)
    assert _xy(alone["LamellaLeftEdge"])[0] == pytest.approx(66, abs=0.6)
    assert _xy(alone["LamellaRightEdge"])[0] == pytest.approx(95, abs=0.6)


def test_tilted_pieces_are_joined_along_their_axis():
    """Two pieces of a lamella tilted by 8 degrees, a gap of 6 px between them: the
    centre is the whole strip's, within a pixel."""
    mask = np.zeros((H, W), np.uint8)
    whole = np.zeros((H, W), np.uint8)
    rect = ((80.0, 50.0), (100.0, 10.0), 8.0)
    cv2.fillPoly(whole, [np.round(cv2.boxPoints(rect)).astype(np.int32)], 1)
    mask[whole == 1] = LAMELLA
    mask[:, 77:83] = 0  # the gap
    f = features_from_mask(mask, PS, lamella_length_m=100 * PS)
    assert _xy(f["LamellaCentre"]) == pytest.approx((80.0, 50.0), abs=1.0)
    assert _xy(f["LamellaLeftEdge"])[0] < 36  # the left piece's end, not the gap's


def test_two_lamellae_in_a_row_stay_apart():
    """Two lamellae 50 px long, 40 px apart on one row: given their length (50 px),
    joining them would make one longer than that, and 140 px given would bridge a gap
    wider than a quarter of it. The one nearest the point asked for is measured alone."""
    mask = np.zeros((H, W), np.uint8)
    _pieces(mask, [(10, 60), (100, 150)])
    for length_m in (None, 50 * PS, 140 * PS):
        f = features_from_mask(mask, PS, near_px=(120, 50), lamella_length_m=length_m)
        assert _xy(f["LamellaCentre"]) == pytest.approx((124.5, 50.0), abs=0.6)


def test_a_piece_beyond_the_given_length_is_left_out():
    """Pieces at cols 40..99 and 104..123 make a strip 84 px long: joined for a lamella
    84 px long, not for one 60 px long (84 px > 60 px + 15 % + 2 px)."""
    mask = np.zeros((H, W), np.uint8)
    _pieces(mask, [(40, 100), (104, 124)])
    longer = features_from_mask(mask, PS, lamella_length_m=84 * PS)
    assert _xy(longer["LamellaRightEdge"])[0] == pytest.approx(123, abs=0.6)
    short = features_from_mask(mask, PS, lamella_length_m=60 * PS)
    assert _xy(short["LamellaRightEdge"])[0] == pytest.approx(99, abs=0.6)


def test_pieces_off_the_line_or_thicker_are_not_joined():
    """A strip 12 px below the lamella (another object's edge) and a block three times
    its thickness in line with it: neither is a piece of it."""
    mask = np.zeros((H, W), np.uint8)
    _pieces(mask, [(40, 100)], top=30, height=9)
    _pieces(mask, [(104, 130)], top=51, height=9)  # below: centroid 21 px off the axis
    _box(mask, 22, 12, 27, 24, LAMELLA)  # in line at its left, 27 px thick
    f = features_from_mask(mask, PS, near_px=(70, 34), lamella_length_m=118 * PS)
    assert _xy(f["LamellaLeftEdge"])[0] == pytest.approx(40, abs=0.6)
    assert _xy(f["LamellaRightEdge"])[0] == pytest.approx(99, abs=0.6)


def test_nothing_to_join_returns_the_chosen_pixels_themselves():
    mask = np.zeros((H, W), np.uint8)
    _pieces(mask, [(40, 100)])
    lam = ClassRegions(mask, LAMELLA, 20)
    (only,) = lam.regions
    px, left, top, _ = joined_pieces(lam.regions, only, lamella_box(*lam.crop(only)), 60.0)
    assert px is only.pixels and (left, top) == (40, 45)


def test_a_speck_in_line_is_not_a_piece():
    """A 6 x 5 px speck 10 px beyond the lamella's end (a post's corner labelled
    lamella), within the given length: under a tenth of the lamella's area, left out."""
    mask = np.zeros((H, W), np.uint8)
    _pieces(mask, [(40, 100)])
    _box(mask, 48, 110, 5, 6, LAMELLA)
    f = features_from_mask(mask, PS, lamella_length_m=80 * PS, min_area_px=20)
    assert _xy(f["LamellaRightEdge"])[0] == pytest.approx(99, abs=0.6)
