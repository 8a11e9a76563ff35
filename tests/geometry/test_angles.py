"""Flat to beam and milling angle ↔ tilt (docs/coordinates.md)."""

from __future__ import annotations

import numpy as np
import pytest

from fibsem_ophyd.geometry import (
    StageGeometry,
    flat_to_beam,
    milling_angle,
    source_direction,
    specimen_normal,
    tilt_for_milling_angle,
)

from .geom_helpers import GEOM, pose


def test_flat_to_beam_defaults_by_hand() -> None:
    # electron: s(t - p) = s(0) ⇒ t = p = 35 at r_ref; ion: s(t + p) = s(52) ⇒ t = 17 at r_180.
    e = flat_to_beam("electron", GEOM)
    i = flat_to_beam("ion", GEOM)
    assert (e.r_deg, e.t_deg, e.x_m) == (0.0, 35.0, None)
    assert (i.r_deg, i.t_deg) == (180.0, 17.0)


def test_flat_to_beam_normal_parallel_to_source(rng: np.random.Generator) -> None:
    for _ in range(50):
        ref = rng.uniform(0, 180)
        geom = StageGeometry(
            electron_column_tilt_deg=rng.uniform(0, 10),
            ion_column_tilt_deg=rng.uniform(30, 60),
            shuttle_pre_tilt_deg=rng.uniform(0, 45),
            rotation_reference_deg=ref,
            rotation_180_deg=ref + 180.0,
        )
        for beam in ("electron", "ion"):
            rt = flat_to_beam(beam, geom)  # type: ignore[arg-type]
            n = specimen_normal(pose(r=rt.r_deg, t=rt.t_deg), geom)  # type: ignore[arg-type]
            s = source_direction(geom.column_tilt_deg(beam))  # type: ignore[arg-type]
            assert n @ s == pytest.approx(1.0, abs=1e-12)


def test_flat_to_ion_needs_consistent_rotation_180() -> None:
    with pytest.raises(ValueError, match="rotation_180_deg"):
        flat_to_beam("ion", StageGeometry(rotation_180_deg=170.0))


def test_milling_angle_by_hand() -> None:
    # Flat to the ion beam: the beam is normal to the surface → 90°.
    assert milling_angle(pose(r=180.0, t=17.0), GEOM) == pytest.approx(90.0)
    # Flat to the electron beam: normal = z, 52° from the ion beam → 90 - 52 = 38°.
    assert milling_angle(pose(r=0.0, t=35.0), GEOM) == pytest.approx(38.0)
    # r_ref, t = 15: normal s(15 - 35) = s(-20), 72° from s(52) → 90 - 72 = 18°
    # (in general m = t + 90 - 52 - 35 = t + 3 at r_ref).
    assert milling_angle(pose(r=0.0, t=15.0), GEOM) == pytest.approx(18.0)
    assert tilt_for_milling_angle(18.0, GEOM).t_deg == pytest.approx(15.0)
    # r_180: t + p = 52 - (90 - m) ⇒ m = 80 at t = 7.
    assert tilt_for_milling_angle(80.0, GEOM, rotation="180").t_deg == pytest.approx(7.0)


@pytest.mark.parametrize("rotation", ["reference", "180"])
def test_milling_angle_round_trip(rotation: str, rng: np.random.Generator) -> None:
    for m in rng.uniform(-20.0, 90.0, 100):
        rt = tilt_for_milling_angle(m, GEOM, rotation=rotation)  # type: ignore[arg-type]
        expected_r = 0.0 if rotation == "reference" else 180.0
        assert rt.r_deg == expected_r
        assert milling_angle(pose(r=expected_r, t=rt.t_deg), GEOM) == pytest.approx(m, abs=1e-9)  # type: ignore[arg-type]


def test_milling_angle_does_not_depend_on_translation() -> None:
    a = milling_angle(pose(x=1e-3, y=-1e-3, z=3e-3, r=0.0, t=10.0), GEOM)
    assert a == pytest.approx(milling_angle(pose(r=0.0, t=10.0), GEOM))
