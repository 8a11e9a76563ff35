"""Masks and keypoints line up with what the twin draws."""

import numpy as np
import pytest

from fibsem_ophyd.sim.groundtruth import CLASS_INDEX, STAGES, TwinTruth, ViewSpec
from fibsem_ophyd.sim.groundtruth.canvas import Canvas
from fibsem_ophyd.sim.groundtruth.objects import draw_lamella, draw_volume_block
from fibsem_ophyd.sim.groundtruth.scene import HFW_RANGE_M

FEATURE_CLASS = {
    "NeedleTip": "manipulator",
    "LamellaCentre": "lamella",
    "LamellaLeftEdge": "lamella",
    "LamellaRightEdge": "lamella",
    "LamellaTopEdge": "lamella",
    "LamellaBottomEdge": "lamella",
    "LandingPost": "landing_post",
    "CopperAdapterCentre": "copper_adaptor",
    "VolumeBlockCentre": "volume_block",
}


def _near(mask: np.ndarray, x: float, y: float, radius: int) -> np.ndarray:
    r, c = round(y), round(x)
    return mask[max(r - radius, 0) : r + radius + 1, max(c - radius, 0) : c + radius + 1]


def test_lamella_mask_is_where_the_lamella_was_drawn() -> None:
    rng = np.random.default_rng(0)
    canvas = Canvas.blank(np.full((200, 300), 0.3), np.zeros((200, 300)), 50e-9, rng)
    # 10 µm x 2 µm at 50 nm/px: 200 x 40 px centred on (150.0, 100.0), with trenches
    draw_lamella(canvas, (150.0, 100.0), 10e-6, 2e-6, 0.0, (3e-6, 3e-6))
    rows, cols = np.nonzero(canvas.mask == CLASS_INDEX["lamella"])
    assert abs(cols.min() - 50) <= 1 and abs(cols.max() - 249) <= 1
    assert abs(rows.min() - 80) <= 1 and abs(rows.max() - 119) <= 1
    assert (canvas.mask == CLASS_INDEX["lamella"]).sum() == pytest.approx(200 * 40, rel=0.04)
    # the grey image changes exactly there: the strip is brighter than its trenches
    strip = canvas.image[85:115, 60:240].mean()
    assert strip > canvas.image[125:135, 60:240].mean() + 0.1
    kp = {f: (x, y) for f, _, x, y in canvas.keypoints}
    assert kp["LamellaCentre"] == pytest.approx((150.0, 100.0))
    assert kp["LamellaLeftEdge"] == pytest.approx((50.0, 100.0))
    assert kp["LamellaTopEdge"] == pytest.approx((150.0, 80.0))


def test_the_lamella_bottom_edge_is_visible_against_the_wall_under_it() -> None:
    """The label's lower edge is an edge in the image: the lit trench wall under the
    lamella never has the lamella's grey (else no one, model or person, can see where
    the lamella ends, and its bottom edge is guessed tens of pixels low)."""
    steps = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        canvas = Canvas.blank(np.full((200, 300), 0.3), np.zeros((200, 300)), 50e-9, rng)
        # 2 µm high at 50 nm/px: rows 80-119; a 4 µm lower trench: its wall from row 120
        draw_lamella(canvas, (150.0, 100.0), 10e-6, 2e-6, 0.0, (3e-6, 4e-6))
        face = np.median(canvas.image[100:118, 60:240])
        wall = np.median(canvas.image[121, 60:240])  # the first row under the lamella
        assert canvas.mask[121, 150] != CLASS_INDEX["lamella"]
        steps.append(abs(wall - face))
    assert min(steps) > 0.08, sorted(steps)[:5]
    assert max(steps) > 0.2  # brighter and darker walls, a range of steps


@pytest.mark.parametrize("behind", [0.3, 0.5, 0.7])
def test_a_lifted_volume_block_stands_out_from_what_is_behind_it(behind: float) -> None:
    steps = []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        canvas = Canvas.blank(np.full((200, 300), behind), np.zeros((200, 300)), 50e-9, rng)
        draw_volume_block(canvas, (150.0, 100.0), (8e-6, 5e-6), 0.0, None)  # 160 x 100 px
        inside = canvas.mask == CLASS_INDEX["volume_block"]
        assert abs(int(inside.sum()) - 160 * 100) < 400
        steps.append(abs(float(np.median(canvas.image[inside])) - behind))
    assert min(steps) > 0.08, sorted(steps)[:5]


@pytest.fixture(scope="module")
def truth() -> TwinTruth:
    return TwinTruth(seed=2)  # one specimen: its texture tiles are shared by the views


@pytest.mark.parametrize("stage", STAGES)
def test_keypoints_fall_in_their_class_region(stage: str, truth: TwinTruth) -> None:
    lo, hi = HFW_RANGE_M[stage]
    for beam, view_seed in (("electron", 1), ("ion", 2)):
        spec = ViewSpec(2, stage, beam, (lo + hi) / 2, 192, 128, 1, view_seed)
        view = truth.render(spec)
        assert view.image.shape == view.mask.shape == (128, 192)
        assert view.image.dtype == view.mask.dtype == np.uint8
        found = {f for f, *_ in view.keypoints}
        assert "ImageCentre" in found
        for feature, _, x, y in view.keypoints:
            if feature == "ImageCentre":
                assert (x, y) == (95.5, 63.5)
                continue
            wanted = CLASS_INDEX[FEATURE_CLASS[feature]]
            # centres inside; edges and the post's top on the region's border
            radius = 0 if feature.endswith("Centre") else 2
            assert (_near(view.mask, x, y, radius) == wanted).any(), (feature, x, y)


def test_twin_posts_are_labelled_where_the_twin_draws_them() -> None:
    truth = TwinTruth(seed=4)
    post = truth.specimen.landing_posts[0]
    centre = (post.u_m + 10e-6, post.v_m)
    grey, mask = truth.background.view("electron", centre, 150e-9, (256, 384))
    on_post = mask == CLASS_INDEX["landing_post"]
    # 20 µm x 60 µm post at 150 nm/px: ~133 x 400 px, cut by the 256-px frame height
    assert abs(on_post.any(axis=0).sum() - 133) <= 2
    assert on_post.all(axis=1).sum() == 0 and on_post.any(axis=1).all()
    assert grey[on_post].mean() > grey[~on_post].mean() + 0.1  # copper is bright
    x, y = truth.background.uv_to_px(post.landing_point(), centre, 150e-9, (256, 384))
    assert mask[round(y), round(x)] == CLASS_INDEX["landing_post"]
    assert x == pytest.approx(191.5 - 10e-6 / 150e-9)
