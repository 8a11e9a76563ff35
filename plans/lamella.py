"""The stages of one lamella: go to the site, centre on it, align, mill.

Orientations: 'milling' (the protocol's milling angle), 'flat_ion' (trenches of the
waffle method), 'undercut' (milling angle + undercut tilt). A site is centred once per
orientation — found in the SEM (stable move) and then in the FIB (vertical move, which
leaves the SEM view alone) — and an ion reference image is kept; later visits align
to that reference by beam shift. Patterns are laid out about the ion image centre.
"""

from __future__ import annotations

from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd import geometry as geo
from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.experiment import Experiment, Lamella
from fibsem_ophyd.milling import LamellaProtocol
from fibsem_ophyd.supervision import Question

from ._md import plan_md
from ._run import run_decorator
from .alignment import align
from .movement import safe_move
from .site_finding import centre_in_beam, plausible_correction_m
from .stubs import read_pose
from .supervision import ask_in_run

ORIENTATION = {
    "select": "milling",
    "trench": "flat_ion",
    "undercut": "undercut",
    "liftout": "flat_ion",  # the sever cuts are milled where the trenches were
    "landing": "flat_ion",  # (the landing stage moves to the post itself)
    "setup": "milling",
    "rough": "milling",
    "polish": "milling",
}
DETECT_HFW_M = 150e-6
# A site's first reference is taken at the detection field width, where the grid
# square's four edges are in view: a reference of featureless ice alone (80 µm inside a
# 90 µm square) pins the image vertical but leaves the horizontal to noise. Once the
# fiducial is milled, the setup stage takes a new reference at the protocol's width.
ALIGNED_PX = 0.25  # residual that counts as aligned (at 150 µm: 25 nm)


def orientation_pose(microscope: Any, protocol: LamellaProtocol, orientation: str) -> StagePosition:
    """Rotation and tilt of an orientation (x, y, z left None)."""
    geom = microscope.geometry
    if orientation == "flat_ion":
        return geo.flat_to_beam("ion", geom)
    milling = geo.tilt_for_milling_angle(protocol.milling_angle_deg, geom)
    if orientation == "milling":
        return milling
    if orientation == "undercut":
        return milling.model_copy(update={"t_deg": milling.t_deg + protocol.undercut_tilt_deg})
    raise ValueError(
        f"orientation {orientation!r} unknown; use one of {sorted(set(ORIENTATION.values()))}"
    )


@plan
def goto(
    microscope: Any, lamella: Lamella, protocol: LamellaProtocol, orientation: str
) -> MsgGenerator[None]:
    """Safe move to the lamella at an orientation: its confirmed pose if it has one,
    else the site's specimen point brought to the eucentric point at that orientation."""
    pose = lamella.poses.get(orientation)
    if pose is None:
        o = orientation_pose(microscope, protocol, orientation)
        u, v, _ = geo.raw_to_specimen(lamella.site, microscope.geometry)
        pose = geo.specimen_to_raw(u, v, o.r_deg, o.t_deg, microscope.geometry)
    ion = microscope.ion_beam
    yield from bps.mv(ion.beam_shift_x_m, 0.0, ion.beam_shift_y_m, 0.0)
    yield from safe_move(microscope, pose)


@plan
def centre_on_site(
    microscope: Any,
    experiment: Experiment,
    lamella: str,
    orientation: str,
    reference_hfw_m: float,
    stage: str = "select",
    md: dict | None = None,
) -> MsgGenerator[StagePosition]:
    """Find the site in the SEM and centre it (stable move), then in the FIB (vertical
    move), each detection checked (plans/site_finding.py); keep the centred pose, and take
    an ion reference image for this orientation (its own run: a detector's frames stay
    in one stream per run). `stage` names the workflow stage that asked."""
    m = microscope
    _md = plan_md(m, "centre_on_site", {"orientation": orientation},
                  {"lamella": lamella, "workflow_stage": stage, **(md or {})})  # fmt: skip

    @bpp.stage_decorator([m.sem, m.fib])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[StagePosition]:
        yield from bps.mv(m.electron_beam.hfw_m, DETECT_HFW_M, m.ion_beam.hfw_m, DETECT_HFW_M)
        yield from centre_in_beam(m, "electron", lamella, stage)
        yield from centre_in_beam(m, "ion", lamella, stage)

    yield from inner()
    pose = yield from read_pose(m)
    experiment.lamellae[lamella].poses[orientation] = pose
    experiment.save()
    yield from take_reference(m, experiment, lamella, orientation, reference_hfw_m, md=md)
    return pose


@plan
def take_reference(
    microscope: Any,
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
    microscope: Any,
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
