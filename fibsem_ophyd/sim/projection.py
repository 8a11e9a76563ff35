"""Specimen → chamber → image projection, exactly as in docs/coordinates.md.

p_chamber = Rx(t) · ((x, y, z - z_e) + Rz(r - r_ref) · Rx(-p) · (u, v, h))
a = p·e_x,  b = p·e_v(θ),  depth = p·s(θ)
(a', b') = R(-φ) · (a - bx, b - by)
col = (W - 1)/2 + a'/ps,  row = (H - 1)/2 - b'/ps
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .parameters import TwinParameters


@dataclass(frozen=True)
class StagePose:
    """A full raw stage pose (metres, degrees)."""

    x_m: float = 0.0
    y_m: float = 0.0
    z_m: float = 4.0e-3
    r_deg: float = 0.0
    t_deg: float = 35.0


@dataclass(frozen=True)
class ImageGeometry:
    """What fixes the chamber → pixel map of one beam's image."""

    column_tilt_deg: float
    hfw_m: float
    width_px: int
    height_px: int
    beam_shift_x_m: float = 0.0
    beam_shift_y_m: float = 0.0
    scan_rotation_deg: float = 0.0

    @property
    def pixel_m(self) -> float:
        return self.hfw_m / self.width_px


def rx(angle_deg: float) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rz(angle_deg: float) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def specimen_frame(pose: StagePose, params: TwinParameters) -> tuple[np.ndarray, np.ndarray]:
    """(R, o) with p_chamber = R · (u, v, h) + o."""
    tilt = rx(pose.t_deg)
    rot = rz(pose.r_deg - params.rotation_reference_deg) @ rx(-params.shuttle_pre_tilt_deg)
    offset = tilt @ np.array([pose.x_m, pose.y_m, pose.z_m - params.eucentric_z_m])
    return tilt @ rot, offset


def specimen_to_chamber(
    u_m: np.ndarray | float,
    v_m: np.ndarray | float,
    h_m: np.ndarray | float,
    pose: StagePose,
    params: TwinParameters,
) -> np.ndarray:
    """Chamber coordinates (..., 3) of specimen points (u, v, h)."""
    r, o = specimen_frame(pose, params)
    uvh = np.stack(np.broadcast_arrays(*(np.asarray(a, float) for a in (u_m, v_m, h_m))), -1)
    return uvh @ r.T + o


def source_direction(column_tilt_deg: float) -> np.ndarray:
    """s(θ): unit vector from the sample toward the column."""
    a = np.deg2rad(column_tilt_deg)
    return np.array([0.0, -np.sin(a), np.cos(a)])


def image_axes(column_tilt_deg: float) -> np.ndarray:
    """Rows e_x and e_v(θ) (2 × 3): image right and image up, in the chamber frame."""
    a = np.deg2rad(column_tilt_deg)
    return np.array([[1.0, 0.0, 0.0], [0.0, np.cos(a), np.sin(a)]])


def depth_m(p_chamber: np.ndarray, column_tilt_deg: float) -> np.ndarray:
    """Distance of chamber points toward the source (larger = closer to the pole piece)."""
    return np.asarray(p_chamber) @ source_direction(column_tilt_deg)


def _plane_to_pixel(geom: ImageGeometry) -> tuple[np.ndarray, np.ndarray]:
    """(L, c): (col, row) = L · (a, b) + c, including beam shift and scan rotation."""
    phi = np.deg2rad(geom.scan_rotation_deg)
    rot = np.array([[np.cos(phi), np.sin(phi)], [-np.sin(phi), np.cos(phi)]])  # R(-φ)
    flip = np.diag([1.0 / geom.pixel_m, -1.0 / geom.pixel_m])
    lin = flip @ rot
    centre = np.array([(geom.width_px - 1) / 2, (geom.height_px - 1) / 2])
    c = centre - lin @ np.array([geom.beam_shift_x_m, geom.beam_shift_y_m])
    return lin, c


def chamber_to_image(p_chamber: np.ndarray, geom: ImageGeometry) -> np.ndarray:
    """Pixel (col, row) (..., 2) of chamber points in the image of `geom`."""
    ab = np.asarray(p_chamber) @ image_axes(geom.column_tilt_deg).T
    lin, c = _plane_to_pixel(geom)
    return ab @ lin.T + c


def image_offset_to_pixel(dx_m: float, dy_m: float, geom: ImageGeometry) -> tuple[float, float]:
    """Pixel of an image offset (dx right, dy up, metres from the image centre)."""
    return (geom.width_px - 1) / 2 + dx_m / geom.pixel_m, (
        geom.height_px - 1
    ) / 2 - dy_m / geom.pixel_m


def specimen_to_image_affine(
    pose: StagePose, params: TwinParameters, geom: ImageGeometry, h_m: float = 0.0
) -> np.ndarray:
    """2 × 3 matrix A with (col, row) = A · (u, v, 1) for points at height `h_m`."""
    r, o = specimen_frame(pose, params)
    lin, c = _plane_to_pixel(geom)
    proj = lin @ image_axes(geom.column_tilt_deg)  # chamber -> pixel (2 × 3)
    a = np.empty((2, 3))
    a[:, :2] = proj @ r[:, :2]
    a[:, 2] = proj @ (r[:, 2] * h_m + o) + c
    return a


def height_parallax_px(pose: StagePose, params: TwinParameters, geom: ImageGeometry) -> np.ndarray:
    """Image displacement (col, row) per metre of surface height."""
    r, _ = specimen_frame(pose, params)
    lin, _ = _plane_to_pixel(geom)
    return lin @ image_axes(geom.column_tilt_deg) @ r[:, 2]


def invert_affine(a: np.ndarray) -> np.ndarray:
    """Inverse of a 2 × 3 affine map."""
    lin_inv = np.linalg.inv(a[:, :2])
    out = np.empty((2, 3))
    out[:, :2] = lin_inv
    out[:, 2] = -lin_inv @ a[:, 2]
    return out
