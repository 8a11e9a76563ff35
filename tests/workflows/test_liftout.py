"""Lift-out on the twin: trench, undercut, lift-out and landing end with the lamella on
the post; steps out of order are refused and leave the lamella in place."""

from __future__ import annotations

import numpy as np
import pytest

from fibsem_ophyd.experiment import Experiment
from fibsem_ophyd.milling import default_protocol
from plans.liftout import LiftoutError, LiftoutProgress, lift, sever, sever_stage
from plans.workflow import mill_lamella, workflow_stages

STEPS = {"needle_to_lamella", "contact", "weld", "sever", "lift", "land", "weld_to_post",
         "release", "retract"}  # fmt: skip


def test_liftout_lands_the_lamella_on_the_post(RE, microscope, tmp_path):
    m, world = microscope, microscope.backend.world
    protocol = default_protocol("liftout")
    docs: list[tuple[str, dict]] = []
    RE.subscribe(lambda n, d: docs.append((n, d)))
    exp = Experiment.create(tmp_path / "liftout", {})
    lam = RE(mill_lamella(m, "lamella_01", protocol, exp)).plan_result.lamellae["lamella_01"]

    assert lam.failed is None, lam.failed
    assert lam.stages_done == ["select", "trench", "undercut", "liftout", "landing"]
    assert lam.stages_done == workflow_stages(protocol)
    assert world.liftout_state("lamella_01") == "landed"
    # On the post: its top centre at the post's landing point (chamber, present pose).
    gap = np.linalg.norm(world.lamella_position("lamella_01") - world.liftout.post_point(world))
    assert gap < 1e-6
    landed = world.liftout.site("lamella_01").landed
    u, v = world.specimen.landing_point()
    assert np.hypot(landed.top_uvh_m[0] - u, landed.top_uvh_m[1] - v) < 1e-6
    # The site patch: the lamella's footprint is milled away (trench floor).
    fp = world.liftout.site("lamella_01").footprint
    assert fp.width_m == pytest.approx(protocol.lamella.width_m, abs=0.3e-6)
    patch = world.specimen.local_patch("lamella_01")
    col, row = patch.uv_to_px(np.array([fp.u_m]), np.array([fp.v_m]))
    assert patch.height_delta_m[int(row[0]), int(col[0])] < -1e-6
    # The needle is out; every lift-out step is a run in the documents.
    assert not world.manipulator.inserted
    assert not m.backend.gis.inserted
    starts = [d for n, d in docs if n == "start" and d.get("lamella") == "lamella_01"]
    assert {d.get("liftout_step") for d in starts} >= STEPS
    assert {"liftout", "landing"} <= {d.get("workflow_stage") for d in starts}
    stops = {d["run_start"]: d["exit_status"] for n, d in docs if n == "stop"}
    assert all(stops[d["uid"]] == "success" for d in starts)


def test_lift_or_sever_without_a_weld_is_refused(RE, microscope):
    world = microscope.backend.world
    s = default_protocol("liftout").liftout
    progress = LiftoutProgress("lamella_02", done=["needle_to_lamella", "contact"])
    with pytest.raises(LiftoutError, match="refused to lift lamella_02: weld, sever not done"):
        RE(lift(microscope, progress, s))
    with pytest.raises(LiftoutError, match="refused to sever lamella_02: weld not done"):
        RE(sever(microscope, progress, sever_stage(s, 10e-6, 4e-6)))
    assert world.liftout_state("lamella_02") == "in_trench"
    assert not world.specimen.patches  # nothing milled
    assert not world.manipulator.inserted


def test_liftout_protocol_needs_room_for_the_sever_cuts():
    import yaml

    from fibsem_ophyd.milling import ProtocolError, protocol_from_dict, protocol_to_yaml

    data = yaml.safe_load(protocol_to_yaml(default_protocol("liftout")))
    data["liftout"]["sever_width_m"] = 5e-6
    with pytest.raises(ProtocolError, match=r"liftout\.sever_width_m"):
        protocol_from_dict(data)
    del data["liftout"]
    with pytest.raises(ProtocolError, match="needs a 'liftout' section"):
        protocol_from_dict(data)
