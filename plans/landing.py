"""Landing a lifted-out lamella on the post, and the two lift-out workflow stages.

`liftout_stage` (workflow stage "liftout"): at the trench orientation, the site centred
again at the eucentric point in three dimensions (detected and checked, the SEM and FIB
twice: the needle goes to the eucentric point, so a beam-shift alignment would not do):
needle to the lamella, contact, weld, sever, lift; the needle is retracted in
`finalize_wrapper` unless the lamella is on it. `landing_stage` (workflow stage
"landing"): the lamella's landing post chosen (plans/posts.py: the first free named
position "landing_post", "landing_post_2", ...), needle to park and out of view, stage
to the post, its landing point centred (detected and checked), the lamella lowered onto
it, weld, mill the needle free, retract the needle (in `finalize_wrapper`: always), and
find the lamella on the post in an image. The lamella is then thinned on its post by
the workflow's setup, rough and polish stages (orientation 'post', plans/orientations.py).
"""

from __future__ import annotations

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd import geometry as geo
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.experiment import Experiment
from fibsem_ophyd.milling import (
    LamellaProtocol,
    MillingStage,
    MillingVerification,
    RectanglePattern,
)
from fibsem_ophyd.milling._liftout_settings import LiftoutSettings

from .lamella import centre_on_site, goto
from .liftout import (
    LiftoutError,
    LiftoutProgress,
    _approach,
    _params,
    _step,
    contact,
    lift,
    needle_to_lamella,
    sever,
    sever_stage,
    weld,
)
from .milling import run_milling
from .orientations import DETECT_HFW_M
from .posts import LANDING_POSITION, centre_on_post, confirm_on_post, reserve_landing_position
from .stubs import call

# Where the needle waits, with the lamella, while the stage moves to the post and the
# post is centred: out of both beams' fields of view (chamber metres).
STANDBY_M = (-200e-6, 0.0, 200e-6)


def _settings(protocol: LamellaProtocol) -> LiftoutSettings:
    if protocol.liftout is None:
        raise LiftoutError(f"protocol {protocol.name!r} has no 'liftout' section")
    return protocol.liftout


@plan
def land_on_post(
    m: Microscope, progress: LiftoutProgress, s: LiftoutSettings, position: str = LANDING_POSITION
) -> MsgGenerator:
    """Park the needle and move it (with the lamella) out of view, bring the post's
    landing point (named position `position`) to the eucentric point — the stage to the
    position, then the point centred from images (`centre_on_post`) — and lower the
    lamella onto it (the tip where it was relative to the lamella at contact)."""
    progress.require("land", "lift")
    if position not in m.positions:
        raise LiftoutError(f"no named position {position!r}; known: {sorted(m.positions)}")
    pose = m.positions[position]
    m.stage.check_position(pose)
    ox, oy, oz = progress.tip_offset_m

    def to_post() -> MsgGenerator[None]:
        yield from call(lambda: m.manipulator.park())
        yield from _approach(m, STANDBY_M, 1)
        ion = m.ion_beam
        yield from bps.mv(ion.beam_shift_x_m, 0.0, ion.beam_shift_y_m, 0.0)
        yield from bps.mv(m.stage, pose)

    def lower() -> MsgGenerator[None]:
        yield from _approach(m, (ox, oy, oz + s.lift_m), s.approach_steps)
        yield from _approach(m, (ox, oy, oz), 5)

    yield from _step(m, progress, "to_post", to_post, {"position": position}, "landing")
    yield from centre_on_post(m, progress.lamella)
    yield from _step(m, progress, "land", lower, {"position": position}, "landing")


def release_stage(m: Microscope, progress: LiftoutProgress, s: LiftoutSettings) -> MillingStage:
    """A short cut centred on the needle tip in the ion image (the needle/lamella joint).

    Its milled region is not checked from before/after images: the cut goes through
    the needle's joint with the lamella, whose image changes beyond the pattern as the
    two part (and on the twin the lamella's image changes as it becomes part of the
    post). The release is judged by its result instead: with the needle out, the
    lamella must be found on the post (`confirm_on_post`)."""
    ex, ev = geo.image_axes(m.geometry.column_tilt_deg("ion"))
    tip = progress.tip_offset_m  # the tip sits here, the post's landing point at 0
    x, y = float(ex @ tip), float(ev @ tip)
    cut = RectanglePattern(name="release", x_m=x, y_m=y, width_m=s.release_width_m,
                           height_m=s.release_height_m, depth_m=s.release_depth_m)  # fmt: skip
    # The cut is through the weld and the needle, which the twin draws but does not
    # model as material: its images show no change here, so this cut is not verified
    # from images (on hardware it could be: the needle comes free).
    return MillingStage(
        name="release", patterns=[cut], parameters=_params(s, s.release_current_a),
        verification=MillingVerification(enabled=False),
    )  # fmt: skip


@plan
def release(m: Microscope, progress: LiftoutProgress, s: LiftoutSettings) -> MsgGenerator:
    """Mill the needle free of the lamella (it must be welded to the post first)."""
    progress.require("release", "weld_to_post")
    md = {"lamella": progress.lamella, "workflow_stage": "landing", "liftout_step": "release"}
    yield from run_milling(m, [release_stage(m, progress, s)], md=md)
    progress.done.append("release")


@plan
def retract_needle(m: Microscope, progress: LiftoutProgress) -> MsgGenerator:
    retract = lambda: call(lambda: m.manipulator.retract())  # noqa: E731
    yield from _step(m, progress, "retract", retract, stage="landing")


@plan
def _retract_if_inserted(m: Microscope) -> MsgGenerator[None]:
    if m.backend.manipulator.inserted:
        yield from call(lambda: m.manipulator.retract())


@plan
def liftout_stage(
    m: Microscope, experiment: Experiment, lamella: str, protocol: LamellaProtocol,
    progress: LiftoutProgress,
) -> MsgGenerator[None]:  # fmt: skip
    """Workflow stage "liftout": the lamella ends on the needle, lifted."""
    s = _settings(protocol)
    lam = experiment.lamellae[lamella]
    yield from goto(m, lam, protocol, "flat_ion")
    yield from centre_on_site(m, experiment, lamella, "flat_ion", DETECT_HFW_M, "liftout",
                              passes=2)  # fmt: skip
    trench = protocol.stages.trench

    def steps() -> MsgGenerator[None]:
        yield from needle_to_lamella(m, progress, s)
        yield from contact(m, progress, s)
        yield from weld(m, progress, s)
        yield from sever(m, progress, sever_stage(s, protocol.lamella.width_m, trench.spacing_m))
        yield from lift(m, progress, s)

    def cleanup() -> MsgGenerator[None]:
        if "lift" not in progress.done:
            yield from _retract_if_inserted(m)

    yield from bpp.finalize_wrapper(steps(), cleanup)


@plan
def landing_stage(
    m: Microscope, experiment: Experiment, lamella: str, protocol: LamellaProtocol,
    progress: LiftoutProgress,
) -> MsgGenerator[None]:  # fmt: skip
    """Workflow stage "landing": the lamella ends welded on its post (recorded on the
    experiment's lamella: where it is thinned), the needle out, and found there."""
    s = _settings(protocol)
    position = reserve_landing_position(m, experiment, lamella)

    def steps() -> MsgGenerator[None]:
        yield from land_on_post(m, progress, s, position)
        yield from weld(m, progress, s, to="post")
        yield from release(m, progress, s)
        yield from retract_needle(m, progress)

    yield from bpp.finalize_wrapper(steps(), lambda: _retract_if_inserted(m))
    yield from confirm_on_post(m, lamella)
