"""Stable move, vertical move, beam coincidence and specimen moves (docs/coordinates.md)."""

from __future__ import annotations

import numpy as np
import pytest

from fibsem_ophyd.backend._types import StagePosition
from fibsem_ophyd.geometry import (
    beam_coincidence_move,
    chamber_to_image,
    chamber_to_specimen,
    image_to_specimen,
    project_stable_move,
    raw_to_specimen,
    rot_2d,
    source_direction,
    specimen_move,
    specimen_normal,
    specimen_to_chamber,
    specimen_to_raw,
    stable_move,
    vertical_move,
)

from .geom_helpers import GEOM, as_array, pose, random_pose

S35, C35 = np.sin(np.radians(35)), np.cos(np.radians(35))
S52, C52 = np.sin(np.radians(52)), np.cos(np.radians(52))
ELECTRON_FLAT = pose(t=35.0)  # r = r_ref, t = p: normal = s(0) = chamber z
ION_FLAT = pose(r=180.0, t=17.0)  # r = r_180, t = 52 - 35: normal = s(52)


def _delta(target: StagePosition, start: StagePosition) -> np.ndarray:
    return as_array(target) - as_array(start)


def test_sem_flat_dx_by_hand() -> None:
    # SEM (θ = 0), electron-flat: n = s = (0,0,1), e_x = (1,0,0), so n·e_x = 0 and
    # Δ = -dx·e_x = (-5 µm, 0, 0); ΔT = Rx(-35)·Δ = Δ (x is the tilt axis).
    # A feature 5 µm right of centre is centred by moving the stage 5 µm in -x.
    d = _delta(stable_move(5e-6, 0.0, "electron", ELECTRON_FLAT, GEOM), ELECTRON_FLAT)
    assert d == pytest.approx([-5e-6, 0, 0, 0, 0], abs=1e-18)


def test_sem_flat_dy_by_hand() -> None:
    # e_v = (0,1,0) ⟂ n, so Δ = -dy·(0,1,0) (purely chamber -y). In the frame tilted by
    # 35°: ΔT = Rx(-35)·(0, -dy, 0) = (0, -dy·cos35, +dy·sin35).
    dy = 5e-6
    d = _delta(stable_move(0.0, dy, "electron", ELECTRON_FLAT, GEOM), ELECTRON_FLAT)
    assert d == pytest.approx([0, -dy * C35, dy * S35, 0, 0], abs=1e-18)


def test_sem_scan_rotation_90_by_hand() -> None:
    # φ = 90°: (δa, δb) = R(90)·(dx, 0) = (0, dx): same as the dy case above.
    dx = 5e-6
    d = _delta(
        stable_move(dx, 0.0, "electron", ELECTRON_FLAT, GEOM, scan_rotation_deg=90.0),
        ELECTRON_FLAT,
    )
    assert d == pytest.approx([0, -dx * C35, dx * S35, 0, 0], abs=1e-17)


def test_fib_flat_by_hand() -> None:
    # FIB (θ = 52) at ion-flat: n = s(52), so n·e_x = n·e_v = 0 and Δ = -(dx·e_x + dy·e_v).
    # dx: ΔT = (-dx, 0, 0). dy: Δ = -dy·(0, cos52, sin52);
    # Rx(-17)·(0, cos52, sin52) = (0, cos(52-17), sin(52-17)) = (0, cos35, sin35).
    d = _delta(stable_move(5e-6, 0.0, "ion", ION_FLAT, GEOM), ION_FLAT)
    assert d == pytest.approx([-5e-6, 0, 0, 0, 0], abs=1e-18)
    d = _delta(stable_move(0.0, 5e-6, "ion", ION_FLAT, GEOM), ION_FLAT)
    assert d == pytest.approx([0, -5e-6 * C35, -5e-6 * S35, 0, 0], abs=1e-18)


def test_sem_at_ion_flat_by_hand() -> None:
    # SEM (s = z) looking at the surface with normal s(52): n·s = cos52, n·e_v = -sin52.
    # Δ = -dy·(0,1,0) + (dy·(-sin52)/cos52)·(0,0,1) = -dy·(0, 1, tan52), which is ⟂ n.
    dy = 2e-6
    delta = -dy * np.array([0.0, 1.0, np.tan(np.radians(52))])
    assert delta @ source_direction(52.0) == pytest.approx(0.0, abs=1e-20)
    c17, s17 = np.cos(np.radians(17)), np.sin(np.radians(17))
    expected = np.array([[1, 0, 0], [0, c17, s17], [0, -s17, c17]]) @ delta  # Rx(-17)
    d = _delta(stable_move(0.0, dy, "electron", ION_FLAT, GEOM), ION_FLAT)
    assert d[:3] == pytest.approx(expected, abs=1e-18)


