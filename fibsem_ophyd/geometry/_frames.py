"""Frames of docs/coordinates.md: rotations, stage stack, beam projection, pixels.

Angles are degrees at every public argument, radians only inside. Functions accept
scalars or numpy arrays and broadcast; chamber points are arrays of shape (..., 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fibsem_ophyd.backend._types import BeamName, StagePosition

if TYPE_CHECKING:
    from fibsem_ophyd.config import MicroscopeConfig

Vec = NDArray[np.float64]


def rot_x(angle_deg: float) -> Vec:
    """Right-handed rotation by ``angle_deg`` about x: y → z for +90°."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_z(angle_deg: float) -> Vec:
    """Right-handed rotation by ``angle_deg`` about z: x → y for +90°."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rot_2d(angle_deg: float) -> Vec:
    """Counter-clockwise 2-D rotation ``R(angle)`` (image plane, x right, y up)."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s], [s, c]])


@dataclass(frozen=True)
class StageGeometry:
    """The fixed geometry the formulas need (degrees, metres). Defaults: a typical
    cryo FIB-SEM (SEM vertical, FIB at 52°, 35° shuttle pre-tilt)."""

    electron_column_tilt_deg: float = 0.0
    ion_column_tilt_deg: float = 52.0
    shuttle_pre_tilt_deg: float = 35.0
    rotation_reference_deg: float = 0.0
    rotation_180_deg: float = 180.0
    eucentric_z_m: float = 4.0e-3

    @classmethod
    def from_config(cls, config: MicroscopeConfig) -> StageGeometry:
        """The geometry described by a MicroscopeConfig."""
        st = config.stage
        return cls(
            electron_column_tilt_deg=config.electron.column_tilt_deg,
            ion_column_tilt_deg=config.ion.column_tilt_deg,
            shuttle_pre_tilt_deg=st.shuttle_pre_tilt_deg,
            rotation_reference_deg=st.rotation_reference_deg,
            rotation_180_deg=st.rotation_180_deg,
            eucentric_z_m=st.eucentric_z_m,
        )

    def column_tilt_deg(self, beam: BeamName) -> float:
        """Tilt θ of column ``beam`` from chamber z, degrees."""
        if beam == "electron":
            return self.electron_column_tilt_deg
        if beam == "ion":
            return self.ion_column_tilt_deg
        raise ValueError(f"beam: got {beam!r}; allowed: 'electron', 'ion'")


def full_pose(pose: StagePosition) -> tuple[float, float, float, float, float]:
    """``(x_m, y_m, z_m, r_deg, t_deg)``; every axis must be set (ValueError names the missing)."""
    values = (pose.x_m, pose.y_m, pose.z_m, pose.r_deg, pose.t_deg)
    missing = [
        n for n, v in zip(("x_m", "y_m", "z_m", "r_deg", "t_deg"), values, strict=True) if v is None
    ]
    if missing:
        raise ValueError(f"pose: axes {missing} are None; geometry needs a complete pose")
    return values  # type: ignore[return-value]


def source_direction(beam_tilt_deg: float) -> Vec:
    """``s(θ) = (0, -sin θ, cos θ)``: unit vector from the sample toward the column."""
    a = np.radians(beam_tilt_deg)
    return np.array([0.0, -np.sin(a), np.cos(a)])


def image_axes(beam_tilt_deg: float) -> tuple[Vec, Vec]:
    """``(e_x, e_v(θ))``: image right ``(1, 0, 0)`` and image up ``(0, cos θ, sin θ)``.

    ``(e_x, e_v, s)`` is a right-handed orthonormal basis (``e_x × e_v = s``).
    """
    a = np.radians(beam_tilt_deg)
    return np.array([1.0, 0.0, 0.0]), np.array([0.0, np.cos(a), np.sin(a)])


def specimen_rotation(pose: StagePosition, geom: StageGeometry) -> Vec:
    """``S = Rz(r - r_ref) · Rx(-p)``: specimen axes in the tilted stage frame."""
    r = full_pose(pose)[3]
    return rot_z(r - geom.rotation_reference_deg) @ rot_x(-geom.shuttle_pre_tilt_deg)


def stage_translation(pose: StagePosition, geom: StageGeometry) -> Vec:
    """``T = (x, y, z - z_e)``: the translation of the shuttle origin in the tilted frame."""
    x, y, z, _, _ = full_pose(pose)
    return np.array([x, y, z - geom.eucentric_z_m])


