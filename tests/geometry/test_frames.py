"""Frames, projection and pixel conventions of docs/coordinates.md, by hand and by property."""

from __future__ import annotations

import numpy as np
import pytest

from fibsem_ophyd.config import MicroscopeConfig, config_from_dict
from fibsem_ophyd.geometry import (
    StageGeometry,
    chamber_to_image,
    chamber_to_specimen,
    image_axes,
    image_to_pixels,
    pixels_to_image_offset,
    rot_x,
    rot_z,
    source_direction,
    specimen_normal,
    specimen_to_chamber,
)

from .geom_helpers import GEOM, pose, random_pose

S35, C35 = np.sin(np.radians(35)), np.cos(np.radians(35))


def test_rotations_are_right_handed() -> None:
    assert rot_x(90) @ np.array([0, 1, 0]) == pytest.approx([0, 0, 1])
    assert rot_z(90) @ np.array([1, 0, 0]) == pytest.approx([0, 1, 0])


@pytest.mark.parametrize("theta", [0.0, 52.0, 17.0])
def test_image_basis_is_right_handed_and_orthonormal(theta: float) -> None:
    e_x, e_v = image_axes(theta)
    s = source_direction(theta)
    assert np.cross(e_x, e_v) == pytest.approx(s)
    assert np.linalg.det(np.array([e_x, e_v, s])) == pytest.approx(1.0)


def test_specimen_to_chamber_by_hand() -> None:
    # r = r_ref, t = 0, pre-tilt 35: p = Rx(-35)·(u, v, h) + (x, y, z - z_e).
    # Rx(-35) sends specimen +v to (0, cos35, -sin35): +v slopes down toward -z, i.e.
    # the surface normal is s(t - p) = s(-35°).
    p = specimen_to_chamber(0.0, 1e-6, 0.0, pose(x=2e-6, z=4.0e-3 + 1e-6), GEOM)
    assert p == pytest.approx([2e-6, C35 * 1e-6, -S35 * 1e-6 + 1e-6], abs=1e-18)
    # Electron-flat (t = p = 35): the specimen plane is the chamber x-y plane.
    p = specimen_to_chamber([1e-6, 0.0], [0.0, 1e-6], 0.0, pose(t=35.0), GEOM)
    assert p == pytest.approx(np.array([[1e-6, 0, 0], [0, 1e-6, 0]]), abs=1e-18)


def test_normal_matches_contract(rng: np.random.Generator) -> None:
    for _ in range(50):
        t = rng.uniform(-10, 60)
        n_ref = specimen_normal(pose(r=0.0, t=t), GEOM)
        n_180 = specimen_normal(pose(r=180.0, t=t), GEOM)
        assert n_ref == pytest.approx(source_direction(t - 35.0), abs=1e-12)
        assert n_180 == pytest.approx(source_direction(t + 35.0), abs=1e-12)


def test_rotation_180_maps_uv_to_minus_uv_about_rotation_centre(rng: np.random.Generator) -> None:
    flat = StageGeometry(shuttle_pre_tilt_deg=0.0)
    for _ in range(50):
        u, v = rng.uniform(-1e-3, 1e-3, 2)
        base = random_pose(rng)
        at_180 = base.model_copy(update={"r_deg": 180.0, "t_deg": 0.0})
        at_ref = base.model_copy(update={"r_deg": 0.0, "t_deg": 0.0})
        centre = specimen_to_chamber(0.0, 0.0, 0.0, at_180, flat)  # on the rotation axis
        assert specimen_to_chamber(u, v, 0.0, at_180, flat) - centre == pytest.approx(
            [-u, -v, 0.0], abs=1e-15
        )
        # With the 35° pre-tilt, chamber x/y relative to the centre flip sign, z is kept.
        d_ref = specimen_to_chamber(u, v, 0.0, at_ref, GEOM) - centre
        d_180 = specimen_to_chamber(u, v, 0.0, at_180, GEOM) - centre
        assert d_180 == pytest.approx([-d_ref[0], -d_ref[1], d_ref[2]], abs=1e-15)


def test_chamber_specimen_round_trip(rng: np.random.Generator) -> None:
    q = rng.uniform(-1e-3, 1e-3, (20, 3))
    p_ = random_pose(rng)
    back = chamber_to_specimen(specimen_to_chamber(q[:, 0], q[:, 1], q[:, 2], p_, GEOM), p_, GEOM)
    assert back == pytest.approx(q, abs=1e-15)


def test_chamber_to_image_by_hand() -> None:
    s52, c52 = np.sin(np.radians(52)), np.cos(np.radians(52))
    # a point 1 µm above the eucentric point, seen by the FIB: b = p·e_v = sin52 µm.
    a, b = chamber_to_image([0, 0, 1e-6], 52.0)
    assert (a, b) == pytest.approx((0.0, s52 * 1e-6))
    a, b = chamber_to_image([0, 1e-6, 0], 52.0)
    assert (a, b) == pytest.approx((0.0, c52 * 1e-6))
    # beam shift (bx, by) moves the image content by (-bx, -by).
    a, b = chamber_to_image([1e-6, 0, 0], 0.0, beam_shift_m=(1e-6, 2e-6))
    assert (a, b) == pytest.approx((0.0, -2e-6))
    # scan rotation φ = 90°: (a', b') = R(-90)·(a, b) = (b, -a).
    a, b = chamber_to_image([1e-6, 0, 0], 0.0, scan_rotation_deg=90.0)
    assert (a, b) == pytest.approx((0.0, -1e-6), abs=1e-18)


def test_pixels_by_hand_and_round_trip() -> None:
    # 768 x 512 image, hfw 768 µm → 1 µm pixels; centre is (383.5, 255.5).
    col, row = image_to_pixels(0.0, 0.0, 768, 512, 768e-6)
    assert (col, row) == pytest.approx((383.5, 255.5))
    col, row = image_to_pixels(1e-6, 1e-6, 768, 512, 768e-6)  # right and up
    assert (col, row) == pytest.approx((384.5, 254.5))
    a, b = pixels_to_image_offset(np.array([0.0, 767.0]), np.array([0.0, 511.0]), 768, 512, 768e-6)
    assert a == pytest.approx([-383.5e-6, 383.5e-6])
    assert b == pytest.approx([255.5e-6, -255.5e-6])


def test_geometry_from_config() -> None:
    assert StageGeometry.from_config(MicroscopeConfig()) == StageGeometry()
    cfg = config_from_dict({"stage": {"shuttle_pre_tilt_deg": 45.0, "rotation_reference_deg": 90}})
    geom = StageGeometry.from_config(cfg)
    assert geom.shuttle_pre_tilt_deg == 45.0
    assert geom.rotation_180_deg == 270.0
    assert geom.column_tilt_deg("ion") == 52.0
    with pytest.raises(ValueError, match="allowed"):
        geom.column_tilt_deg("xray")  # type: ignore[arg-type]


def test_incomplete_pose_is_refused() -> None:
    from fibsem_ophyd.backend._types import StagePosition

    with pytest.raises(ValueError, match="r_deg"):
        specimen_normal(StagePosition(x_m=0, y_m=0, z_m=0, t_deg=0), GEOM)
