"""Stage moves derived from docs/coordinates.md: stable move, vertical move, beam
coincidence, and moves in specimen coordinates. Every function is pure: it returns a
target raw pose (x_m, y_m, z_m, r_deg, t_deg) and moves nothing.

A raw translation change ``ΔT`` moves every specimen point by ``Rx(t)·ΔT`` in the chamber
(from ``p = Rx(t)·(T + S·q)``), so a wanted chamber displacement ``Δ`` needs
``ΔT = Rx(-t)·Δ``; rotation and tilt stay as they are.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fibsem_ophyd.backend._types import BeamName, StagePosition

from ._frames import (
    StageGeometry,
    chamber_to_specimen,
    full_pose,
    image_axes,
    rot_x,
    source_direction,
    specimen_normal,
    specimen_rotation,
    specimen_to_chamber,
    stage_translation,
    unrotate_offset,
)

Vec = NDArray[np.float64]
_GRAZING = 1e-9  # |n·s| below this: the beam runs along the specimen plane


def translate(pose: StagePosition, chamber_delta_m: Vec) -> StagePosition:
    """``pose`` with its translation changed so specimen points move by ``chamber_delta_m``
    (chamber frame, metres): ``ΔT = Rx(-t)·Δ``."""
    x, y, z, r, t = full_pose(pose)
    d = rot_x(-t) @ np.asarray(chamber_delta_m, float)
    return _pose(x + d[0], y + d[1], z + d[2], r, t)


def _pose(x: float, y: float, z: float, r: float, t: float) -> StagePosition:
    return StagePosition(x_m=float(x), y_m=float(y), z_m=float(z), r_deg=float(r), t_deg=float(t))


def image_to_specimen(
    dx_m: float,
    dy_m: float,
    beam: BeamName,
    pose: StagePosition,
    geom: StageGeometry,
    h_m: float = 0.0,
    scan_rotation_deg: float = 0.0,
    beam_shift_m: tuple[float, float] = (0.0, 0.0),
) -> Vec:
    """Specimen ``(u, v, h)`` of the point seen at image offset ``(dx, dy)`` on plane ``h``.

    The beam ray through image-plane point ``(a, b)`` is ``a·e_x + b·e_v + λ·s``; it meets
    the plane ``n·p = n·p0`` (``p0`` = specimen point (0, 0, h)) at
    ``λ = (n·p0 - a·n·e_x - b·n·e_v) / (n·s)``.
    """
    theta = geom.column_tilt_deg(beam)
    e_x, e_v = image_axes(theta)
    s = source_direction(theta)
    n = specimen_normal(pose, geom)
    ns = float(n @ s)
    if abs(ns) < _GRAZING:
        raise ValueError(f"{beam} beam is parallel to the specimen plane; no intersection")
    a, b = unrotate_offset(dx_m, dy_m, scan_rotation_deg, beam_shift_m)
    p0 = specimen_to_chamber(0.0, 0.0, h_m, pose, geom)
    lam = (float(n @ p0) - a * (n @ e_x) - b * (n @ e_v)) / ns
    return chamber_to_specimen(a * e_x + b * e_v + lam * s, pose, geom)


def stable_move_delta(
    dx_m: float,
    dy_m: float,
    beam: BeamName,
    pose: StagePosition,
    geom: StageGeometry,
    scan_rotation_deg: float = 0.0,
) -> Vec:
    """Chamber displacement ``Δ`` (metres) of a stable move; see :func:`stable_move`.

    With ``(δa, δb) = R(φ)·(dx, dy)`` the offset point and the centre point on the
    specimen plane differ by the ray formula of :func:`image_to_specimen`:
    ``Δ = p_centre - p_offset = -(δa·e_x + δb·e_v) + ((δa·n·e_x + δb·n·e_v)/(n·s))·s``.
    Beam shift and the plane's height cancel in the difference.
    """
    theta = geom.column_tilt_deg(beam)
    e_x, e_v = image_axes(theta)
    s = source_direction(theta)
    n = specimen_normal(pose, geom)
    ns = float(n @ s)
    if abs(ns) < _GRAZING:
        raise ValueError(f"{beam} beam is parallel to the specimen plane; stable move undefined")
    da, db = (float(c) for c in unrotate_offset(dx_m, dy_m, scan_rotation_deg))
    along = (da * float(n @ e_x) + db * float(n @ e_v)) / ns
    return -(da * e_x + db * e_v) + along * s


def stable_move(
    dx_m: float,
    dy_m: float,
    beam: BeamName,
    pose: StagePosition,
    geom: StageGeometry,
    scan_rotation_deg: float = 0.0,
    beam_shift_m: tuple[float, float] = (0.0, 0.0),
) -> StagePosition:
    """Raw target pose that brings the feature at image offset ``(dx, dy)`` (metres,
    image plane, x right, y up from the centre) of ``beam``'s image to the image centre,
    moving the specimen within its own plane (so its depth along every beam is kept).

    Back-project the offset along ``s`` onto the specimen plane (point ``p``); the
    target is where the ray through the image centre meets the same plane; the
    translation ``Δ = target - p`` lies in the plane, and ``ΔT = Rx(-t)·Δ``.
    ``beam_shift_m`` does not change the result (it shifts both rays equally); it is
    accepted so callers can pass the imaging state as it is.
    """
    del beam_shift_m  # cancels: see docstring
    return translate(pose, stable_move_delta(dx_m, dy_m, beam, pose, geom, scan_rotation_deg))


def project_stable_move(
    dx_m: float,
    dy_m: float,
    beam: BeamName,
    pose: StagePosition,
    geom: StageGeometry,
    scan_rotation_deg: float = 0.0,
    beam_shift_m: tuple[float, float] = (0.0, 0.0),
) -> tuple[StagePosition, Vec]:
    """Plan a stable move without moving: the target pose and the specimen point
    ``(u, v, h=0)`` that will be under the image centre (for UIs / site planning)."""
    target = stable_move(dx_m, dy_m, beam, pose, geom, scan_rotation_deg, beam_shift_m)
    uvh = image_to_specimen(dx_m, dy_m, beam, pose, geom, 0.0, scan_rotation_deg, beam_shift_m)
    return target, uvh


def vertical_move(
    dy_m: float,
    pose: StagePosition,
    geom: StageGeometry,
    dx_m: float = 0.0,
    scan_rotation_deg: float = 0.0,
    image_beam: BeamName = "ion",
    keep_beam: BeamName = "electron",
) -> StagePosition:
    """Raw target pose that centres vertically the feature at offset ``(dx, dy)`` of the
    ``image_beam`` image, while the ``keep_beam`` view does not change.

    Moving along the kept column's source direction ``s_k`` does not change any point's
    ``(a, b)`` in that column (``s_k ⟂ e_x, e_v`` of that column). In the other column,
    ``Δ = λ·s_k`` changes ``a`` by ``λ·s_k·e_x = 0`` and ``b`` by
    ``λ·s_k·e_v(θ_img) = λ·sin(θ_img - θ_keep)``; centring ``δb`` (the unrotated
    vertical offset, ``(δa, δb) = R(φ)(dx, dy)``) needs ``λ = -δb / sin(θ_img - θ_keep)``.
    A horizontal offset ``δa`` cannot be removed by this move and stays.
    """
    th_img, th_keep = geom.column_tilt_deg(image_beam), geom.column_tilt_deg(keep_beam)
    gain = np.sin(np.radians(th_img - th_keep))
    if abs(gain) < _GRAZING:
        raise ValueError("vertical_move needs two columns at different tilts")
    _, db = unrotate_offset(dx_m, dy_m, scan_rotation_deg)
    lam = -float(db) / gain
    return translate(pose, lam * source_direction(th_keep))


def locate_feature(
    electron_offset_m: tuple[float, float],
    ion_offset_m: tuple[float, float],
    geom: StageGeometry,
    electron_scan_rotation_deg: float = 0.0,
    ion_scan_rotation_deg: float = 0.0,
    electron_beam_shift_m: tuple[float, float] = (0.0, 0.0),
    ion_beam_shift_m: tuple[float, float] = (0.0, 0.0),
) -> Vec:
    """Chamber position of a feature seen at the given offsets in both images.

    Each image gives ``a = p·e_x`` and ``b = p·e_v(θ)`` (after undoing scan rotation and
    beam shift): four equations, three unknowns; solved by least squares (the two
    ``a`` measurements of chamber x are averaged).
    """
    rows, rhs = [], []
    for beam, off, rot, shift in (
        ("electron", electron_offset_m, electron_scan_rotation_deg, electron_beam_shift_m),
        ("ion", ion_offset_m, ion_scan_rotation_deg, ion_beam_shift_m),
    ):
        e_x, e_v = image_axes(geom.column_tilt_deg(beam))  # type: ignore[arg-type]
        a, b = unrotate_offset(off[0], off[1], rot, shift)
        rows += [e_x, e_v]
        rhs += [float(a), float(b)]
    p, *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    return p


def beam_coincidence_move(
    electron_offset_m: tuple[float, float],
    ion_offset_m: tuple[float, float],
    pose: StagePosition,
    geom: StageGeometry,
    electron_scan_rotation_deg: float = 0.0,
    ion_scan_rotation_deg: float = 0.0,
    electron_beam_shift_m: tuple[float, float] = (0.0, 0.0),
    ion_beam_shift_m: tuple[float, float] = (0.0, 0.0),
) -> StagePosition:
    """Raw target pose that brings the feature to the eucentric point (chamber origin),
    where both columns see it at their image centres (with zero beam shift).

    ``Δ = -p`` with ``p`` from :func:`locate_feature`. When the feature is already
    centred in the electron image this is exactly :func:`vertical_move` by the ion offset.
    """
    p = locate_feature(
        electron_offset_m,
        ion_offset_m,
        geom,
        electron_scan_rotation_deg,
        ion_scan_rotation_deg,
        electron_beam_shift_m,
        ion_beam_shift_m,
    )
    return translate(pose, -p)


def specimen_to_raw(
    u_m: float, v_m: float, r_deg: float, t_deg: float, geom: StageGeometry, h_m: float = 0.0
) -> StagePosition:
    """Raw pose at rotation ``r`` and tilt ``t`` that puts specimen point ``(u, v, h)``
    at the eucentric point: ``T + S·q = 0`` ⇒ ``(x, y, z) = -S·q + (0, 0, z_e)``
    (independent of ``t``, which rotates about the eucentric point)."""
    probe = StagePosition(x_m=0.0, y_m=0.0, z_m=0.0, r_deg=r_deg, t_deg=t_deg)
    d = -specimen_rotation(probe, geom) @ np.array([u_m, v_m, h_m], float)
    return _pose(d[0], d[1], d[2] + geom.eucentric_z_m, r_deg, t_deg)


def raw_to_specimen(pose: StagePosition, geom: StageGeometry) -> Vec:
    """Specimen ``(u, v, h)`` of the point at the eucentric point: ``q = -S^T·T``."""
    return -(specimen_rotation(pose, geom).T @ stage_translation(pose, geom))


def specimen_move(
    du_m: float, dv_m: float, pose: StagePosition, geom: StageGeometry
) -> StagePosition:
    """Raw pose after translating the specimen by ``(du, dv)`` along its own ``u, v`` axes.

    ``ΔT = S·(du, dv, 0)`` (raw stage frame): the specimen plane is kept, and the
    specimen point at the eucentric point changes by ``(-du, -dv)``.
    """
    x, y, z, r, t = full_pose(pose)
    d = specimen_rotation(pose, geom) @ np.array([du_m, dv_m, 0.0])
    return _pose(x + d[0], y + d[1], z + d[2], r, t)