@pytest.mark.parametrize("beam", ["electron", "ion"])
def test_stable_move_centres_feature_and_keeps_plane(beam: str, rng: np.random.Generator) -> None:
    theta = GEOM.column_tilt_deg(beam)  # type: ignore[arg-type]
    checked = 0
    while checked < 200:
        start = random_pose(rng)
        n = specimen_normal(start, GEOM)
        if abs(n @ source_direction(theta)) < 0.2:  # near-grazing: not an imaging pose
            continue
        dx, dy = rng.uniform(-50e-6, 50e-6, 2)
        phi = rng.uniform(0.0, 360.0)
        shift = tuple(rng.uniform(-20e-6, 20e-6, 2))
        h = rng.uniform(-5e-6, 5e-6)  # the plane of the feature need not be h = 0
        kw = {"scan_rotation_deg": phi, "beam_shift_m": shift}
        u, v, hh = image_to_specimen(dx, dy, beam, start, GEOM, h_m=h, **kw)  # type: ignore[arg-type]
        a, b = chamber_to_image(specimen_to_chamber(u, v, hh, start, GEOM), theta, shift, phi)
        assert (a, b) == pytest.approx((dx, dy), abs=1e-12)  # back-projection is consistent

        target = stable_move(dx, dy, beam, start, GEOM, **kw)  # type: ignore[arg-type]
        assert (target.r_deg, target.t_deg) == (start.r_deg, start.t_deg)
        a, b = chamber_to_image(specimen_to_chamber(u, v, hh, target, GEOM), theta, shift, phi)
        assert abs(a) < 1e-12 and abs(b) < 1e-12
        # The specimen plane is unchanged: same normal, same depth along it.
        depth0 = n @ specimen_to_chamber(0.0, 0.0, 0.0, start, GEOM)
        depth1 = specimen_normal(target, GEOM) @ specimen_to_chamber(0.0, 0.0, 0.0, target, GEOM)
        assert depth1 == pytest.approx(depth0, abs=1e-15)
        # And back again.
        back = stable_move(-dx, -dy, beam, target, GEOM, **kw)  # type: ignore[arg-type]
        assert as_array(back) == pytest.approx(as_array(start), abs=1e-15)
        checked += 1


def test_stable_move_refuses_grazing_beam() -> None:
    # r_ref, t = 35 + 90 - 52... simpler: normal s(t - 35) ⟂ s(52) when t - 35 = 52 - 90.
    with pytest.raises(ValueError, match="parallel"):
        stable_move(1e-6, 1e-6, "ion", pose(t=-3.0), GEOM)


def test_project_stable_move_names_the_specimen_point() -> None:
    target, uvh = project_stable_move(5e-6, 0.0, "electron", ELECTRON_FLAT, GEOM)
    assert target == stable_move(5e-6, 0.0, "electron", ELECTRON_FLAT, GEOM)
    assert uvh == pytest.approx([5e-6, 0.0, 0.0], abs=1e-18)  # electron-flat: (u, v) = (a, b)


def test_vertical_move_by_hand() -> None:
    # λ = -dy / sin(52 - 0); Δ = λ·(0,0,1); ΔT = Rx(-35)·Δ = (0, λ·sin35, λ·cos35).
    dy = 4e-6
    lam = -dy / S52
    d = _delta(vertical_move(dy, ELECTRON_FLAT, GEOM), ELECTRON_FLAT)
    assert d == pytest.approx([0, lam * S35, lam * C35, 0, 0], abs=1e-18)


