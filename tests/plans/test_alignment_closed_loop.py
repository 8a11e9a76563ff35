"""Closed loop on a twin with stage error and drift: returning to a site leaves the view
off by many pixels; `align` brings it back to ≤ 0.5 px of the reference, measured on a
fresh image by an independent registration (scikit-image). Every step's shift and score
are event data of the run."""

from __future__ import annotations

import numpy as np
import pytest
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider
from skimage.registration import phase_cross_correlation

from fibsem_ophyd.alignment import register
from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.connect import connect_microscope
from plans.alignment import align
from plans.movement import move_absolute
from plans.state import save_state

from ._images import collect, events_by_stream, grab, set_small

TWIN = {
    "stage_position_error_m": 2e-6,
    "stage_drift_m_per_s": (1e-9, -1e-9, 0.0),
    "seed": 3,
}


def independent_shift_px(reference: np.ndarray, image: np.ndarray) -> float:
    """|shift| (pixels) between two frames by scikit-image phase correlation (used for
    small residuals: without windowing it can lock onto a wrong peak for shifts of tens
    of pixels on the SEM's grid texture)."""
    shift, _, _ = phase_cross_correlation(
        reference.astype(np.float32), image.astype(np.float32), upsample_factor=50
    )
    return float(np.hypot(*shift))


@pytest.fixture
def noisy_stage(RE, frames_dir):
    provider = StaticPathProvider(UUIDFilenameProvider(), frames_dir)
    m = connect_microscope(path_provider=provider, twin=TWIN)
    set_small(RE, m, 60e-6)
    return m


def _return_to_site(RE, m, site: StagePosition) -> None:
    RE(move_absolute(m, StagePosition(x_m=site.x_m + 150e-6)))
    RE(move_absolute(m, site))


@pytest.mark.parametrize("beam", ["electron", "ion"])
def test_alignment_needed_and_reaches_half_a_pixel(RE, noisy_stage, beam):
    m = noisy_stage
    site = next(iter(m.sites.values()))
    RE(move_absolute(m, site))
    reference = grab(RE, m, beam)
    settings = getattr(RE(save_state(m)).plan_result, beam)
    _return_to_site(RE, m, site)
    # Without alignment the stage error leaves the view far off.
    moved = register(reference, grab(RE, m, beam))
    unaligned = float(np.hypot(moved.shift_x_px, moved.shift_y_px))
    assert moved.score > 0.5
    print(beam, f"error without alignment {unaligned:.2f} px")
    assert unaligned > 5.0

    result, docs = collect(RE, align(m, beam, reference, settings, max_steps=5, threshold_px=0.2))
    residual = independent_shift_px(reference, grab(RE, m, beam))
    print(beam, f"after align ({result['steps']} steps): residual {residual:.3f} px", result)
    assert residual <= 0.5

    # Every step's shift and score are event data; the last one is the returned result.
    events = events_by_stream(docs)["primary"]
    aligner = m.aligner(beam).name
    assert len(events) == result["steps"] + 1 >= 2
    for e in events:
        assert {f"{aligner}-shift_x_px", f"{aligner}-shift_y_px", f"{aligner}-score"} <= set(e)
    assert events[0][f"{aligner}-score"] > 0.5
    first = np.hypot(events[0][f"{aligner}-shift_x_px"], events[0][f"{aligner}-shift_y_px"])
    assert first == pytest.approx(unaligned, abs=2.0)
    assert events[-1][f"{aligner}-shift_x_px"] == pytest.approx(result["shift_x_px"])
