"""Movement plans: absolute, relative, safe, stable, vertical, flat to a beam, milling
angle, beam coincidence. The geometry is in `fibsem_ophyd.geometry` (pure functions,
derived in docs/coordinates.md); these plans read the pose, compute, and move.

Every target is checked against the stage's soft limits (and for NaN/inf) before
anything moves.
"""

from __future__ import annotations

import bluesky.plan_stubs as bps
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd import geometry as geo
from fibsem_ophyd.backend import BEAM_NAMES, StagePosition
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.values import typed_model, typed_number

from .stubs import call, read_pose

BEAMS = BEAM_NAMES


def _check_finite(**values: float) -> None:
    """Each value must be a finite int or float (not a string): the error names it."""
    for name, v in values.items():
        typed_number(name, v, name.rsplit("_", 1)[1] if "_" in name else None)


def _check_beam(beam: str) -> None:
    if beam not in BEAMS:
        raise ValueError(f"beam={beam!r} is not allowed; use one of {BEAMS}")


@plan
def move_absolute(microscope: Microscope, target: StagePosition) -> MsgGenerator[None]:
    """Move the axes of `target` that are set (raw coordinates), limits checked first."""
    target = typed_model("target", StagePosition, target)
    microscope.stage.check_position(target)
    yield from bps.mv(microscope.stage, target)


@plan
def move_relative(
    microscope: Microscope,
    dx_m: float = 0.0,
    dy_m: float = 0.0,
    dz_m: float = 0.0,
    dr_deg: float = 0.0,
    dt_deg: float = 0.0,
) -> MsgGenerator[StagePosition]:
    """Move by the given raw increments; returns the target pose."""
    _check_finite(dx_m=dx_m, dy_m=dy_m, dz_m=dz_m, dr_deg=dr_deg, dt_deg=dt_deg)
    p = yield from read_pose(microscope)
    target = StagePosition(
        x_m=p.x_m + dx_m, y_m=p.y_m + dy_m, z_m=p.z_m + dz_m,
        r_deg=p.r_deg + dr_deg, t_deg=p.t_deg + dt_deg,
    )  # fmt: skip
    yield from move_absolute(microscope, target)
    return target


@plan
def safe_move(
    microscope: Microscope, target: StagePosition, rotation_tolerance_deg: float = 1.0
) -> MsgGenerator[None]:
    """Absolute move that avoids collisions: refuse targets outside the limits, retract
    the needles, tilt flat (t = 0) before a rotation larger than the tolerance, rotate
    and translate, then tilt to the target."""
    target = typed_model("target", StagePosition, target)
    microscope.stage.check_position(target)
    if microscope.backend.manipulator.inserted:
        yield from call(lambda: microscope.manipulator.retract())
    if microscope.backend.gis.inserted:
        yield from call(lambda: microscope.gis.retract())
    here = yield from read_pose(microscope)
    full = target.merged(here)
    d_r = (full.r_deg - here.r_deg + 180.0) % 360.0 - 180.0
    if abs(d_r) > rotation_tolerance_deg and abs(here.t_deg) > 1e-6:
        yield from bps.mv(microscope.stage, StagePosition(t_deg=0.0))
    yield from bps.mv(
        microscope.stage,
        StagePosition(x_m=full.x_m, y_m=full.y_m, z_m=full.z_m, r_deg=full.r_deg),
    )
    yield from bps.mv(microscope.stage, StagePosition(t_deg=full.t_deg))


@plan
def stable_move(
    microscope: Microscope, dx_m: float, dy_m: float, beam: str = "electron"
) -> MsgGenerator[StagePosition]:
    """Bring the feature at image offset (dx, dy) (metres, x right, y up from the centre)
    of `beam`'s image to the image centre, keeping the specimen in its plane."""
    _check_beam(beam)
    _check_finite(dx_m=dx_m, dy_m=dy_m)
    pose = yield from read_pose(microscope)
    scan_rot = yield from bps.rd(microscope.beam(beam).scan_rotation_deg)
    target = geo.stable_move(dx_m, dy_m, beam, pose, microscope.geometry, scan_rot)  # type: ignore[arg-type]
    yield from move_absolute(microscope, target)
    return target


@plan
def vertical_move(
    microscope: Microscope, dy_m: float, dx_m: float = 0.0
) -> MsgGenerator[StagePosition]:
    """Centre vertically the feature at offset dy (metres, up) of the ion image, moving
    along the electron beam so the SEM view does not change."""
    _check_finite(dx_m=dx_m, dy_m=dy_m)
    pose = yield from read_pose(microscope)
    scan_rot = yield from bps.rd(microscope.ion_beam.scan_rotation_deg)
    target = geo.vertical_move(dy_m, pose, microscope.geometry, dx_m, scan_rot)
    yield from move_absolute(microscope, target)
    return target


@plan
def move_flat_to_beam(microscope: Microscope, beam: str = "electron") -> MsgGenerator[None]:
    """Rotate and tilt so the specimen surface faces `beam` (safe move)."""
    _check_beam(beam)
    yield from safe_move(microscope, geo.flat_to_beam(beam, microscope.geometry))  # type: ignore[arg-type]


@plan
def move_to_milling_angle(
    microscope: Microscope, angle_deg: float, rotation: geo.RotationName = "reference"
) -> MsgGenerator[None]:
    """Tilt so the ion beam meets the specimen surface at `angle_deg` degrees."""
    _check_finite(angle_deg=angle_deg)
    yield from safe_move(
        microscope, geo.tilt_for_milling_angle(angle_deg, microscope.geometry, rotation)
    )


@plan
def read_milling_angle(microscope: Microscope) -> MsgGenerator[float]:
    """The present angle between the ion beam and the specimen surface, degrees."""
    pose = yield from read_pose(microscope)
    return geo.milling_angle(pose, microscope.geometry)


@plan
def beam_coincidence(
    microscope: Microscope,
    electron_offset_m: tuple[float, float],
    ion_offset_m: tuple[float, float],
) -> MsgGenerator[StagePosition]:
    """Bring a feature seen at these offsets in the SEM and FIB images to the eucentric
    point, where it is centred in both beams."""
    _check_finite(ex=electron_offset_m[0], ey=electron_offset_m[1])
    _check_finite(ix=ion_offset_m[0], iy=ion_offset_m[1])
    pose = yield from read_pose(microscope)
    e_rot = yield from bps.rd(microscope.electron_beam.scan_rotation_deg)
    i_rot = yield from bps.rd(microscope.ion_beam.scan_rotation_deg)
    target = geo.beam_coincidence_move(
        electron_offset_m, ion_offset_m, pose, microscope.geometry, e_rot, i_rot
    )
    yield from move_absolute(microscope, target)
    return target
