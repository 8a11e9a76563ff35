"""Closed loop on the twin: vertical_move centres an ion-image feature without moving
the SEM view; beam_coincidence centres one feature in both beams (checked against the
twin's true pose and by image registration)."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import numpy as np
import pytest

from fibsem_ophyd import geometry as geo
from fibsem_ophyd.backend import StagePosition
from plans.movement import beam_coincidence, vertical_move
from plans.stubs import read_pose

from ._images import centre, grab, offset_to_pixels, pixel_size, residual_px, set_small


def _true_pose(m) -> StagePosition:
    p = m.backend.world.true_pose()
    return StagePosition(x_m=p.x_m, y_m=p.y_m, z_m=p.z_m, r_deg=p.r_deg, t_deg=p.t_deg)


def _offsets(m, uvh, pose: StagePosition) -> dict[str, np.ndarray]:
    """Image offsets (metres, x right, y up) of specimen point `uvh` in both beams."""
    p = geo.specimen_to_chamber(*uvh, pose, m.geometry)
    out = {}
    for beam in ("electron", "ion"):
        a, b = geo.chamber_to_image(p, m.geometry.column_tilt_deg(beam))
        out[beam] = np.array([float(a), float(b)])
    return out


@pytest.mark.parametrize("orientation", ["sem_flat", "milling"])
def test_vertical_move_centres_in_ion_and_keeps_sem(RE, microscope, orientation):
    m = microscope
    set_small(RE, m, 60e-6)
    site = next(iter(m.sites.values()))
    if orientation == "milling":
        u, v, _ = geo.raw_to_specimen(site, m.geometry)
        t = geo.tilt_for_milling_angle(15.0, m.geometry).t_deg
        site = geo.specimen_to_raw(u, v, site.r_deg, t, m.geometry)
    RE(bps.mv(m.stage, site))
    ion_before, sem_before = grab(RE, m, "ion"), grab(RE, m, "electron")
    ps = pixel_size(RE, m, "ion")
    dy_m = -0.15 * 768 * ps  # below the centre of the ion image
    at = offset_to_pixels(ion_before, 0.0, dy_m, ps)
    RE(vertical_move(m, dy_m))
    ion_after, sem_after = grab(RE, m, "ion"), grab(RE, m, "electron")
    ion_residual = residual_px(ion_before, at, ion_after, centre(ion_after))
    sem_motion = residual_px(sem_before, centre(sem_before), sem_after, centre(sem_after))
    print(orientation, f"ion residual {ion_residual:.2f} px, SEM motion {sem_motion:.2f} px")
    assert ion_residual < 2.0
    assert sem_motion < 2.0


def test_beam_coincidence_centres_a_feature_in_both_beams(RE, microscope):
    m = microscope
    set_small(RE, m, 60e-6)
    site = next(iter(m.sites.values()))
    # The specimen 10 µm (raw z) above the eucentric height: the beams do not coincide on it.
    start = StagePosition(**{**site.model_dump(), "z_m": site.z_m + 10e-6})
    RE(bps.mv(m.stage, start))
    u, v, _ = geo.raw_to_specimen(site, m.geometry)
    uf, vf = u + 4e-6, v + 3e-6
    h = m.backend.world.specimen.reference_height_m(uf, vf)
    feature = (uf, vf, h)
    pose = RE(read_pose(m)).plan_result
    off = _offsets(m, feature, pose)  # the "detector": geometry and the pose read back
    assert np.hypot(*off["ion"]) > 3e-6  # the feature is really off-centre in the ion view
    sem_before = grab(RE, m, "electron")
    ps = pixel_size(RE, m, "electron")
    at = offset_to_pixels(sem_before, *off["electron"], ps)

    RE(beam_coincidence(m, tuple(off["electron"]), tuple(off["ion"])))

    true_off = _offsets(m, feature, _true_pose(m))
    for beam in ("electron", "ion"):
        err = float(np.hypot(*true_off[beam]))
        print(beam, f"true offset after coincidence {err * 1e9:.1f} nm")
        assert err < 1e-6
    sem_after = grab(RE, m, "electron")
    assert residual_px(sem_before, at, sem_after, centre(sem_after)) < 2.0
