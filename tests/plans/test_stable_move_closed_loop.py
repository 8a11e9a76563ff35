"""Closed loop on the twin: after one stable_move the feature that was at a known image
offset is at the image centre (within 2 px), in both beams, at SEM-flat, FIB-flat and
milling-angle tilts, with the rotation at reference and at reference + 180°."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import pytest

from fibsem_ophyd.geometry import raw_to_specimen, specimen_to_raw, tilt_for_milling_angle
from plans.movement import stable_move

from ._images import centre, grab, offset_to_pixels, pixel_size, residual_px

TILTS = {"sem_flat": 35.0, "fib_flat": 17.0, "milling": None}


@pytest.fixture
def at_site(RE, microscope):
    m = microscope
    for beam in ("electron", "ion"):
        RE(bps.mv(m.beam(beam).resolution, "768x512", m.beam(beam).hfw_m, 60e-6))
    return next(iter(m.sites.values()))


@pytest.mark.parametrize("beam", ["electron", "ion"])
@pytest.mark.parametrize("tilt", list(TILTS))
@pytest.mark.parametrize("rotation", ["reference", "180"])
def test_feature_comes_to_centre(RE, microscope, at_site, beam, tilt, rotation):
    m = microscope
    geom = m.geometry
    r = geom.rotation_reference_deg if rotation == "reference" else geom.rotation_180_deg
    t = TILTS[tilt]
    if t is None:
        t = tilt_for_milling_angle(15.0, geom).t_deg
    u, v, _ = raw_to_specimen(at_site, geom)
    RE(bps.mv(m.stage, specimen_to_raw(u, v, r, t, geom)))
    before = grab(RE, m, beam)
    ps = pixel_size(RE, m, beam)
    dx_m, dy_m = 0.18 * 768 * ps, -0.12 * 768 * ps  # right and down of centre
    at = offset_to_pixels(before, dx_m, dy_m, ps)
    RE(stable_move(m, dx_m, dy_m, beam))
    after = grab(RE, m, beam)
    assert residual_px(before, at, after, centre(after)) < 2.0
