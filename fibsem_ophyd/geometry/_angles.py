"""Orientation helpers: flat to a beam, milling angle ↔ stage tilt (docs/coordinates.md).

The surface normal is ``n = Rx(t)·Rz(r - r_ref)·Rx(-p)·(0, 0, 1)
= Rx(t)·Rz(r - r_ref)·(0, sin p, cos p)``. At ``r = r_ref`` this is ``s(t - p)``;
at ``r = r_ref + 180°`` (``Rz(180°)`` negates the y component) it is ``s(t + p)``,
where ``s(α) = (0, -sin α, cos α)`` is the source direction of a column tilted by ``α``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from fibsem_ophyd.backend._types import BeamName, StagePosition

from ._frames import StageGeometry, source_direction, specimen_normal

RotationName = Literal["reference", "180"]


def _check_180(geom: StageGeometry) -> None:
    diff = (geom.rotation_180_deg - geom.rotation_reference_deg - 180.0) % 360.0
    if min(diff, 360.0 - diff) > 1e-9:
        raise ValueError(
            f"stage.rotation_180_deg ({geom.rotation_180_deg}) is not rotation_reference_deg "
            f"+ 180 ({geom.rotation_reference_deg} + 180); the closed forms assume it is"
        )


def flat_to_beam(beam: BeamName, geom: StageGeometry) -> StagePosition:
    """Rotation and tilt (x, y, z left None) that make the surface normal parallel to the
    source direction of ``beam``: ``s(t - p) = s(θ_e)`` at ``r_ref`` ⇒ ``t = θ_e + p``
    (35° by default); ``s(t + p) = s(θ_i)`` at ``r_180`` ⇒ ``t = θ_i - p`` (17°)."""
    p = geom.shuttle_pre_tilt_deg
    if beam == "electron":
        return StagePosition(
            r_deg=geom.rotation_reference_deg, t_deg=geom.electron_column_tilt_deg + p
        )
    if beam == "ion":
        _check_180(geom)
        return StagePosition(r_deg=geom.rotation_180_deg, t_deg=geom.ion_column_tilt_deg - p)
    raise ValueError(f"beam: got {beam!r}; allowed: 'electron', 'ion'")


def milling_angle(pose: StagePosition, geom: StageGeometry) -> float:
    """Angle (degrees) between the ion beam and the specimen surface at ``pose``:
    ``90° - angle(n, s_ion)``. 90° = beam normal to the surface; 0° = grazing;
    negative = the beam reaches the back of the surface. Valid at any r and t."""
    n = specimen_normal(pose, geom)
    s = source_direction(geom.ion_column_tilt_deg)
    return 90.0 - float(np.degrees(np.arccos(np.clip(n @ s, -1.0, 1.0))))


def tilt_for_milling_angle(
    angle_deg: float, geom: StageGeometry, rotation: RotationName = "reference"
) -> StagePosition:
    """Rotation and tilt that give milling angle ``angle_deg`` (x, y, z left None).

    The normal tilt ``α`` (normal = ``s(α)``) must be ``90° - m`` away from ``θ_i``; we
    take ``α = θ_i - (90° - m)`` (surface leaning away from the ion column, the
    lamella-milling geometry). At ``r_ref``: ``t - p = α`` ⇒ ``t = m + θ_i + p - 90°``
    (m - 3° by default: 18° → t = 15°). At ``r_180``: ``t + p = α`` ⇒
    ``t = m + θ_i - p - 90°`` (m - 73° by default, so within a -10°..60° tilt range only
    angles ≥ 63° are reachable there; shallow lamella angles need ``rotation="reference"``).
    """
    alpha = geom.ion_column_tilt_deg - (90.0 - angle_deg)
    p = geom.shuttle_pre_tilt_deg
    if rotation == "reference":
        return StagePosition(r_deg=geom.rotation_reference_deg, t_deg=alpha + p)
    if rotation == "180":
        _check_180(geom)
        return StagePosition(r_deg=geom.rotation_180_deg, t_deg=alpha - p)
    raise ValueError(f"rotation: got {rotation!r}; allowed: 'reference', '180'")
