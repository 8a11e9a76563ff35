"""Grid-square centre detector: accuracy on twin images (SEM and FIB), robustness, errors."""

from __future__ import annotations

import numpy as np
import pytest

from fibsem_ophyd.sim import TwinWorld
from ml.detection import Keypoint, find_grid_square_centre

from .twin_cases import PIXEL_M, Scene, make_world, render_site

TOLERANCE_M = 0.2e-6
BEAMS = ("electron", "ion")
# (site index, du, dv): the stage lands a few µm to ~20 µm away from the site.
CASES = [
    (0, 3e-6, -2e-6),
    (1, 12e-6, 6e-6),
    (2, -20e-6, 9e-6),
    (3, 18e-6, -15e-6),
    (4, -6e-6, 20e-6),
]


@pytest.fixture(scope="module")
def world() -> TwinWorld:
    return make_world()


def _error_m(found: Keypoint, scene: Scene) -> float:
    return float(np.hypot(found.x_px - scene.true_col, found.y_px - scene.true_row)) * PIXEL_M


def _detect(scene: Scene, beam: str, image: np.ndarray | None = None) -> Keypoint:
    return find_grid_square_centre(
        scene.image if image is None else image,
        PIXEL_M,
        beam=beam,
        vertical_scale=scene.vertical_scale,
    )


@pytest.mark.parametrize("beam", BEAMS)
@pytest.mark.parametrize(("site", "du", "dv"), CASES)
def test_centre_within_tolerance(
    world: TwinWorld, beam: str, site: int, du: float, dv: float
) -> None:
    scene = render_site(world, beam, site, du, dv)
    found = _detect(scene, beam)
    assert _error_m(found, scene) <= TOLERANCE_M
    assert found.score >= 0.5


@pytest.mark.parametrize("beam", BEAMS)
def test_far_off_centre_square_is_found(world: TwinWorld, beam: str) -> None:
    """~30% of the field off: one side of the square is out of view."""
    scene = render_site(world, beam, 1, -45e-6, 28e-6)
    found = _detect(scene, beam)
    assert _error_m(found, scene) <= TOLERANCE_M
    assert found.score >= 0.3


@pytest.mark.parametrize("beam", BEAMS)
def test_contrast_noise_and_polarity_do_not_matter(world: TwinWorld, beam: str) -> None:
    scene = render_site(world, beam, 2, 10e-6, -4e-6)
    img = scene.image.astype(np.float64)
    rng = np.random.default_rng(1)
    variants = {
        "low contrast, offset": 0.25 * img + 60.0,
        "bright, high gain": 4.0 * img + 1000.0,
        "inverted": 255.0 - img,
        "extra noise": img + rng.normal(0.0, 60.0, img.shape),
    }
    for label, variant in variants.items():
        found = _detect(scene, beam, variant)
        assert _error_m(found, scene) <= TOLERANCE_M, label
        assert found.score >= 0.5, label


def test_offset_matches_image_convention(world: TwinWorld) -> None:
    """The keypoint's image offset is where the site is, x right and y up."""
    scene = render_site(world, "electron", 0, 8e-6, -5e-6)
    found = _detect(scene, "electron")
    dx, dy = found.offset_m(scene.image.shape, PIXEL_M)
    # The stage moved the view +8 µm along u (image right) and -5 µm along v (image down),
    # so the site appears left of and above the centre.
    assert dx == pytest.approx(-8e-6, abs=TOLERANCE_M)
    assert dy == pytest.approx(5e-6, abs=TOLERANCE_M)


@pytest.mark.parametrize(
    "image",
    [
        np.full((1024, 1536), 128, np.uint8),
        np.random.default_rng(0).normal(128.0, 30.0, (1024, 1536)),
        np.add.outer(np.arange(1024) * 0.05, np.arange(1536) * 0.1),
    ],
    ids=["blank", "noise", "ramp"],
)
@pytest.mark.parametrize("beam", BEAMS)
def test_featureless_image_scores_low(image: np.ndarray, beam: str) -> None:
    scale = 1.0 if beam == "electron" else 0.26
    found = find_grid_square_centre(image, PIXEL_M, beam=beam, vertical_scale=scale)
    assert found.score <= 0.1


def test_off_grid_view_scores_low(world: TwinWorld) -> None:
    """Beyond the grid rim there are no bars."""
    from fibsem_ophyd.geometry import specimen_to_raw

    from .twin_cases import GEOMETRY, view_pose

    pose = view_pose("electron")
    assert pose.r_deg is not None and pose.t_deg is not None
    world.set_stage(specimen_to_raw(2.5e-3, 0.0, pose.r_deg, pose.t_deg, GEOMETRY))
    found = find_grid_square_centre(world.render("electron"), PIXEL_M)
    assert found.score <= 0.1


@pytest.mark.parametrize(
    ("image", "kwargs"),
    [
        (np.zeros((64, 64, 3)), {}),
        (np.zeros(64), {}),
        (np.zeros((8, 64)), {}),
        (np.where(np.eye(64) > 0, np.nan, 1.0), {}),
        (np.where(np.eye(64) > 0, np.inf, 1.0), {}),
        (np.zeros((64, 64)), {"pixel_size_m": 0.0}),
        (np.zeros((64, 64)), {"pixel_size_m": float("nan")}),
        (np.zeros((64, 64)), {"square_size_m": -1e-6}),
        (np.zeros((64, 64)), {"vertical_scale": 0.0}),
        (np.zeros((64, 64)), {"beam": "xray"}),
    ],
    ids=[
        "3-D",
        "1-D",
        "too small",
        "NaN",
        "inf",
        "zero pixel",
        "NaN pixel",
        "negative square",
        "zero scale",
        "unknown beam",
    ],
)
def test_bad_input_raises(image: np.ndarray, kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"pixel_size_m": PIXEL_M, **kwargs}
    with pytest.raises(ValueError):
        find_grid_square_centre(image, **args)  # type: ignore[arg-type]


def test_keypoint_offset() -> None:
    kp = Keypoint("LamellaCentre", x_px=9.5 + 10.0, y_px=4.5 - 4.0, score=1.0)
    dx, dy = kp.offset_m((10, 20), 1e-6)
    assert (dx, dy) == pytest.approx((10e-6, 4e-6))
    with pytest.raises(ValueError):
        kp.offset_m((10, 20), 0.0)
