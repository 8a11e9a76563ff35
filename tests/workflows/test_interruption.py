"""Interrupting `autolamella` with a real RunEngine, as bluesky means it:

- pause works at every kind of point (detection, alignment, milling, after milling, a
  single Ctrl-C's deferred pause) and `RE.resume()` continues to a finished lamella;
- abort and stop end the whole workflow at once: the open runs' stop documents carry
  abort/success and the operator's reason, milling is halted, the imaging current is
  back, the needles are out; the stage is recorded as interrupted (not failed) and
  resuming the experiment finishes it;
- `RE.halt()` stops the mill and leaves both beams blanked (no cleanup plan runs).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from bluesky.utils import RunEngineInterrupted

from fibsem_ophyd.connect import twin_lamella_report
from fibsem_ophyd.experiment import Experiment
from fibsem_ophyd.milling import default_protocol
from plans.workflow import autolamella, workflow_stages
from profiles.safety import install_halt_safety

from .conftest import DRIFTING_TWIN, make_microscope
from .interrupt import Presser, milling_progress, run_resuming

# Timing-sensitive (pauses, races, event-loop gaps): run alone after the parallel
# part of the suite (see the Makefile's test target).
pytestmark = pytest.mark.serial

PROTOCOL = default_protocol("on-grid")


def _fast(m) -> None:
    """From now on the twin mills without wall-time pacing."""
    w = m.backend.world
    w.params = w.params.model_copy(update={"milling_time_scale": 0.0})


def _in_run(presser: Presser, plan_name: str, **md) -> bool:
    """The most recent start document is `plan_name` with this metadata."""
    starts = presser.starts()
    return (
        bool(starts)
        and starts[-1]["plan_name"] == plan_name
        and all(starts[-1].get(k) == v for k, v in md.items())
    )


def _event(presser: Presser, stream_prefix: str):
    descriptors: dict[str, str] = {}

    def when(name: str, doc: dict) -> bool:
        if name == "descriptor":
            descriptors[doc["uid"]] = doc["name"]
        return name == "event" and descriptors.get(doc["descriptor"], "").startswith(stream_prefix)

    return when


def test_pause_and_resume_anywhere_finishes_the_lamella(RE, frames_dir, tmp_path):
    m = make_microscope(frames_dir, milling_time_scale=0.002, **DRIFTING_TWIN)
    sites = {"lamella_01": m.sites["lamella_01"]}
    exp = Experiment.create(tmp_path / "exp", sites)
    pause = lambda R: R.request_pause()  # noqa: E731
    states: list[tuple[str, bool]] = []

    def starting(plan_name: str, stage: str):
        return lambda n, d: (
            n == "start" and d["plan_name"] == plan_name and (d.get("workflow_stage") == stage)
        )

    defer = lambda R: R.request_pause(defer=True)  # noqa: E731  (a single Ctrl-C)
    presser = Presser(
        RE,
        (lambda n, d: n == "event" and _in_run(presser, "centre_on_site"), pause),
        (lambda n, d: n == "event" and _in_run(presser, "align"), pause),
        (milling_progress(m.milling.progress.name), pause),
        (starting("take_reference", "setup"), pause),  # after a mill
        # A single Ctrl-C in the thinning: lands at the next checkpoint. Any run of
        # rough or polish will do (the next step is watched only once the fourth pause
        # is resumed, by which time rough's milling may have begun).
        (lambda n, d: n == "start" and d.get("workflow_stage") in ("rough", "polish"), defer),
        each_pauses=True,
    )

    def paused() -> None:
        states.append((RE.state, m.backend.milling.paused))

    pauses = run_resuming(RE, autolamella(m, sites, PROTOCOL, exp), presser, paused)
    failed = Experiment.load(tmp_path / "exp").lamellae["lamella_01"].failed
    seen = [(d["plan_name"], d.get("workflow_stage")) for d in presser.starts()][-4:]
    assert presser.done and pauses == 5, (pauses, states, failed, seen)
    assert all(state == "paused" for state, _ in states)
    assert states[2][1], "the mill was not paused during the pause"
    lam = Experiment.load(tmp_path / "exp").lamellae["lamella_01"]
    assert lam.failed is None and lam.stages_done == workflow_stages(PROTOCOL)
    assert all(s["exit_status"] == "success" for s in presser.stops())
    report = twin_lamella_report(m, "lamella_01")
    target = PROTOCOL.lamella.target_thickness_m
    assert abs(report["thickness_m"] - target) <= 20e-9, report
    assert report["centre_error_m"] <= 0.5e-6, report


def test_abort_ends_the_workflow_and_resuming_finishes_it(RE, frames_dir, tmp_path):
    m = make_microscope(frames_dir, milling_time_scale=0.03)
    imaging_current = m.backend.ion.current_a
    sites = {name: m.sites[name] for name in ("lamella_01", "lamella_02")}
    exp = Experiment.create(tmp_path / "exp", sites)
    setup_mill = milling_progress(m.milling.progress.name)
    presser = Presser(
        RE,
        (lambda n, d: setup_mill(n, d) and _in_run(presser, "run_milling", lamella="lamella_01",
                                                   workflow_stage="setup"),
         lambda R: R.request_pause()),
    )  # fmt: skip
    with pytest.raises(RunEngineInterrupted):
        RE(autolamella(m, sites, PROTOCOL, exp), presser)
    assert RE.state == "paused" and m.backend.milling.paused
    runs_before = len(presser.starts())
    t0 = time.monotonic()
    RE.abort("operator: grid cracked")
    assert time.monotonic() - t0 < 5.0
    assert RE.state == "idle"
    assert len(presser.starts()) == runs_before  # nothing ran after the abort
    last = presser.stops()[-1]
    assert last["exit_status"] == "abort" and last["reason"] == "operator: grid cracked"
    assert not m.backend.milling.running
    assert m.backend.ion.current_a == pytest.approx(imaging_current)
    assert not m.backend.manipulator.inserted and not m.backend.gis.inserted

    saved = Experiment.load(tmp_path / "exp")
    first, second = saved.lamellae["lamella_01"], saved.lamellae["lamella_02"]
    assert first.failed is None and "setup" not in first.stages_done
    assert (first.history[-1].stage, first.history[-1].outcome) == ("setup", "interrupted")
    assert [h.stage for h in second.history] == ["select"]  # site 2 never reached setup

    _fast(m)
    RE(autolamella(m, sites, PROTOCOL, saved))
    for name in sites:
        lam = saved.lamellae[name]
        assert lam.failed is None and lam.stages_done == workflow_stages(PROTOCOL), name


def test_stop_ends_the_workflow_as_success(RE, frames_dir, tmp_path):
    m = make_microscope(frames_dir)
    sites = {name: m.sites[name] for name in ("lamella_01", "lamella_02")}
    exp = Experiment.create(tmp_path / "exp", sites)
    presser = Presser(
        RE, (lambda n, d: n == "event" and _in_run(presser, "centre_on_site"),
             lambda R: R.request_pause()),
    )  # fmt: skip
    with pytest.raises(RunEngineInterrupted):
        RE(autolamella(m, sites, PROTOCOL, exp), presser)
    runs_before = len(presser.starts())
    RE.stop()
    assert RE.state == "idle"
    assert len(presser.starts()) == runs_before
    assert presser.stops()[-1]["exit_status"] == "success"
    lam = Experiment.load(tmp_path / "exp").lamellae["lamella_01"]
    assert lam.failed is None and lam.stages_done == []
    assert lam.history[-1].outcome == "interrupted"


def test_halt_stops_the_mill_and_blanks_the_beams(RE, frames_dir, tmp_path):
    m = make_microscope(frames_dir, milling_time_scale=0.03)
    install_halt_safety(RE, m)
    sites = {"lamella_01": m.sites["lamella_01"]}
    exp = Experiment.create(tmp_path / "exp", sites)
    presser = Presser(RE, (milling_progress(m.milling.progress.name), lambda R: R.halt()))
    with pytest.raises(RunEngineInterrupted):
        RE(autolamella(m, sites, PROTOCOL, exp), presser)
    assert RE.state == "idle"
    assert m.backend.electron.blanked and m.backend.ion.blanked
    deadline = time.monotonic() + 2.0  # the twin's mill ends within one chunk
    while m.backend.milling.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not m.backend.milling.running
    (patch,) = m.backend.world.specimen.patches
    depth = patch.height_delta_m.copy()
    time.sleep(0.3)
    assert np.array_equal(patch.height_delta_m, depth)  # no more material removed
    assert m.milling.drawn is not None and not m.milling.busy  # stopped, not finished
    lam = Experiment.load(tmp_path / "exp").lamellae["lamella_01"]
    assert lam.failed is None and lam.history[-1].outcome == "interrupted"
