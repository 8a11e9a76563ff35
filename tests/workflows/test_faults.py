"""Faults injected in the twin (`world.faults`) and what the system does, with a real
RunEngine: each fails in bounded time with a reason in the run's stop document, and no
beam is left on a site."""

from __future__ import annotations

import time

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import pytest
from bluesky.plans import count
from bluesky.run_engine import call_in_bluesky_event_loop
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

from fibsem_ophyd.experiment import Experiment
from fibsem_ophyd.milling import default_protocol, milling_stages
from plans.milling import run_milling
from plans.workflow import VacuumLostError, mill_lamella


def _docs(RE, plan) -> tuple[list[tuple[str, dict]], BaseException | None]:
    docs: list[tuple[str, dict]] = []
    try:
        RE(plan, lambda name, doc: docs.append((name, doc)))
    except Exception as err:
        return docs, err
    return docs, None


def _stops(docs: list[tuple[str, dict]]) -> list[dict]:
    return [d for n, d in docs if n == "stop"]


@pytest.mark.serial  # wall-clock timeouts
def test_a_device_that_never_connects_is_named_in_bounded_time(RE, frames_dir) -> None:
    from fibsem_ophyd.connect import build_microscope

    m = build_microscope(path_provider=StaticPathProvider(UUIDFilenameProvider(), frames_dir))
    m.backend.world.faults.unconnectable = frozenset({"stage"})
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match=r"stage: did not answer within 0.5 s"):
        call_in_bluesky_event_loop(m.connect(timeout=0.5))
    assert time.monotonic() - t0 < 5.0
    m.backend.world.faults.unconnectable = frozenset()
    call_in_bluesky_event_loop(m.connect(timeout=5.0))  # the fault gone, it connects


@pytest.mark.serial  # wall-clock timeouts
def test_a_stage_move_that_never_arrives_is_stopped_and_fails_the_run(RE, microscope) -> None:
    m = microscope
    m.stage.move_timeout_margin_s = 0.3
    before = m.backend.stage.position()
    m.backend.world.faults.stage_move_hangs = True
    stops: list[int] = []
    stop_backend = m.backend.stage.stop
    m.backend.stage.stop = lambda: stops.append(1) or stop_backend()
    plan = bpp.run_wrapper(bps.mv(m.stage.x, before.x_m + 20e-6))
    t0 = time.monotonic()
    docs, err = _docs(RE, plan)
    assert err is not None and time.monotonic() - t0 < 10.0
    (stop,) = _stops(docs)
    assert stop["exit_status"] == "fail"
    assert "did not reach its target" in stop["reason"] and "stopped" in stop["reason"]
    assert stops == [1]  # stop issued
    assert m.backend.stage.position() == before


@pytest.mark.serial  # wall-clock timeouts
def test_a_stalled_mill_is_halted_and_fails_the_run(RE, microscope) -> None:
    m = microscope
    RE(bps.mv(m.stage, m.sites["lamella_01"]))
    RE(bps.mv(m.ion_beam.resolution, "768x512"))
    m.milling.stall_timeout_s = 0.5
    m.backend.world.faults.milling_stalls_at = 0.0
    docs, err = _docs(RE, run_milling(m, milling_stages(default_protocol(), "rough")[:1]))
    assert isinstance(err, Exception)
    (stop,) = _stops(docs)
    assert stop["exit_status"] == "fail"
    assert "stalled at" in stop["reason"] and "milling halted" in stop["reason"]
    assert m.backend.milling.running is False  # the beam no longer mills the site
    assert RE.state == "idle"


def test_a_beam_that_trips_mid_frame_fails_the_run_with_the_reason(RE, microscope) -> None:
    m = microscope
    m.backend.world.faults.beam_trips = "electron"
    docs, err = _docs(RE, count([m.sem], num=1))
    assert err is not None
    (stop,) = _stops(docs)
    assert stop["exit_status"] == "fail" and "tripped off" in stop["reason"]
    assert m.backend.world.electron.on is False
    assert m.backend.world.faults.beam_trips is None  # one-shot


def test_vacuum_lost_mid_workflow_ends_it_safely(RE, microscope, tmp_path) -> None:
    m = microscope
    site = "lamella_01"
    exp = Experiment.create(tmp_path / "exp", {site: m.sites[site]})
    m.backend.world.faults.vacuum_lost_at_s = m.backend.clock_s() + 5.0
    docs, err = _docs(RE, mill_lamella(m, site, default_protocol(), exp))
    assert isinstance(err, VacuumLostError), err
    assert "lost its vacuum" in str(err)
    world = m.backend.world
    assert world.chamber.state.value == "vented"
    assert not world.electron.on and not world.ion.on  # no beam left on the site
    assert not world.manipulator.inserted and not world.gis.inserted
    assert m.backend.milling.running is False
    failed = [r for r in exp.lamellae[site].history if r.outcome == "fail"]
    assert failed and "vented" in failed[-1].note
    stops = _stops(docs)
    assert stops and stops[-1]["exit_status"] == "fail"
    assert "vented" in stops[-1]["reason"]


def test_a_beam_trip_in_a_workflow_marks_the_site_failed(RE, microscope, tmp_path) -> None:
    from plans.workflow import run_stage

    m = microscope
    site = "lamella_01"
    exp = Experiment.create(tmp_path / "exp", {site: m.sites[site]})
    m.backend.world.faults.beam_trips = "electron"
    docs, err = _docs(RE, run_stage(m, exp, site, default_protocol(), "setup"))
    assert err is None  # recorded, not raised: the workflow would go on to the next site
    (record,) = exp.lamellae[site].history
    assert record.outcome == "fail" and "tripped off" in record.note
    assert exp.lamellae[site].failed
    assert any(d["exit_status"] == "fail" and "tripped off" in d["reason"] for d in _stops(docs))
    assert m.backend.milling.running is False