def specimen_to_chamber(
    u_m: ArrayLike, v_m: ArrayLike, h_m: ArrayLike, pose: StagePosition, geom: StageGeometry
) -> Vec:
    """Chamber position(s) of specimen point(s) ``(u, v, h)``, shape (..., 3).

    ``p = Rx(t) · ( (x, y, z - z_e) + Rz(r - r_ref) · Rx(-p) · (u, v, h) )`` (contract).
    """
    q = np.stack(np.broadcast_arrays(*(np.asarray(c, float) for c in (u_m, v_m, h_m))), -1)
    tilt = rot_x(full_pose(pose)[4])
    inner = stage_translation(pose, geom) + q @ specimen_rotation(pose, geom).T
    return inner @ tilt.T


def chamber_to_specimen(p_m: ArrayLike, pose: StagePosition, geom: StageGeometry) -> Vec:
    """Inverse of :func:`specimen_to_chamber`: ``(u, v, h)`` of chamber point(s), (..., 3)."""
    p = np.asarray(p_m, float)
    inner = p @ rot_x(full_pose(pose)[4]) - stage_translation(pose, geom)  # Rx(t)^-1 = Rx(t)^T
    return inner @ specimen_rotation(pose, geom)  # S^-1 = S^T


def specimen_normal(pose: StagePosition, geom: StageGeometry) -> Vec:
    """Unit surface normal (specimen +h) in the chamber frame: ``Rx(t)·S·(0, 0, 1)``."""
    return rot_x(full_pose(pose)[4]) @ specimen_rotation(pose, geom) @ np.array([0.0, 0.0, 1.0])


def chamber_to_image(
    p_m: ArrayLike,
    beam_tilt_deg: float,
    beam_shift_m: tuple[float, float] = (0.0, 0.0),
    scan_rotation_deg: float = 0.0,
) -> tuple[Vec, Vec]:
    """Image-plane coordinates ``(a', b')`` (metres, x right, y up from the image centre).

    ``a = p·e_x``, ``b = p·e_v(θ)``, then ``(a', b') = R(-φ) · (a - bx, b - by)``.
    """
    p = np.asarray(p_m, float)
    e_x, e_v = image_axes(beam_tilt_deg)
    ab = np.stack([p @ e_x - beam_shift_m[0], p @ e_v - beam_shift_m[1]], -1)
    out = ab @ rot_2d(-scan_rotation_deg).T
    return out[..., 0], out[..., 1]


def unrotate_offset(
    dx_m: ArrayLike,
    dy_m: ArrayLike,
    scan_rotation_deg: float = 0.0,
    beam_shift_m: tuple[float, float] = (0.0, 0.0),
) -> tuple[Vec, Vec]:
    """Inverse of the scan-rotation/beam-shift step: image offset ``(a', b')`` → ``(a, b)``.

    ``(a, b) = R(φ) · (a', b') + (bx, by)``.
    """
    ab = np.stack(np.broadcast_arrays(np.asarray(dx_m, float), np.asarray(dy_m, float)), -1)
    out = ab @ rot_2d(scan_rotation_deg).T
    return out[..., 0] + beam_shift_m[0], out[..., 1] + beam_shift_m[1]


def image_to_pixels(
    a_m: ArrayLike, b_m: ArrayLike, width_px: int, height_px: int, hfw_m: float
) -> tuple[Vec, Vec]:
    """``(col, row)`` of image offset ``(a', b')``: ``col = (W-1)/2 + a'/ps``,
    ``row = (H-1)/2 - b'/ps`` with ``ps = hfw / W`` (pixel centres at integers)."""
    ps = hfw_m / width_px
    col = (width_px - 1) / 2.0 + np.asarray(a_m, float) / ps
    row = (height_px - 1) / 2.0 - np.asarray(b_m, float) / ps
    return col, row


def pixels_to_image_offset(
    col: ArrayLike, row: ArrayLike, width_px: int, height_px: int, hfw_m: float
) -> tuple[Vec, Vec]:
    """Inverse of :func:`image_to_pixels`: ``(a', b')`` metres of pixel ``(col, row)``."""
    ps = hfw_m / width_px
    a = (np.asarray(col, float) - (width_px - 1) / 2.0) * ps
    b = ((height_px - 1) / 2.0 - np.asarray(row, float)) * ps
    return a, b
