"""Lamella workflows: `mill_lamella(m, site, protocol)` for one site and
`autolamella(m, sites, protocol)` for many, stage by stage across sites.

Progress lives in an `Experiment` folder: every lamella records which stages are
done, so re-running skips them (resumable). A failed stage marks its lamella failed
with the reason and the workflow carries on with the others; bluesky's control
exceptions (abort, stop, halt, a failed pause) are never caught: they end the whole
workflow, and the stage they interrupted is recorded as 'interrupted'.
"""

from __future__ import annotations

import tempfile
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.experiment import WORKFLOW_STAGES, Experiment, StageRecord
from fibsem_ophyd.milling import LamellaProtocol, MillingStage, milling_stages
from fibsem_ophyd.supervision import Question
from fibsem_ophyd.values import typed_model

from ._run import CONTROL
from .checkpoints import checkpoint_each_run
from .lamella import align_to_reference, centre_on_site, goto, take_reference
from .landing import landing_stage, liftout_stage
from .liftout import LiftoutProgress
from .milling import run_milling
from .orientations import THINNING_STAGES, sought, stage_orientation
from .stubs import call
from .supervision import ask_in_run


def workflow_stages(protocol: LamellaProtocol) -> list[str]:
    """The stages this protocol runs, in order ('select' first). The lift-out method
    thins the lamella on its post after landing it (plans/orientations.py), so without
    lifting there is nothing for it to thin."""
    s = protocol.stages
    liftout = protocol.method == "liftout"
    lifting = liftout and protocol.liftout is not None and protocol.liftout.enabled
    enabled = {
        "select": True,
        "trench": s.trench.enabled and protocol.method != "on-grid",
        "undercut": s.undercut.enabled and protocol.method != "on-grid",
        "liftout": lifting,
        "landing": lifting,
        **{st: getattr(s, st).enabled and (lifting or not liftout) for st in THINNING_STAGES},
    }
    return [name for name in WORKFLOW_STAGES if enabled[name]]


def _settings(protocol: LamellaProtocol, stage: str) -> Any:
    return getattr(protocol.stages, stage)


@plan
def _supervise_patterns(
    microscope: Microscope, lamella: str, stage: str, stages: list[MillingStage]
) -> MsgGenerator[list[MillingStage]]:
    """Ask the supervisor about the patterns (inside a small run); move them if asked."""
    answer = yield from ask_in_run(
        microscope,
        Question(kind="patterns", site=lamella, stage=stage, beam="ion",
                 message=f"{len(stages)} milling stage(s) about the image centre",
                 patterns=[p for s in stages for p in s.patterns]),
    )  # fmt: skip
    if answer.action != "move":
        return stages
    return [
        s.model_copy(update={"patterns": [p.moved(answer.dx_m, answer.dy_m) for p in s.patterns]})
        for s in stages
    ]


@plan
def run_stage(
    microscope: Microscope,
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

    def record(t1: float) -> None:
        experiment.record(
            lamella,
            StageRecord(stage=stage, outcome=outcome, clock_start_s=t0, clock_stop_s=t1,
                        note=note),
        )  # fmt: skip

    try:
        if stage in LIFTOUT_STAGES:
            yield from LIFTOUT_STAGES[stage](m, experiment, lamella, protocol, progress)
        else:
            yield from _lamella_stage(m, experiment, lamella, protocol, stage)
    except GeneratorExit:  # RE.halt(): no messages may be sent any more
        outcome, note = "interrupted", "halted (RE.halt)"
        record(t0)
        raise
    except CONTROL as err:  # abort, stop, a failed pause: the whole workflow ends now
        outcome, note = "interrupted", f"interrupted by {type(err).__name__}"
        record((yield from bps.rd(m.clock_s)))
        raise
    except Exception as err:  # recorded, and the workflow moves on to the next lamella
        outcome, note = "fail", f"{type(err).__name__}: {err}"
    record((yield from bps.rd(m.clock_s)))


LIFTOUT_STAGES = {"liftout": liftout_stage, "landing": landing_stage}


@plan
def _lamella_stage(
    m: Microscope, experiment: Experiment, lamella: str, protocol: LamellaProtocol, stage: str
) -> MsgGenerator[None]:
    """Go to the lamella (at its site, or on its post for the lift-out method's
    thinning), centre or align, mill the stage's patterns."""
    lam = experiment.lamellae[lamella]
    orientation = stage_orientation(protocol, stage)
    ref_hfw = protocol.stages.setup.alignment_hfw_m
    yield from goto(m, lam, protocol, orientation)
    if orientation not in lam.poses or stage == "select":
        detect_hfw_m = sought(orientation).hfw_m  # the first reference is taken there too
        yield from centre_on_site(m, experiment, lamella, orientation, detect_hfw_m, stage)
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
    microscope: Microscope, sites: dict[str, StagePosition], experiment: Experiment | None
) -> Experiment:
    if experiment is not None:
        for name, pose in sites.items():
            if name not in experiment.lamellae:
                experiment = Experiment.create(experiment.folder, {name: pose}, experiment.name)
        return experiment
    return Experiment.create(tempfile.mkdtemp(prefix="fibsem-experiment-"), sites)


