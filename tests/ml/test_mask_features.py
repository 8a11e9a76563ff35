"""Keypoint features from class masks: drawn masks with known answers, and the twin's
needle label against its true tip."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from fibsem_ophyd.backend import ManipulatorPosition
from fibsem_ophyd.sim import TwinBackend, TwinParameters, TwinWorld
from fibsem_ophyd.sim.needles import LABEL_NEEDLE
from fibsem_ophyd.sim.projection import ImageGeometry, chamber_to_image
from ml.classes import COPPER_ADAPTOR, LAMELLA, LANDING_POST, MANIPULATOR, VOLUME_BLOCK
from ml.detection.mask_features import (
    FeatureNotFound,
    FoundFeature,
    NotFound,
    features_from_mask,
)
from ml.layout import FEATURES

from .mask_cases import PS, H, W
from .mask_cases import box as _box
from .mask_cases import xy as _xy


def test_lamella_box_centre_and_edges_not_swapped():
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 20, 30, 11, 41, LAMELLA)  # rows 20..30, cols 30..70
    f = features_from_mask(mask, PS)
    assert _xy(f["LamellaCentre"]) == pytest.approx((50.0, 25.0))
    assert _xy(f["LamellaLeftEdge"]) == pytest.approx((30.0, 25.0))
    assert _xy(f["LamellaRightEdge"]) == pytest.approx((70.0, 25.0))
    assert _xy(f["LamellaTopEdge"]) == pytest.approx((50.0, 20.0))  # row 0 is the top
    assert _xy(f["LamellaBottomEdge"]) == pytest.approx((50.0, 30.0))
    centre = f.require("LamellaCentre")
    # metres from the image centre (79.5, 49.5): x right, y up
    assert centre.dx_m == pytest.approx((50.0 - 79.5) * PS)
    assert centre.dy_m == pytest.approx((49.5 - 25.0) * PS)


def test_every_feature_absent_from_an_empty_mask_has_a_reason():
    f = features_from_mask(np.zeros((H, W), np.uint8), PS)
    assert list(f.results) == list(FEATURES)
    for name in FEATURES:
        if name == "ImageCentre":
            assert _xy(f[name]) == ((W - 1) / 2, (H - 1) / 2)
            continue
        result = f[name]
        assert isinstance(result, NotFound) and "no " in result.reason and "pixels" in result.reason
    with pytest.raises(FeatureNotFound, match="NeedleTip not found: no manipulator"):
        f.require("NeedleTip")


def test_region_too_small_is_named():
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 10, 10, 3, 3, LAMELLA)
    _box(mask, 50, 50, 2, 4, LANDING_POST)
    f = features_from_mask(mask, PS, min_area_px=20)
    assert isinstance(f["LamellaTopEdge"], NotFound)
    assert "largest has 9 px < min_area_px=20" in f["LamellaTopEdge"].reason
    assert "landing post regions too small" in f["LandingPost"].reason


def test_nearest_lamella_to_a_point_and_all_lamella_features_from_it():
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 10, 10, 10, 21, LAMELLA)  # centre (20, 14.5)
    _box(mask, 60, 110, 20, 31, LAMELLA)  # centre (125, 69.5), nearer the image centre
    default = features_from_mask(mask, PS)
    assert _xy(default["LamellaCentre"]) == pytest.approx((125.0, 69.5))
    near = features_from_mask(mask, PS, near_px=(5.0, 5.0))
    assert _xy(near["LamellaCentre"]) == pytest.approx((20.0, 14.5))
    assert _xy(near["LamellaBottomEdge"]) == pytest.approx((20.0, 19.0))


def test_a_fragment_nearer_the_centre_is_not_taken_for_the_lamella():
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 10, 10, 12, 60, LAMELLA)  # the lamella, 720 px, far from the centre
    _box(mask, 48, 78, 5, 6, LAMELLA)  # a 30-px speck at the centre: under a tenth of it
    _box(mask, 70, 120, 6, 6, LANDING_POST)  # a post fragment by the centre ...
    _box(mask, 80, 0, 20, 40, LANDING_POST)  # ... and the post, entering from the border
    found = features_from_mask(mask, PS)
    assert _xy(found["LamellaCentre"]) == pytest.approx((39.5, 15.5))
    assert _xy(found["LamellaBottomEdge"]) == pytest.approx((39.5, 21.5), abs=0.6)
    assert _xy(found["LandingPost"])[0] < 40  # the post, not the fragment at x = 122.5
    _box(mask, 46, 65, 8, 30, LAMELLA)  # now a real second lamella (240 px) at the centre
    assert _xy(features_from_mask(mask, PS)["LamellaCentre"]) == pytest.approx((79.5, 49.5))


def test_a_post_edge_labelled_lamella_is_not_taken_for_the_lamella():
    """Landing views: the model labels a thin strip along the post's bright top edge
    "lamella"; nearer the centre than the lamella, and a fifth of its size, it is not the
    lamella."""
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 10, 0, 12, 60, LAMELLA)  # the lamella on the needle, 720 px
    _box(mask, 52, 50, 2, 70, LAMELLA)  # the post's top edge: 140 px, at the centre
    _box(mask, 54, 50, 46, 70, LANDING_POST)  # the post under it
    found = features_from_mask(mask, PS)
    assert _xy(found["LamellaCentre"]) == pytest.approx((29.5, 15.5))


def test_centroid_features_and_scores_from_probabilities():
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 5, 5, 10, 10, COPPER_ADAPTOR)
    _box(mask, 70, 5, 20, 30, VOLUME_BLOCK)
    _box(mask, 40, 100, 40, 20, LANDING_POST)
    probs = np.full((6, H, W), 0.1, np.float32)
    probs[LANDING_POST, 40:80, 100:120] = 0.8
    f = features_from_mask(
        mask, PS, ["CopperAdapterCentre", "VolumeBlockCentre", "LandingPost"], probabilities=probs
    )
    assert _xy(f["CopperAdapterCentre"]) == pytest.approx((9.5, 9.5))
    assert _xy(f["VolumeBlockCentre"]) == pytest.approx((19.5, 79.5))
    assert _xy(f["LandingPost"]) == pytest.approx((109.5, 59.5))
    assert f.require("LandingPost").keypoint.score == pytest.approx(0.8)
    assert f.require("CopperAdapterCentre").keypoint.score == pytest.approx(0.1)


def _tapered_needle(tip: tuple[float, float], direction: tuple[float, float], r_tip: float):
    """A needle mask: a rounded tip of radius `r_tip` at `tip`, widening along `direction`
    out of the image (like sim/needles.py)."""
    mask = np.zeros((H, W), np.uint8)
    yy, xx = np.mgrid[:H, :W].astype(float)
    d = np.asarray(direction, float) / np.hypot(*direction)
    rel = np.stack([xx - tip[0], yy - tip[1]], -1)
    t = rel @ d
    across = np.abs(rel @ np.array([-d[1], d[0]]))
    shaft = (t >= 0) & (across <= r_tip + 0.14 * t)
    cap = (xx - tip[0]) ** 2 + (yy - tip[1]) ** 2 <= r_tip**2
    mask[shaft | cap] = MANIPULATOR
    return mask


@pytest.mark.parametrize(
    ("tip", "direction"), [((60.0, 55.0), (1.0, -0.6)), ((100.0, 30.0), (-1.0, 0.3))]
)
def test_needle_tip_is_the_centre_of_the_rounded_end(tip, direction):
    mask = _tapered_needle(tip, direction, r_tip=5.0)
    kp = features_from_mask(mask, PS, ["NeedleTip"]).require("NeedleTip").keypoint
    assert np.hypot(kp.x_px - tip[0], kp.y_px - tip[1]) < 1.5


def test_needle_inside_the_image_tip_at_its_narrow_end():
    mask = _tapered_needle((40.0, 50.0), (1.0, 0.0), r_tip=3.0)
    mask[:, 120:] = 0  # the shaft ends inside the image: no border to enter from
    kp = features_from_mask(mask, PS, ["NeedleTip"]).require("NeedleTip").keypoint
    assert np.hypot(kp.x_px - 40.0, kp.y_px - 50.0) < 1.5


def test_needle_tip_from_the_twin_label_is_the_true_tip():
    hfw_m, w, h = 40e-6, 768, 512
    world = TwinWorld(TwinParameters())
    backend = TwinBackend(world)
    world.electron.hfw_m, world.electron.resolution_x_px, world.electron.resolution_y_px = (
        hfw_m,
        w,
        h,
    )
    tip_m = (3e-6, -2e-6, 1e-6)
    manipulator = backend.manipulator
    asyncio.run(manipulator.insert(ManipulatorPosition(x_m=0.0, y_m=0.0, z_m=0.0)))
    asyncio.run(manipulator.move_to(ManipulatorPosition(x_m=tip_m[0], y_m=tip_m[1], z_m=tip_m[2])))
    labels = world.render_labels("electron")
    mask = np.where(labels == LABEL_NEEDLE, MANIPULATOR, 0).astype(np.uint8)
    geom = ImageGeometry(world.params.column_tilt_deg("electron"), hfw_m, w, h)
    truth = chamber_to_image(np.asarray(tip_m), geom)
    kp = features_from_mask(mask, hfw_m / w, ["NeedleTip"]).require("NeedleTip").keypoint
    assert np.hypot(kp.x_px - truth[0], kp.y_px - truth[1]) < 2.0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="pixel_size_m"):
        features_from_mask(np.zeros((4, 4), np.uint8), 0.0)
    with pytest.raises(ValueError, match="unknown features"):
        features_from_mask(np.zeros((4, 4), np.uint8), PS, ["LamellaMiddle"])
    with pytest.raises(ValueError, match="2-D"):
        features_from_mask(np.zeros((2, 4, 4), np.uint8), PS)
    with pytest.raises(ValueError, match="probabilities"):
        features_from_mask(np.zeros((4, 4), np.uint8), PS, probabilities=np.zeros((6, 3, 4)))


@pytest.mark.parametrize("seed", range(6))
def test_regions_found_coarse_to_fine_are_exactly_the_full_resolution_ones(seed):
    """Random blobs, some one pixel apart (they merge in the half-size search mask),
    noise, odd image sizes, blobs on the border: the same regions, areas and centroids
    as labelling the whole mask at full resolution."""
    import cv2

    from ml.detection.mask_regions import ClassRegions

    rng = np.random.default_rng(seed)
    h, w = 91 + seed, 137 + 2 * seed
    mask = np.zeros((h, w), np.uint8)
    for _ in range(8):
        top, left = rng.integers(-5, h - 5), rng.integers(-5, w - 5)
        mask[max(top, 0) : top + rng.integers(2, 20), max(left, 0) : left + rng.integers(2, 30)] = 1
    mask[:, rng.integers(10, w - 10)] = 0  # a one-pixel gap through some blobs
    mask[rng.random((h, w)) < 0.01] = 1
    count, _, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    expected = sorted(
        (int(stats[i, cv2.CC_STAT_AREA]), round(centroids[i][0], 6), round(centroids[i][1], 6))
        for i in range(1, count)
        if stats[i, cv2.CC_STAT_AREA] >= 6
    )
    found = ClassRegions(mask, 1, min_area_px=6)
    got = sorted(
        (r.area_px, round(r.centroid[0], 6), round(r.centroid[1], 6)) for r in found.regions
    )
    assert got == expected
    for region in found.regions:
        assert int(region.pixels.sum()) == region.area_px


def _rotated_box(mask, centre, size, angle_deg, cls):
    import cv2

    corners = cv2.boxPoints((centre, size, angle_deg))
    cv2.fillPoly(mask, [np.round(corners).astype(np.int32)], int(cls))
    a = np.deg2rad(angle_deg)
    ax, ay = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    return ax * size[0] / 2, ay * size[1] / 2


def test_tilted_lamella_edges_are_the_midpoints_of_its_sides():
    mask = np.zeros((400, 600), np.uint8)
    half_w, half_h = _rotated_box(mask, (300.0, 200.0), (400.0, 40.0), 6.0, LAMELLA)
    f = features_from_mask(mask, PS)
    centre = np.array([300.0, 200.0])
    expected = {
        "LamellaCentre": centre,
        "LamellaLeftEdge": centre - half_w,
        "LamellaRightEdge": centre + half_w,
        "LamellaTopEdge": centre - half_h,
        "LamellaBottomEdge": centre + half_h,
    }
    for name, (x, y) in expected.items():
        got = np.array(_xy(f[name]))
        # within a pixel and a half (the polygon is rasterised); the row through the
        # centroid would put the side edges 21 px off at 6 degrees
        assert np.hypot(*(got - (x, y))) < 1.5, (name, got, (x, y))


def test_an_occluded_part_of_the_lamella_does_not_move_its_centre():
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 20, 30, 11, 81, LAMELLA)  # rows 20..30, cols 30..110: centre (70, 25)
    mask[18:27, 40:80] = MANIPULATOR  # the needle hides the top of its left half
    f = features_from_mask(mask, PS)
    assert _xy(f["LamellaCentre"]) == pytest.approx((70.0, 25.0), abs=0.51)
    assert _xy(f["LamellaLeftEdge"]) == pytest.approx((30.0, 25.0), abs=0.51)


def test_a_post_seen_from_the_side_lands_at_the_middle_of_its_top():
    """A post seen from the side stands on the grid: it enters from the lower border."""
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 60, 70, 40, 20, LANDING_POST)
    f = features_from_mask(mask, PS, ["LandingPost"])
    assert _xy(f["LandingPost"]) == pytest.approx((79.5, 60.0), abs=0.51)


@pytest.mark.parametrize(
    "box",
    [
        (30, 0, 20, 50),  # cut by the left border
        (0, 100, 30, 20),  # cut by the top border
        (40, 130, 20, 30),  # cut by the right border
        (30, 60, 20, 40),  # all in view
    ],
)
def test_a_post_seen_from_above_lands_at_its_centroid(box):
    """A pad seen from above, also where a border other than the lower one cuts it: the
    middle of what is in view, not its far end."""
    mask = np.zeros((H, W), np.uint8)
    _box(mask, *box, LANDING_POST)
    top, left, height, width = box
    f = features_from_mask(mask, PS, ["LandingPost"])
    expected = (left + (width - 1) / 2, top + (height - 1) / 2)
    assert _xy(f["LandingPost"]) == pytest.approx(expected, abs=0.01)


def test_a_pad_cut_by_the_lower_border_beside_one_seen_from_above_is_seen_from_above():
    """One image, one view: a post clear of the lower border is seen from above (a post
    seen from the side stands on the grid below and enters from it), so a pad of its
    width running past the lower border is seen from above too: its centroid, not its
    far end. A speck of the class, far narrower, says nothing about the view."""
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 50, 70, 50, 20, LANDING_POST)  # past the lower border, nearest the centre
    alone = features_from_mask(mask, PS, ["LandingPost"])
    assert _xy(alone["LandingPost"]) == pytest.approx((79.5, 50.0), abs=0.51)  # side view
    _box(mask, 0, 10, 8, 22, LANDING_POST)  # a pad of about its width past the top border
    f = features_from_mask(mask, PS, ["LandingPost"])
    assert _xy(f["LandingPost"]) == pytest.approx((79.5, 74.5), abs=0.01)
    speck = np.zeros((H, W), np.uint8)
    _box(speck, 50, 70, 50, 20, LANDING_POST)
    _box(speck, 10, 130, 5, 5, LANDING_POST)
    f = features_from_mask(speck, PS, ["LandingPost"])
    assert _xy(f["LandingPost"]) == pytest.approx((79.5, 50.0), abs=0.51)
    given = features_from_mask(mask, PS, ["LandingPost"], post_view="side")
    assert _xy(given["LandingPost"]) == pytest.approx((79.5, 50.0), abs=0.51)


def test_a_lamella_running_past_the_border_has_no_edge_there():
    """The mask ends at the image's border, not at the lamella's edge: that edge is not
    found (with the reason), the one in view is."""
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 40, 0, 12, 90, LAMELLA)  # from past the left border to col 89
    f = features_from_mask(mask, PS)
    left = f["LamellaLeftEdge"]
    assert isinstance(left, NotFound) and "left border" in left.reason
    assert _xy(f["LamellaRightEdge"]) == pytest.approx((89.0, 45.5))
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 0, 40, 12, 60, LAMELLA)  # past the top border
    f = features_from_mask(mask, PS)
    assert isinstance(f["LamellaTopEdge"], NotFound) and "top border" in f["LamellaTopEdge"].reason
    assert _xy(f["LamellaBottomEdge"]) == pytest.approx((69.5, 11.0))


def test_a_lamella_corner_grazing_the_border_is_not_a_cut():
    mask = np.zeros((H, W), np.uint8)
    _box(mask, 40, 1, 20, 90, LAMELLA)
    mask[58:60, 0] = LAMELLA  # two pixels of a 20-px-high lamella on the border
    f = features_from_mask(mask, PS)
    assert isinstance(f["LamellaLeftEdge"], FoundFeature)


def test_an_image_of_the_wrong_shape_is_refused_by_name():
    with pytest.raises(ValueError, match="image must be the mask's shape"):
        features_from_mask(np.zeros((H, W), np.uint8), PS, image=np.zeros((H, W + 1)))
