"""The waffle method end to end, supervised mode (corrections recorded and obeyed),
and the coating plans with their interlocks."""

from __future__ import annotations

import pytest

from fibsem_ophyd.connect import twin_lamella_report
from fibsem_ophyd.experiment import Experiment
from fibsem_ophyd.milling import default_protocol
from fibsem_ophyd.supervision import Answer, AutoSupervisor, CallbackSupervisor, Question
from plans.deposition import cryo_deposition, gis_deposition, sputter_coat
from plans.stubs import call
from plans.workflow import mill_lamella, workflow_stages


@pytest.mark.slow
def test_waffle_method_runs_every_stage(RE, microscope, tmp_path):
    protocol = default_protocol("waffle")
    exp = Experiment.create(tmp_path / "waffle", {})
    result = RE(mill_lamella(microscope, "lamella_02", protocol, exp)).plan_result
    lam = result.lamellae["lamella_02"]
    assert lam.failed is None, lam.failed
    assert lam.stages_done == ["select", "trench", "undercut", "setup", "rough", "polish"]
    assert lam.stages_done == workflow_stages(protocol)
    report = twin_lamella_report(microscope, "lamella_02")
    assert abs(report["thickness_m"] - protocol.lamella.target_thickness_m) <= 20e-9


@pytest.mark.slow
def test_supervisor_corrections_are_recorded_and_used(RE, microscope, tmp_path):
    m = microscope
    asked: list[Question] = []
    shift_m = 1.0e-6

    def supervisor(question: Question) -> Answer:
        asked.append(question)
        if question.kind == "patterns" and question.stage == "polish":
            return Answer(action="move", dx_m=0.0, dy_m=shift_m, note="raise the polish")
        return Answer(action="accept")

    m.supervisor.use(CallbackSupervisor(supervisor))
    docs: list[tuple[str, dict]] = []
    RE.subscribe(lambda n, d: docs.append((n, d)))
    protocol = default_protocol("on-grid")
    exp = Experiment.create(tmp_path / "sup", {})
    RE(mill_lamella(m, "lamella_03", protocol, exp))
    m.supervisor.use(AutoSupervisor())

    kinds = {(q.kind, q.stage) for q in asked}
    assert ("point", "select") in kinds
    assert {("patterns", s) for s in ("setup", "rough", "polish")} <= kinds
    # Every answer is event data of a run, correction included.
    answers = [d["data"] for n, d in docs if n == "event" and m.supervisor.action.name in d["data"]]
    assert len(answers) == len(asked)
    moved = [a for a in answers if a[m.supervisor.action.name] == "move"]
    assert len(moved) == 1 and moved[0][m.supervisor.dy_m.name] == pytest.approx(shift_m)
    # The twin mills where the supervisor moved the polish: its lower trench now cuts
    # into the roughed lamella from above, leaving from the rough lower face up to the
    # moved trench's bottom edge.
    rough = protocol.stages.rough.steps[-1]
    polish = protocol.stages.polish.steps[-1]
    expected = rough.spacing_m / 2 + shift_m - polish.spacing_m / 2 - polish.trench_height_m
    report = twin_lamella_report(m, "lamella_03")
    assert report["thickness_m"] == pytest.approx(expected, abs=20e-9)


def test_supervisor_abort_fails_the_stage_and_stops(RE, microscope, tmp_path):
    m = microscope
    m.supervisor.use(CallbackSupervisor(lambda q: Answer(action="abort", note="not here")))
    exp = Experiment.create(tmp_path / "abort", {})
    result = RE(mill_lamella(m, "lamella_01", default_protocol(), exp)).plan_result
    m.supervisor.use(AutoSupervisor())
    lam = result.lamellae["lamella_01"]
    assert lam.failed is not None and "not here" in lam.failed
    assert lam.stages_done == []
    assert not m.backend.world.specimen.patches  # nothing milled


def test_coatings_and_their_interlocks(RE, microscope):
    m = microscope
    world = m.backend.world
    before = world.coating.thickness_m
    RE(sputter_coat(m, 10.0))
    after_sputter = world.coating.thickness_m
    assert after_sputter > before
    RE(cryo_deposition(m, 5.0))
    assert world.coating.thickness_m > after_sputter
    assert not m.backend.gis.inserted  # retracted again
    RE(gis_deposition(m, 2.0))
    assert not m.backend.gis.inserted
    # No sputtering with a needle in; no deposition while vented.
    RE(call(lambda: m.manipulator.insert("park")))
    with pytest.raises(Exception, match="manipulator is inserted"):
        RE(sputter_coat(m, 5.0))
    RE(call(lambda: m.manipulator.retract()))
    RE(call(lambda: m.chamber.vent()))
    with pytest.raises(Exception, match="vented"):
        RE(gis_deposition(m, 2.0))
    assert not m.backend.gis.inserted
    RE(call(lambda: m.chamber.pump()))
    with pytest.raises(ValueError, match=r"gis\.duration_s"):
        RE(gis_deposition(m, -1.0))
