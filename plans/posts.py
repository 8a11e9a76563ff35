"""Landing posts for lift-out: which post a lamella is landed on, centring the post's
landing point before the lamella is lowered onto it, and checking from an image that
the lamella is there once the needle has let go.

The microscope's named positions "landing_post", "landing_post_2", ... are the posts'
landing points (one lamella each). A lamella takes the first one no other lamella of
the experiment has taken, and keeps it (`Lamella.landing_position`, `Lamella.landed_at`:
where it is thinned later), even if its landing fails: a post with a dropped lamella or
weld material on it is not used again.
"""

from __future__ import annotations

import re

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.experiment import Experiment

from ._md import plan_md
from ._run import run_decorator
from .orientations import DETECT_HFW_M, POST, sought
from .site_finding import centre_in_beam, find_site
from .supervision import SupervisorAbort

LANDING_POSITION = "landing_post"
_NUMBERED = re.compile(rf"{LANDING_POSITION}(?:_(\d+))?")


class NoLandingPosition(RuntimeError):
    """Every landing post is taken, or the microscope names none."""


class NotOnPost(RuntimeError):
    """After the needle was cut free, the lamella is not found on its post."""


def landing_positions(microscope: Microscope) -> list[str]:
    """The named landing positions, in order ("landing_post" first, then by number)."""
    numbered = {}
    for name in microscope.positions:
        match = _NUMBERED.fullmatch(name)
        if match:
            numbered[name] = int(match.group(1) or 1)
    return sorted(numbered, key=lambda name: numbered[name])


def reserve_landing_position(microscope: Microscope, experiment: Experiment, lamella: str) -> str:
    """The landing position of `lamella`: the one it already has, else the first free
    one, recorded (with its pose) and saved before anything moves."""
    lam = experiment.lamellae[lamella]
    if lam.landing_position is not None:
        return lam.landing_position
    taken = {o.landing_position for n, o in experiment.lamellae.items() if n != lamella}
    names = landing_positions(microscope)
    free = [name for name in names if name not in taken]
    if not free:
        raise NoLandingPosition(
            f"no free landing post for {lamella}: the microscope names {names or 'none'}"
            f" ({LANDING_POSITION!r}, {LANDING_POSITION}_2, ...), all taken"
        )
    pose = microscope.positions[free[0]]
    microscope.stage.check_position(pose)
    lam.landing_position, lam.landed_at = free[0], pose
    experiment.save()
    return free[0]


@plan
def centre_on_post(microscope: Microscope, lamella: str) -> MsgGenerator[None]:
    """Bring the landing point of the post the stage is at (the middle of the post's
    top) to the eucentric point: found in the SEM (stable move), then in the FIB
    (vertical move), each detection checked and verified after the move like a site's
    (plans/site_finding.py), then both again (the FIB's move carries a little stage
    error into the SEM view), so that a lamella lowered onto the eucentric point meets
    the post whatever the stage's error in reaching it."""
    m = microscope
    features = (m.sem_features, m.fib_features)
    md = {"lamella": lamella, "workflow_stage": "landing", "liftout_step": "centre_on_post"}

    @bpp.stage_decorator([m.sem, m.fib])
    @run_decorator(md=plan_md(m, "centre_on_post", {"target": "landing_post"}, md))
    def inner() -> MsgGenerator[None]:
        yield from bps.mv(features[0].target, "landing_post", features[1].target, "landing_post")
        yield from bps.mv(m.electron_beam.hfw_m, DETECT_HFW_M, m.ion_beam.hfw_m, DETECT_HFW_M)
        for _pass in range(2):  # the SEM again after the FIB's move: centred in 3-D
            yield from centre_in_beam(m, "electron", lamella, "landing")
            yield from centre_in_beam(m, "ion", lamella, "landing")

    def restore() -> MsgGenerator[None]:
        yield from bps.mv(features[0].target, "grid_square", features[1].target, "grid_square")

    yield from bpp.finalize_wrapper(inner(), restore)


@plan
def confirm_on_post(microscope: Microscope, lamella: str) -> MsgGenerator[tuple[float, float]]:
    """Find the landed lamella in the SEM at its landing position (where the stage is),
    checked like any site detection (plans/site_finding.py): the needle's release is
    judged by its result, the lamella staying on the post. Returns its image-plane
    offset (metres); NotOnPost when it cannot be found there."""
    m = microscope
    target, hfw_m = sought(POST)[:2]
    md = {"lamella": lamella, "workflow_stage": "landing", "liftout_step": "confirm_on_post"}

    @bpp.stage_decorator([m.sem])
    @run_decorator(md=plan_md(m, "confirm_on_post", {"target": target}, md))
    def inner() -> MsgGenerator[tuple[float, float]]:
        yield from bps.mv(m.sem_features.target, target, m.electron_beam.hfw_m, hfw_m)
        return (yield from find_site(m, "electron", lamella, "landing"))

    def restore() -> MsgGenerator[None]:
        yield from bps.mv(m.sem_features.target, "grid_square")

    try:
        return (yield from bpp.finalize_wrapper(inner(), restore))
    except SupervisorAbort as err:
        raise NotOnPost(f"{lamella} is not found on its post after the release: {err}") from err
