"""What the workflow knows of a view (the lamella's length, the posts' view and size)
places a lamella or pad cut by the image's border from its end in view
(ml/detection/known_size.py); a size the mask contradicts gives a reason, not a point."""

from __future__ import annotations

import numpy as np
import pytest

from ml.classes import LAMELLA, LANDING_POST
from ml.detection.mask_features import FoundFeature, NotFound, features_from_mask

from .mask_cases import PS, H, W
from .mask_cases import box as _box
from .mask_cases import xy as _xy


@pytest.mark.parametrize("side", ["left", "right"])
def test_a_lamella_cut_by_a_side_border_is_placed_from_its_end_given_its_length(side):
    """A lamella 100 px long (1 um at 10 nm/px), 40 px of it past the border: without its
    length the centre is the middle of the part in view (20 px off); with it, half the
    length from the end in view, and the top and bottom midpoints with it."""
    mask = np.zeros((H, W), np.uint8)
    if side == "left":  # true cols -40..59: the right end (col 59) is in view
        _box(mask, 40, 0, 11, 60, LAMELLA)
        true_centre = (9.5, 45.0)
    else:  # true cols 100..199: the left end (col 100) is in view
        _box(mask, 40, 100, 11, 60, LAMELLA)
        true_centre = (149.5, 45.0)
    plain = features_from_mask(mask, PS)
    assert abs(_xy(plain["LamellaCentre"])[0] - true_centre[0]) == pytest.approx(20, abs=0.6)
    f = features_from_mask(mask, PS, lamella_length_m=100 * PS)
    assert _xy(f["LamellaCentre"]) == pytest.approx(true_centre, abs=0.6)
    assert _xy(f["LamellaTopEdge"]) == pytest.approx((true_centre[0], 40.0), abs=0.6)
    assert _xy(f["LamellaBottomEdge"]) == pytest.approx((true_centre[0], 50.0), abs=0.6)
    cut = f["LamellaLeftEdge" if side == "left" else "LamellaRightEdge"]
    assert isinstance(cut, NotFound) and f"{side} border" in cut.reason
    end = _xy(f["LamellaRightEdge" if side == "left" else "LamellaLeftEdge"])
    assert end == pytest.approx(
        _xy(plain["LamellaRightEdge" if side == "left" else "LamellaLeftEdge"])
    )


def test_a_lamella_longer_in_view_than_its_length_is_not_placed():
    """60 px in view of a lamella said to be 40 px long: not the lamella described, so
    centre, top and bottom are not found (with the reason), never put somewhere wrong; a
    lamella wholly in view keeps its measured box whatever length is given."""
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 40, 0, 11, 60, LAMELLA)
    f = features_from_mask(mask, PS, lamella_length_m=40 * PS)
    for name in ("LamellaCentre", "LamellaTopEdge", "LamellaBottomEdge"):
        assert isinstance(f[name], NotFound) and "longer than its given length" in f[name].reason
    assert isinstance(f["LamellaRightEdge"], FoundFeature)
    whole = np.zeros((H, W), np.uint8)
    _box(whole, 20, 30, 11, 41, LAMELLA)
    f = features_from_mask(whole, PS, lamella_length_m=10 * PS)
    assert _xy(f["LamellaCentre"]) == pytest.approx((50.0, 25.0))


def test_a_pad_seen_from_above_running_past_the_lower_border_given_the_view():
    """A pad cut by the lower border looks like a post seen from the side ("auto": its
    top); told the view is from above, its centroid; told "side", its top."""
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 60, 70, 40, 20, LANDING_POST)
    top = features_from_mask(mask, PS, ["LandingPost"], post_view="top")
    assert _xy(top["LandingPost"]) == pytest.approx((79.5, 79.5), abs=0.51)
    side = features_from_mask(mask, PS, ["LandingPost"], post_view="side")
    assert _xy(side["LandingPost"]) == pytest.approx((79.5, 60.0), abs=0.51)
    floating = np.zeros((H, W), np.uint8)
    _box(floating, 20, 70, 40, 20, LANDING_POST)  # wholly in view: "side" still its top
    side = features_from_mask(floating, PS, ["LandingPost"], post_view="side")
    assert _xy(side["LandingPost"]) == pytest.approx((79.5, 20.0), abs=0.51)


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ((0, 40, 30, 20), (49.5, -0.5)),  # rows -30..29 of a 60-px pad: its lower end shows
        ((70, 40, 30, 20), (49.5, 99.5)),  # rows 70..129: its upper end shows
        ((30, 0, 60, 12), (1.5, 59.5)),  # cols -8..11 of a 20-px pad: its right end shows
        ((20, 60, 60, 20), (69.5, 49.5)),  # all in view: its centroid
    ],
)
def test_a_pad_cut_by_a_border_is_placed_from_its_end_given_its_size(box, expected):
    """Seen from above, a 20 x 60 px pad cut by one border: half its size from the end
    in view, not the middle of what shows."""
    mask = np.zeros((H, W), np.uint8)
    _box(mask, *box, LANDING_POST)
    f = features_from_mask(
        mask, PS, ["LandingPost"], post_view="top", post_size_m=(20 * PS, 60 * PS)
    )
    assert _xy(f["LandingPost"]) == pytest.approx(expected, abs=0.01)


def test_a_pad_showing_more_than_its_size_is_not_placed():
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 0, 40, 90, 20, LANDING_POST)  # 90 px in view, said to be 60 long
    f = features_from_mask(
        mask, PS, ["LandingPost"], post_view="top", post_size_m=(20 * PS, 60 * PS)
    )
    result = f["LandingPost"]
    assert isinstance(result, NotFound) and "more than its given size" in result.reason


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ((20, 60, 40, 20), "40 px long"),  # 40 of its 60 px, whole in view
        ((20, 60, 60, 12), "12 px wide"),  # 12 of its 20 px
        ((20, 60, 48, 16), (67.5, 43.5)),  # 80 % of each: its centroid
        ((0, 40, 20, 20), (49.5, -10.5)),  # cut by the upper border: from its lower end
    ],
)
def test_a_pad_whole_in_view_well_under_its_size_is_not_placed(box, expected):
    """A pad shown whole along an axis at well under its size there is partly hidden (a
    needle in front of it) or not the post: its centroid is not its middle, so a reason.
    Cut by a border, it shows only part of itself and is placed from its end."""
    mask = np.zeros((H, W), np.uint8)
    _box(mask, *box, LANDING_POST)
    f = features_from_mask(
        mask, PS, ["LandingPost"], post_view="top", post_size_m=(20 * PS, 60 * PS)
    )
    result = f["LandingPost"]
    if isinstance(expected, str):
        assert isinstance(result, NotFound)
        assert expected in result.reason and "well under its given size" in result.reason
    else:
        assert _xy(result) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lamella_length_m": 0.0}, "lamella_length_m"),
        ({"lamella_length_m": float("nan")}, "lamella_length_m"),
        ({"lamella_length_m": True}, "lamella_length_m"),
        ({"lamella_length_m": "10e-6"}, "lamella_length_m"),
        ({"post_view": "below"}, "post_view"),
        ({"post_size_m": (20e-6,)}, "post_size_m"),
        ({"post_size_m": (20e-6, -1.0)}, "post_size_m"),
        ({"post_size_m": 20e-6}, "post_size_m"),
    ],
)
def test_bad_hints_are_named(kwargs, field):
    with pytest.raises(ValueError, match=field):
        features_from_mask(np.zeros((H, W), np.uint8), PS, **kwargs)
