"""run_milling on the twin: images labelled before/after in tiled order, a current the
readback does not confirm fails the run before anything is drawn. Pausing is in
test_milling_pause.py."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import pytest

from fibsem_ophyd.milling import default_protocol, milling_stages
from plans.milling import IMAGES, MillingCurrentError, run_milling


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