def test_vertical_move_keeps_sem_view_and_centres_ion(rng: np.random.Generator) -> None:
    for _ in range(200):
        start = random_pose(rng)
        dx, dy = rng.uniform(-30e-6, 30e-6, 2)
        phi = rng.choice([0.0, rng.uniform(0, 360)])
        q = image_to_specimen(dx, dy, "ion", start, GEOM, scan_rotation_deg=phi)
        others = rng.uniform(-1e-4, 1e-4, (10, 3))
        target = vertical_move(dy, start, GEOM, dx_m=dx, scan_rotation_deg=phi)
        for pts in (others, q[None, :]):
            before = specimen_to_chamber(pts[:, 0], pts[:, 1], pts[:, 2], start, GEOM)
            after = specimen_to_chamber(pts[:, 0], pts[:, 1], pts[:, 2], target, GEOM)
            ea, eb = chamber_to_image(before, 0.0)
            fa, fb = chamber_to_image(after, 0.0)
            assert fa == pytest.approx(ea, abs=1e-12) and fb == pytest.approx(eb, abs=1e-12)
        a, b = chamber_to_image(specimen_to_chamber(*q, target, GEOM), 52.0, (0, 0), phi)
        # The vertical (unrotated) component is gone; the horizontal one stays.
        _, ub = rot_2d(phi) @ np.array([a, b])
        assert abs(ub) < 1e-12
        if phi == 0.0:
            assert (a, b) == pytest.approx((dx, 0.0), abs=1e-12)


def test_beam_coincidence_brings_feature_to_eucentric_point(rng: np.random.Generator) -> None:
    for _ in range(100):
        start = random_pose(rng)
        p = rng.uniform(-20e-6, 20e-6, 3)
        rot_e, rot_i = rng.uniform(0, 360, 2)
        sh_e, sh_i = tuple(rng.uniform(-5e-6, 5e-6, 2)), tuple(rng.uniform(-5e-6, 5e-6, 2))
        off_e = tuple(float(c) for c in chamber_to_image(p, 0.0, sh_e, rot_e))
        off_i = tuple(float(c) for c in chamber_to_image(p, 52.0, sh_i, rot_i))
        target = beam_coincidence_move(
            off_e,
            off_i,
            start,
            GEOM,
            rot_e,
            rot_i,
            sh_e,
            sh_i,  # type: ignore[arg-type]
        )
        q = chamber_to_specimen(p, start, GEOM)  # the feature, as a specimen point
        assert specimen_to_chamber(*q, target, GEOM) == pytest.approx([0, 0, 0], abs=1e-12)


def test_coincidence_equals_vertical_move_when_centred_in_sem() -> None:
    start = pose(x=1e-4, y=-2e-4, z=4.1e-3, r=0.0, t=35.0)
    a = beam_coincidence_move((0.0, 0.0), (0.0, 3e-6), start, GEOM)
    b = vertical_move(3e-6, start, GEOM)
    assert as_array(a) == pytest.approx(as_array(b), abs=1e-15)


def test_specimen_to_raw_puts_point_at_eucentric_point(rng: np.random.Generator) -> None:
    for _ in range(50):
        u, v, h = rng.uniform(-1e-3, 1e-3, 3)
        r, t = rng.uniform(0, 360), rng.uniform(-10, 60)
        target = specimen_to_raw(u, v, r, t, GEOM, h_m=h)
        assert specimen_to_chamber(u, v, h, target, GEOM) == pytest.approx([0, 0, 0], abs=1e-15)
        assert raw_to_specimen(target, GEOM) == pytest.approx([u, v, h], abs=1e-15)


def test_specimen_to_raw_by_hand() -> None:
    # r = r_ref: S·(u, 0, 0) = (u, 0, 0), so x = -u; (0, v, 0) → (0, v·cos35, -v·sin35),
    # so y = -v·cos35 and z = z_e + v·sin35.
    target = specimen_to_raw(1e-3, 2e-3, 0.0, 35.0, GEOM)
    assert as_array(target) == pytest.approx(
        [-1e-3, -2e-3 * C35, 4e-3 + 2e-3 * S35, 0.0, 35.0], abs=1e-15
    )


def test_specimen_move_stays_in_plane(rng: np.random.Generator) -> None:
    for _ in range(50):
        start = random_pose(rng)
        du, dv = rng.uniform(-1e-4, 1e-4, 2)
        target = specimen_move(du, dv, start, GEOM)
        assert raw_to_specimen(target, GEOM) - raw_to_specimen(start, GEOM) == pytest.approx(
            [-du, -dv, 0.0], abs=1e-15
        )
        # Each specimen point moves by (du, dv) along the specimen axes (chamber frame):
        p0 = specimen_to_chamber(0.0, 0.0, 0.0, start, GEOM)
        p1 = specimen_to_chamber(0.0, 0.0, 0.0, target, GEOM)
        expected = specimen_to_chamber(du, dv, 0.0, start, GEOM) - p0
        assert p1 - p0 == pytest.approx(expected, abs=1e-15)
