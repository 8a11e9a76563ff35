"""AutoLamella on the twin with drift and stage error: thickness, centre, twin time,
resumability, and every run's documents."""

from __future__ import annotations

import pytest

from fibsem_ophyd.connect import twin_lamella_report
from fibsem_ophyd.experiment import Experiment
from fibsem_ophyd.milling import default_protocol, milling_stages
from plans.workflow import autolamella, workflow_stages

pytestmark = pytest.mark.slow  # tens of seconds: started first (tests/conftest.py)

SITES = ("lamella_01", "lamella_02")


def _milling_time_s(protocol) -> float:
    return sum(
        s.estimated_time_s()
        for stage in workflow_stages(protocol)
        if stage != "select"
        for s in milling_stages(protocol, stage)
    )


def test_autolamella_meets_targets_and_resumes(RE, drifting_microscope, tmp_path):
    m = drifting_microscope
    protocol = default_protocol("on-grid")
    sites = {name: m.sites[name] for name in SITES}
    exp = Experiment.create(tmp_path / "exp", sites)
    starts: list[dict] = []
    RE.subscribe(lambda _n, doc: starts.append(doc), "start")
    RE(autolamella(m, sites, protocol, exp))

    target = protocol.lamella.target_thickness_m
    milling_s = _milling_time_s(protocol)
    for name in SITES:
        lam = exp.lamellae[name]
        assert lam.failed is None, lam.failed
        assert lam.stages_done == workflow_stages(protocol)
        report = twin_lamella_report(m, name)
        assert report["exists"]
        assert abs(report["thickness_m"] - target) <= 20e-9, report
        assert report["centre_error_m"] <= 0.5e-6, report
        twin_s = sum(h.clock_stop_s - h.clock_start_s for h in lam.history)
        assert milling_s <= twin_s <= 1.2 * milling_s, (twin_s, milling_s)

    # Every milling run names its lamella and stage; the fingerprint is in each start.
    milling_runs = [d for d in starts if d["plan_name"] == "run_milling"]
    assert {d["lamella"] for d in milling_runs} == set(SITES)
    assert all("fingerprint" in d for d in starts)

    # Resumable: the saved experiment says all is done, so a re-run mills nothing.
    again = Experiment.load(tmp_path / "exp")
    starts.clear()
    RE(autolamella(m, sites, protocol, again))
    assert not [d for d in starts if d["plan_name"] == "run_milling"]
