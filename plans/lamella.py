"""The stages of one lamella: go to the site, centre on it, align, mill.

A lamella is centred once per orientation (plans/orientations.py) — found in the SEM
(stable move) and then in the FIB (vertical move, which leaves the SEM view alone),
sought by what is there: the grid square at a site, the landed lamella on a post — and
an ion reference image is kept; later visits align to that reference by beam shift.
Patterns are laid out about the ion image centre.
"""

from __future__ import annotations

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd import geometry as geo
from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.experiment import Experiment, Lamella
from fibsem_ophyd.milling import LamellaProtocol
from fibsem_ophyd.supervision import Question

from ._md import plan_md
from ._run import run_decorator
from .alignment import align
from .movement import safe_move
from .orientations import lamella_point, orientation_pose, sought
from .site_finding import centre_in_beam, plausible_correction_m
from .stubs import read_pose
from .supervision import ask_in_run

ALIGNED_PX = 0.25  # residual that counts as aligned (at 150 µm: 25 nm)


@plan
def goto(
    microscope: Microscope, lamella: Lamella, protocol: LamellaProtocol, orientation: str
) -> MsgGenerator[None]:
    """Safe move to the lamella at an orientation: its confirmed pose if it has one,
    else its specimen point (the site's, or for 'post' where it was landed) brought to
    the eucentric point at that orientation."""
    pose = lamella.poses.get(orientation)
    if pose is None:
        o = orientation_pose(microscope, protocol, orientation)
        u, v, _ = geo.raw_to_specimen(lamella_point(lamella, orientation), microscope.geometry)
        pose = geo.specimen_to_raw(u, v, o.r_deg, o.t_deg, microscope.geometry)
    ion = microscope.ion_beam
    yield from bps.mv(ion.beam_shift_x_m, 0.0, ion.beam_shift_y_m, 0.0)
    yield from safe_move(microscope, pose)


@plan
def centre_on_site(
    microscope: Microscope,
    experiment: Experiment,
    lamella: str,
    orientation: str,
    reference_hfw_m: float,
    stage: str = "select",
    md: dict | None = None,
    passes: int = 1,
) -> MsgGenerator[StagePosition]:
    """Find the site in the SEM and centre it (stable move), then in the FIB (vertical
    move), each detection checked (plans/site_finding.py); keep the centred pose, and take
    an ion reference image for this orientation (its own run: a detector's frames stay
    in one stream per run). What is sought, and at which field widths (SEM, FIB),
    follows from the orientation (`sought`); the detectors' target is put back to the
    grid square after.
    `stage` names the workflow stage that asked.

    The FIB's vertical move leaves the SEM view alone only up to the stage's error on
    that move; with `passes` > 1 the SEM and then the FIB are checked (and corrected)
    again, so that the site is at the eucentric point in three dimensions (where the
    needle goes), not only under the FIB's image centre (where patterns are drawn)."""
    m = microscope
    target, detect_hfw_m, ion_hfw_m, ion_centred_m = sought(orientation)
    _md = plan_md(m, "centre_on_site", {"orientation": orientation, "target": target},
                  {"lamella": lamella, "workflow_stage": stage, **(md or {})})  # fmt: skip
    features = (m.sem_features, m.fib_features)

    @bpp.stage_decorator([m.sem, m.fib])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        yield from bps.mv(features[0].target, target, features[1].target, target)
        yield from bps.mv(m.electron_beam.hfw_m, detect_hfw_m, m.ion_beam.hfw_m, ion_hfw_m)
        for _pass in range(passes):
            yield from centre_in_beam(m, "electron", lamella, stage)
            yield from centre_in_beam(m, "ion", lamella, stage, ion_centred_m)

    def restore() -> MsgGenerator[None]:
        yield from bps.mv(features[0].target, "grid_square", features[1].target, "grid_square")

    yield from bpp.finalize_wrapper(inner(), restore)
    pose = yield from read_pose(m)
    experiment.lamellae[lamella].poses[orientation] = pose
    experiment.save()
    yield from take_reference(m, experiment, lamella, orientation, reference_hfw_m, md=md)
    return pose


@plan
def take_reference(
    microscope: Microscope,
    experiment: Experiment,
    lamella: str,
    orientation: str,
    reference_hfw_m: float,
    md: dict | None = None,
) -> MsgGenerator[None]:
    """A new ion reference of the site as it is now (e.g. with its fiducial milled);
    later visits align to it. The view is already on the site, so nothing moves."""
    m = microscope
    _md = plan_md(m, "take_reference", {"orientation": orientation},
                  {"lamella": lamella, **(md or {})})  # fmt: skip

    @bpp.stage_decorator([m.fib])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        yield from bps.mv(m.ion_beam.hfw_m, reference_hfw_m)
        yield from bps.trigger_and_read([m.fib, m.stage, m.clock_s], name="reference")

    yield from inner()
    experiment.save_reference(lamella, orientation, m.fib.last_frame, reference_hfw_m)


@plan
def align_to_reference(
    microscope: Microscope,
    experiment: Experiment,
    lamella: str,
    orientation: str,
    reference_hfw_m: float,
    attempts: int,
    md: dict | None = None,
) -> MsgGenerator[dict]:
    """Beam-shift alignment of the ion view to this lamella's reference image, checked:
    an alignment that does not converge with trusted registrations is tried once more
    from fresh images, then handed to the supervisor with the reason (the automatic
    supervisor fails the site)."""
    m = microscope
    reference = experiment.reference(lamella, orientation)
    if reference is None:
        raise RuntimeError(f"{lamella} has no {orientation} reference; centre on the site first")
    # The field width the reference was taken at (older experiments: the one given).
    hfw = experiment.lamellae[lamella].reference_hfw_m.get(orientation, reference_hfw_m)
    yield from bps.mv(m.ion_beam.hfw_m, hfw)
    result: dict = {}
    for _try in range(2):
        result = yield from align(
            m, "ion", reference, max_steps=attempts, threshold_px=ALIGNED_PX,
            max_shift_m=plausible_correction_m(m), md={"lamella": lamella, **(md or {})},
        )  # fmt: skip
        if result["converged"]:
            return result
    stage = (md or {}).get("workflow_stage", "")
    yield from ask_in_run(
        m, Question(kind="continue", site=lamella, stage=stage, problem=result["problem"],
                    message=f"alignment to the {orientation} reference"),
    )  # fmt: skip
    return result
