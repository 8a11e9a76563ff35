"""Lamella workflows: `mill_lamella(m, site, protocol)` for one site and
`autolamella(m, sites, protocol)` for many, stage by stage across sites.

Progress lives in an `Experiment` folder: every lamella records which stages are
done, so re-running skips them (resumable). A failed stage marks its lamella failed
and the workflow carries on with the others.
"""

from __future__ import annotations

import tempfile
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.experiment import WORKFLOW_STAGES, Experiment, StageRecord
from fibsem_ophyd.milling import LamellaProtocol, MillingStage, milling_stages
from fibsem_ophyd.supervision import Question

from ._md import plan_md
from .lamella import ORIENTATION, align_to_reference, centre_on_site, goto, take_reference
from .landing import landing_stage, liftout_stage
from .liftout import LiftoutProgress
from .milling import run_milling
from .supervision import ask


def workflow_stages(protocol: LamellaProtocol) -> list[str]:
    """The stages this protocol runs, in order ('select' first)."""
    s = protocol.stages
    liftout = protocol.method == "liftout"  # thinning on the post is not supported yet
    lifting = liftout and protocol.liftout is not None and protocol.liftout.enabled
    enabled = {
        "select": True,
        "trench": s.trench.enabled and protocol.method != "on-grid",
        "undercut": s.undercut.enabled and protocol.method != "on-grid",
        "liftout": lifting,
        "landing": lifting,
        "setup": s.setup.enabled and not liftout,
        "rough": s.rough.enabled and not liftout,
        "polish": s.polish.enabled and not liftout,
    }
    return [name for name in WORKFLOW_STAGES if enabled[name]]


def _settings(protocol: LamellaProtocol, stage: str) -> Any:
    return getattr(protocol.stages, stage)


@plan
def _supervise_patterns(
    microscope: Any, lamella: str, stage: str, stages: list[MillingStage]
) -> MsgGenerator[list[MillingStage]]:
    """Ask the supervisor about the patterns (inside a small run); move them if asked."""
    _md = plan_md(microscope, "supervise_patterns", {"stage": stage},
                  {"lamella": lamella, "workflow_stage": stage})  # fmt: skip

    answers: list[Any] = []

    @bpp.run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        answer = yield from ask(
            microscope,
            Question(kind="patterns", site=lamella, stage=stage,
                     message=f"{len(stages)} milling stage(s) about the image centre"),
        )  # fmt: skip
        answers.append(answer)

    yield from inner()  # run_decorator returns the run uid, so the answer comes back here
    answer = answers[0]
    if answer.action != "move":
        return stages
    return [
        s.model_copy(update={"patterns": [p.moved(answer.dx_m, answer.dy_m) for p in s.patterns]})
        for s in stages
    ]


@plan
def run_stage(
    microscope: Any,
    experiment: Experiment,
    lamella: str,
    protocol: LamellaProtocol,
    stage: str,
    liftout: LiftoutProgress | None = None,
) -> MsgGenerator[None]:
    """One workflow stage at one lamella; recorded in the experiment (success or fail).
    The lift-out stages share `liftout` (what is done; a fresh one if None)."""
    m = microscope
    t0 = yield from bps.rd(m.clock_s)
    outcome, note = "success", ""
    progress = liftout if liftout is not None else LiftoutProgress(lamella)
    try:
        if stage in LIFTOUT_STAGES:
            yield from LIFTOUT_STAGES[stage](m, experiment, lamella, protocol, progress)
        else:
            yield from _lamella_stage(m, experiment, lamella, protocol, stage)
    except Exception as err:  # recorded, and the workflow moves on to the next lamella
        outcome, note = "fail", f"{type(err).__name__}: {err}"
    t1 = yield from bps.rd(m.clock_s)
    experiment.record(
        lamella,
        StageRecord(stage=stage, outcome=outcome, clock_start_s=t0, clock_stop_s=t1, note=note),
    )


LIFTOUT_STAGES = {"liftout": liftout_stage, "landing": landing_stage}


@plan
def _lamella_stage(
    m: Any, experiment: Experiment, lamella: str, protocol: LamellaProtocol, stage: str
) -> MsgGenerator[None]:
    """Go to the lamella, centre or align, mill the stage's patterns."""
    lam = experiment.lamellae[lamella]
    orientation = ORIENTATION[stage]
    ref_hfw = protocol.stages.setup.alignment_hfw_m
    yield from goto(m, lam, protocol, orientation)
    if orientation not in lam.poses or stage == "select":
        yield from centre_on_site(m, experiment, lamella, protocol, orientation, ref_hfw)
    else:
        settings = _settings(protocol, stage)
        yield from align_to_reference(
            m, experiment, lamella, orientation, ref_hfw, settings.alignment_attempts,
            md={"workflow_stage": stage},
        )  # fmt: skip
    if stage != "select":
        stages = milling_stages(protocol, stage)
        if _settings(protocol, stage).supervise:
            stages = yield from _supervise_patterns(m, lamella, stage, stages)
        if stages:
            yield from run_milling(m, stages, md={"lamella": lamella, "workflow_stage": stage})
        if stage == "setup":  # the fiducial is part of every later reference
            yield from take_reference(
                m, experiment, lamella, orientation, ref_hfw, md={"workflow_stage": stage}
            )


def _experiment(
    microscope: Any, sites: dict[str, StagePosition], experiment: Experiment | None
) -> Experiment:
    if experiment is not None:
        for name, pose in sites.items():
            if name not in experiment.lamellae:
                experiment = Experiment.create(experiment.folder, {name: pose}, experiment.name)
        return experiment
    return Experiment.create(tempfile.mkdtemp(prefix="fibsem-experiment-"), sites)


@plan
def autolamella(
    microscope: Any,
    sites: dict[str, StagePosition],
    protocol: LamellaProtocol,
    experiment: Experiment | None = None,
) -> MsgGenerator[Experiment]:
    """Every stage of the protocol over every site, stage by stage across sites.
    Stages a lamella has done are skipped; a failed lamella is left alone."""
    if not sites:
        raise ValueError("autolamella needs at least one site")
    for name, pose in sites.items():
        microscope.stage.check_position(pose)
        if not name:
            raise ValueError("site names must not be empty")
    exp = _experiment(microscope, sites, experiment)
    exp.protocol = protocol.name
    for stage in workflow_stages(protocol):
        if stage == "landing":
            continue  # run with "liftout", lamella by lamella: one needle, one lamella
        for name in sites:
            lam = exp.lamellae[name]
            if lam.failed or lam.done(stage):
                continue
            progress = LiftoutProgress(name)
            yield from run_stage(microscope, exp, name, protocol, stage, progress)
            if stage == "liftout" and not lam.failed and not lam.done("landing"):
                yield from run_stage(microscope, exp, name, protocol, "landing", progress)
    return exp


@plan
def mill_lamella(
    microscope: Any,
    site: str | tuple[str, StagePosition],
    protocol: LamellaProtocol,
    experiment: Experiment | None = None,
) -> MsgGenerator[Experiment]:
    """The whole protocol at one site (a name of `microscope.sites` or (name, pose))."""
    if isinstance(site, str):
        if site not in microscope.sites:
            raise ValueError(f"site {site!r} unknown; known: {sorted(microscope.sites)}")
        sites = {site: microscope.sites[site]}
    else:
        sites = {site[0]: site[1]}
    exp = yield from autolamella(microscope, sites, protocol, experiment)
    return exp