@plan
def autolamella(
    microscope: Microscope,
    sites: dict[str, StagePosition],
    protocol: LamellaProtocol,
    experiment: Experiment | None = None,
) -> MsgGenerator[Experiment]:
    """Every stage of the protocol over every site, stage by stage across sites.
    Stages a lamella has done are skipped; a failed lamella is left alone. Abort, stop
    or halt end the whole workflow at once (the stage in progress is recorded as
    interrupted and runs again when the experiment is resumed); milling is halted and
    every needle retracted on the way out."""
    sites = _checked_sites(microscope, sites)
    exp = _experiment(microscope, sites, experiment)
    exp.protocol = protocol.name

    def stages() -> MsgGenerator[None]:
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
                yield from _end_if_vacuum_lost(microscope, name, stage)

    # Checkpoints between runs: a pause anywhere replays only within the current run.
    yield from bpp.finalize_wrapper(checkpoint_each_run(stages()), lambda: make_safe(microscope))
    return exp


class VacuumLostError(RuntimeError):
    """The chamber lost its vacuum during a workflow: it ended (safely) there."""


def _end_if_vacuum_lost(m: Microscope, lamella: str, stage: str) -> MsgGenerator[None]:
    """After a stage: with the chamber no longer pumped nothing more can be done at any
    site; end the workflow (its cleanup halts milling, switches the beams off and
    retracts the needles) instead of failing every remaining site the same way."""
    state = yield from bps.rd(m.chamber.state)
    if state != "pumped":
        raise VacuumLostError(
            f"the chamber lost its vacuum (now {state}) during {stage!r} at {lamella!r}; "
            "the workflow ended: pump the chamber, then run it again to resume"
        )


def _checked_sites(microscope: Microscope, sites: Any) -> dict[str, StagePosition]:
    """Site names and poses as the workflow needs them, refused with a clear error (the
    name and field) before anything moves."""
    if not isinstance(sites, dict) or not sites:
        raise ValueError(
            f"sites must be a non-empty dict of name -> StagePosition, got {sites!r:.80}"
        )
    checked = {}
    for name, pose in sites.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"site names must be non-empty strings, got {name!r}")
        p = typed_model(f"sites[{name!r}]", StagePosition, pose)
        if all(v is None for _, v in p):
            raise ValueError(f"sites[{name!r}] sets no stage axis: give at least x_m, y_m")
        microscope.stage.check_position(p)
        checked[name] = p
    return checked


@plan
def make_safe(microscope: Microscope) -> MsgGenerator[None]:
    """Milling halted, manipulator and GIS needle retracted (the workflow's cleanup);
    both beams off too when the chamber is not pumped (a column must not run vented)."""
    m = microscope
    yield from call(lambda: m.milling.halt())
    if (yield from bps.rd(m.chamber.state)) != "pumped":
        for beam in (m.electron_beam, m.ion_beam):
            if (yield from bps.rd(beam.on)):
                yield from bps.mv(beam.on, False)
    if (yield from bps.rd(m.manipulator.inserted)):
        yield from call(lambda: m.manipulator.retract())
    if (yield from bps.rd(m.gis.inserted)):
        yield from call(lambda: m.gis.retract())


@plan
def mill_lamella(
    microscope: Microscope,
    site: str | tuple[str, StagePosition],
    protocol: LamellaProtocol,
    experiment: Experiment | None = None,
) -> MsgGenerator[Experiment]:
    """The whole protocol at one site (a name of `microscope.sites` or (name, pose))."""
    if isinstance(site, str):
        if site not in microscope.sites:
            raise ValueError(f"site {site!r} unknown; known: {sorted(microscope.sites)}")
        sites = {site: microscope.sites[site]}
    elif isinstance(site, tuple) and len(site) == 2:
        sites = {site[0]: site[1]}
    else:
        raise ValueError(f"site must be a site name or (name, StagePosition), got {site!r:.80}")
    exp = yield from autolamella(microscope, sites, protocol, experiment)
    return exp
