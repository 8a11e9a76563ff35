"""Pausing milling with a real RunEngine on the twin: a pause pauses the mill (no twin
time, no material) and `RE.resume()` finishes it — the specimen ends exactly as after an
uninterrupted mill (nothing milled twice, nothing skipped). Abort while paused ends the
run at once with the operator's reason, the mill halted and the imaging current back.
Pausing keeps working after an earlier mill in the same `RE(...)` call."""

from __future__ import annotations

import itertools
import time

import bluesky.plan_stubs as bps
import numpy as np
import pytest
from bluesky.utils import RunEngineInterrupted

from fibsem_ophyd.milling import default_protocol, milling_stages
from plans.milling import run_milling
from profiles.safety import install_halt_safety

from .conftest import make_microscope
from .interrupt import Presser, milling_progress

# Timing-sensitive (pauses, races, event-loop gaps): run alone after the parallel
# part of the suite (see the Makefile's test target).
pytestmark = pytest.mark.serial

SCALE = 0.03  # wall seconds per twin second of milling: the fiducial takes ~1.1 s


def _at_site(RE, m):
    RE(bps.mv(m.stage, m.sites["lamella_01"]))
    RE(bps.mv(m.ion_beam.resolution, "768x512"))


def _milled(m) -> np.ndarray:
    (patch,) = m.backend.world.specimen.patches
    return patch.height_delta_m.copy()


def _stage(name: str):
    return next(s for s in milling_stages(default_protocol(), "setup") if s.name == name)


def test_pause_pauses_the_mill_and_resume_finishes_it_once(RE, tmp_path):
    reference = make_microscope(tmp_path / "a", milling_time_scale=SCALE)
    _at_site(RE, reference)
    RE(run_milling(reference, [_stage("fiducial")]))
    expected = _milled(reference)

    m = make_microscope(tmp_path / "b", milling_time_scale=SCALE)
    _at_site(RE, m)
    presser = Presser(RE, (milling_progress(m.milling.progress.name), lambda R: R.request_pause()))
    with pytest.raises(RunEngineInterrupted):
        RE(run_milling(m, [_stage("fiducial")]), presser)
    assert RE.state == "paused"
    assert m.backend.milling.paused and m.backend.milling.running
    clock, depth = m.backend.clock_s(), _milled(m)
    time.sleep(0.3)  # paused: the mill neither advances nor removes material
    assert m.backend.clock_s() == clock
    assert np.array_equal(_milled(m), depth)
    assert 0.0 < -depth.min() < -expected.min()  # partly milled

    RE.resume()
    assert RE.state == "idle"
    (stop,) = presser.stops()
    assert stop["exit_status"] == "success"
    assert np.allclose(_milled(m), expected, atol=1e-12)  # not re-milled, not skipped
    progress = [d["data"][m.milling.progress.name] for n, d in presser.docs
                if n == "event" and m.milling.progress.name in d["data"]]  # fmt: skip
    assert progress[-1] == pytest.approx(1.0)
    assert all(b >= a for a, b in itertools.pairwise(progress))


def test_abort_while_paused_ends_at_once_with_the_reason(RE, frames_dir):
    m = make_microscope(frames_dir, milling_time_scale=SCALE)
    _at_site(RE, m)
    imaging_current = m.backend.ion.current_a
    presser = Presser(RE, (milling_progress(m.milling.progress.name), lambda R: R.request_pause()))
    with pytest.raises(RunEngineInterrupted):
        RE(run_milling(m, [_stage("fiducial"), _stage("stress-relief")]), presser)
    depth = _milled(m)
    t0 = time.monotonic()
    RE.abort("operator: wrong site")
    assert time.monotonic() - t0 < 5.0
    assert RE.state == "idle"
    (stop,) = presser.stops()
    assert stop["exit_status"] == "abort"
    assert stop["reason"] == "operator: wrong site"
    assert not m.backend.milling.running
    assert m.backend.ion.current_a == pytest.approx(imaging_current)
    assert np.array_equal(_milled(m), depth)  # nothing milled after the abort
    assert m.milling.drawn is None or not m.milling.busy


def test_pause_works_after_an_earlier_mill_in_the_same_call(RE, frames_dir):
    m = make_microscope(frames_dir, milling_time_scale=SCALE)
    _at_site(RE, m)
    second = _stage("stress-relief")

    def second_mill(name: str, doc: dict) -> bool:
        return name == "descriptor" and doc["name"] == f"{second.name}_progress"

    def two_runs():
        yield from run_milling(m, [_stage("fiducial")])
        yield from run_milling(m, [second])

    presser = Presser(RE, (second_mill, lambda R: R.request_pause()))
    with pytest.raises(RunEngineInterrupted):
        RE(two_runs(), presser)
    assert RE.state == "paused"  # not aborted by a FailedPause
    RE.resume()
    stops = presser.stops()
    assert [s["exit_status"] for s in stops] == ["success", "success"]
    assert not m.backend.milling.running


def test_halt_while_paused_leaves_the_beams_blanked(RE, frames_dir):
    m = make_microscope(frames_dir, milling_time_scale=SCALE)
    install_halt_safety(RE, m)
    _at_site(RE, m)
    presser = Presser(RE, (milling_progress(m.milling.progress.name), lambda R: R.request_pause()))
    with pytest.raises(RunEngineInterrupted):
        RE(run_milling(m, [_stage("fiducial")]), presser)
    depth = _milled(m)
    RE.halt()
    assert RE.state == "idle"
    assert m.backend.ion.blanked and m.backend.electron.blanked
    assert not m.backend.milling.running and not m.milling.busy
    time.sleep(0.2)
    assert np.array_equal(_milled(m), depth)
    with pytest.raises(Exception, match="blanked"):  # nothing mills until unblanked
        RE(run_milling(m, [_stage("fiducial")]))
