"""run_milling on the twin: images labelled before/after in tiled order, a current the
readback does not confirm fails the run before anything is drawn, and a pause during
milling aborts (never replays) with the beam stopped, the imaging current restored and
every image taken so far kept."""

from __future__ import annotations

import threading

import bluesky.plan_stubs as bps
import h5py
import pytest
from bluesky.utils import RunEngineInterrupted

from fibsem_ophyd.milling import default_protocol, milling_stages
from plans.milling import IMAGES, MillingCurrentError, run_milling

from .conftest import make_microscope


def _at_site(RE, m):
    RE(bps.mv(m.stage, m.sites["lamella_01"]))
    RE(bps.mv(m.ion_beam.resolution, "768x512"))


def _docs(RE, plan):
    docs: list[tuple[str, dict]] = []
    RE(plan, lambda name, doc: docs.append((name, doc)))
    return docs


def test_images_are_labelled_and_milling_removes_material(RE, microscope):
    m = microscope
    _at_site(RE, m)
    stages = milling_stages(default_protocol(), "setup")
    docs = _docs(RE, run_milling(m, stages))
    image_desc = next(d for n, d in docs if n == "descriptor" and d["name"] == IMAGES)
    events = [d["data"] for n, d in docs if n == "event" and d["descriptor"] == image_desc["uid"]]
    labels = [(e[m.milling.stage_name.name], e[m.milling.phase.name]) for e in events]
    assert labels == [(s.name, p) for s in stages for p in ("before", "after")]
    stop = next(d for n, d in docs if n == "stop")
    assert stop["exit_status"] == "success"
    assert m.backend.milling.running is False
    start = next(d for n, d in docs if n == "start")
    assert [s["name"] for s in start["milling_stages"]] == [s.name for s in stages]


def test_unconfirmed_current_fails_before_drawing(RE, microscope):
    m = microscope
    _at_site(RE, m)
    imaging_current = m.backend.ion.current_a
    m.backend.world.faults.ion_current_readback_factor = 0.5
    docs: list[tuple[str, dict]] = []
    with pytest.raises(MillingCurrentError):
        RE(run_milling(m, milling_stages(default_protocol(), "rough")[:1]),
           lambda n, d: docs.append((n, d)))  # fmt: skip
    stop = next(d for n, d in docs if n == "stop")
    assert stop["exit_status"] == "fail"
    assert "does not confirm" in stop["reason"]
    assert m.backend.milling.drawn is None  # nothing was drawn
    assert not m.backend.world.specimen.patches  # nothing was milled
    m.backend.world.faults.ion_current_readback_factor = 1.0
    assert m.backend.ion.current_a == pytest.approx(imaging_current)


def test_pause_during_milling_aborts_and_restores(RE, frames_dir):
    m = make_microscope(frames_dir, milling_time_scale=0.01)  # 1 twin-s = 10 ms of wall time
    _at_site(RE, m)
    imaging_current = m.backend.ion.current_a
    stage = milling_stages(default_protocol(), "rough")[0]
    docs: list[tuple[str, dict]] = []
    milling = threading.Event()

    def watch(name, doc):
        docs.append((name, doc))
        progress = doc["data"].get(m.milling.progress.name) if name == "event" else None
        if progress is not None and 0.05 < progress < 0.9:
            milling.set()

    def press_pause():  # as Ctrl-C would, from outside the RunEngine's thread
        if milling.wait(timeout=60):
            RE.request_pause(defer=False)

    presser = threading.Thread(target=press_pause, daemon=True)
    presser.start()
    with pytest.raises(RunEngineInterrupted):
        RE(run_milling(m, [stage]), watch)
    presser.join(timeout=5)
    assert milling.is_set(), "milling never reported progress"
    stop = next(d for n, d in docs if n == "stop")
    # With the checkpoint cleared, bluesky cannot pause here: the run ends instead
    # (FailedPause) and nothing is left to resume, so the mill can never be replayed.
    assert stop["exit_status"] in ("abort", "fail")
    assert RE.state == "idle"
    assert m.backend.milling.running is False
    assert m.backend.ion.current_a == pytest.approx(imaging_current)
    (frames,) = frames_dir.glob("*.h5")
    with h5py.File(frames, "r") as h5:
        assert h5["/entry/data/data"].shape[0] == 1  # the 'before' image is kept
