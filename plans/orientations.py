"""Where and how a lamella is worked on at each workflow stage: the orientation (stage
rotation and tilt), the specimen point brought to the eucentric point, and what is
sought to centre on it.

Orientations: 'milling' (the protocol's milling angle), 'flat_ion' (trenches of the
waffle and lift-out methods), 'undercut' (milling angle + undercut tilt), and 'post':
the milling angle at the post a lifted-out lamella was landed on (`Lamella.landed_at`),
where the lift-out method thins it.
"""

from __future__ import annotations

from typing import NamedTuple

from fibsem_ophyd import geometry as geo
from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.experiment import Lamella
from fibsem_ophyd.milling import LamellaProtocol

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
POST = "post"
THINNING_STAGES = ("setup", "rough", "polish")
DETECT_HFW_M = 150e-6
# A site's first reference is taken at the detection field width, where the grid
# square's four edges are in view: a reference of featureless ice alone (80 µm inside a
# 90 µm square) pins the image vertical but leaves the horizontal to noise. Once the
# fiducial is milled, the setup stage takes a new reference at the protocol's width.
POST_DETECT_HFW_M = 80e-6
# A landed lamella (~10 µm) is sought at this field width: it spans ~190 px, enough to
# place its edges to a fraction of a pixel, and the view still holds five times the
# stage's repeatability around it. Its neighbours are on other posts, out of view.
POST_ION_HFW_M = 40e-6
# ... and centred in the FIB at this one. There its face is only ~1.2 µm tall (4 µm at
# the milling angle) and must be placed to the FIB's centring tolerance (30 nm,
# plans/site_finding.py): at 80 µm (52 nm pixels) detections scattered by ±50 nm and
# the centring went back and forth without converging (stress seed 9); at 40 µm they
# scatter by ±25 nm. The SEM has centred the chunk across by then, so it is in view;
# if not, the detection is retried at twice the field width.
POST_ION_CENTRED_M = 60e-9
# ... to this tolerance, not the site's 30 nm: with ±25 nm scatter a 30 nm bound is met
# by a detection only now and then, and four moves could still end 54 nm out (stress
# seed 9, 5 sites). 60 nm is ~2.4 times the scatter, 2.3 FIB pixels, and an eighth of
# the 0.5 µm the lamella's centre may be off; the thickness does not depend on it (the
# patterns keep their gap wherever the centre is).


class Sought(NamedTuple):
    """What to centre on at an orientation, and at which field widths (metres)."""

    target: str  # the feature detectors' target
    hfw_m: float  # SEM field width (and the first reference's)
    ion_hfw_m: float  # FIB field width
    ion_centred_m: float | None = None  # FIB centring tolerance (None: the site's)


def stage_orientation(protocol: LamellaProtocol, stage: str) -> str:
    """The orientation a workflow stage works at: the lift-out method thins the lamella
    on its post; every other stage works at the site."""
    if protocol.method == "liftout" and stage in THINNING_STAGES:
        return POST
    return ORIENTATION[stage]


def orientation_pose(
    microscope: Microscope, protocol: LamellaProtocol, orientation: str
) -> StagePosition:
    """Rotation and tilt of an orientation (x, y, z left None)."""
    geom = microscope.geometry
    if orientation == "flat_ion":
        return geo.flat_to_beam("ion", geom)
    milling = geo.tilt_for_milling_angle(protocol.milling_angle_deg, geom)
    if orientation in ("milling", POST):
        return milling
    if orientation == "undercut":
        return milling.model_copy(update={"t_deg": milling.t_deg + protocol.undercut_tilt_deg})
    known = sorted({*ORIENTATION.values(), POST})
    raise ValueError(f"orientation {orientation!r} unknown; use one of {known}")


def lamella_point(lamella: Lamella, orientation: str) -> StagePosition:
    """The pose whose specimen point the lamella is at, for an orientation: where it
    was landed for 'post', else its site."""
    if orientation != POST:
        return lamella.site
    if lamella.landed_at is None:
        raise ValueError(
            f"{lamella.name} has not been landed on a post (Lamella.landed_at is unset): "
            "run the lift-out and landing stages first"
        )
    return lamella.landed_at


def sought(orientation: str) -> Sought:
    """What finds the lamella at an orientation: the landed lamella on a post, else the
    grid square of the site."""
    if orientation == POST:
        return Sought("landed_lamella", POST_DETECT_HFW_M, POST_ION_HFW_M, POST_ION_CENTRED_M)
    return Sought("grid_square", DETECT_HFW_M, DETECT_HFW_M)
