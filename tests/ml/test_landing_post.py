"""Landing-post detector: accuracy on twin images of a post (SEM and FIB at the landing
pose, electron-flat), a featureless image, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from fibsem_ophyd.geometry import flat_to_beam, specimen_to_raw
from fibsem_ophyd.sim import TwinWorld
from ml.detection import find_landing_post

from .twin_cases import GEOMETRY, PIXEL_M, make_world  # 150 µm: as the workflow

TOLERANCE_M = 50e-9
# At the landing pose the ion beam sees the specimen at 52° from its normal.
SCALES = {"electron": 1.0, "ion": float(np.cos(np.radians(52.0)))}
OFFSETS_M = [(0.0, 0.0), (6e-6, -4e-6), (-12e-6, 9e-6)]


@pytest.fixture(scope="module")
def world() -> TwinWorld:
    return make_world(seed=3)


@pytest.mark.parametrize("beam", ["electron", "ion"])
@pytest.mark.parametrize(("post", "du", "dv"), [(k % 5, *d) for k, d in enumerate(OFFSETS_M)])
def test_centre_within_tolerance(
    world: TwinWorld, beam: str, post: int, du: float, dv: float
) -> None:
    u, v = world.specimen.landing_point(post)
    flat = flat_to_beam("electron", GEOMETRY)
    assert flat.r_deg is not None and flat.t_deg is not None
    h = world.specimen.reference_height_m(u, v)
    world.set_stage(specimen_to_raw(u + du, v + dv, flat.r_deg, flat.t_deg, GEOMETRY, h_m=h))
    image = world.render(beam)  # type: ignore[arg-type]
    col, row = world.specimen_point_px(beam, u, v)  # type: ignore[arg-type]
    found = find_landing_post(image, PIXEL_M, SCALES[beam], beam=beam)
    assert found.score >= 0.5
    assert np.hypot(found.x_px - col, found.y_px - row) * PIXEL_M <= TOLERANCE_M


def test_a_blank_image_scores_zero() -> None:
    found = find_landing_post(np.random.default_rng(0).normal(100, 5, (512, 768)), PIXEL_M)
    assert found.score == 0.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"length_m": 0.0}, "length_m"), ({"width_m": np.inf}, "width_m"), ({"beam": "x"}, "beam")],
)
def test_bad_input_raises(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        find_landing_post(np.zeros((64, 64)), PIXEL_M, **kwargs)  # type: ignore[arg-type]
