"""Widefield fluorescence of labelled targets at the sites (integrated light microscope).

The objective looks along chamber z at the eucentric point; the focal plane sits at
chamber height `objective_position_m`. Reflection shows the copper grid bars.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .parameters import TwinParameters
from .projection import (
    ImageGeometry,
    StagePose,
    invert_affine,
    specimen_to_chamber,
    specimen_to_image_affine,
)
from .specimen import Specimen
from .state import FluorescenceState

CHANNELS = ("green", "red", "reflection")
PSF_SIGMA_M = 0.25e-6
DEFOCUS_SPREAD = 0.4  # blur sigma per metre of defocus (≈ numerical aperture)


@dataclass(frozen=True)
class Target:
    u_m: float
    v_m: float
    radius_m: float
    brightness: dict[str, float]


def make_targets(specimen: Specimen, seed: int) -> list[Target]:
    """A few fluorescent blobs around every site, with channel-dependent brightness."""
    rng = np.random.default_rng(seed + 3)
    out = []
    for site in specimen.sites:
        for _ in range(int(rng.integers(3, 7))):
            du, dv = rng.uniform(-20e-6, 20e-6, 2)
            out.append(
                Target(
                    site.u_m + du,
                    site.v_m + dv,
                    float(rng.uniform(0.3e-6, 1.5e-6)),
                    {"green": float(rng.uniform(0.2, 1.0)), "red": float(rng.uniform(0.0, 0.8))},
                )
            )
    return out


def render_fluorescence(
    specimen: Specimen,
    targets: list[Target],
    params: TwinParameters,
    pose: StagePose,
    state: FluorescenceState,
    rng: np.random.Generator,
) -> np.ndarray:
    if state.channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, got {state.channel!r}")
    w, h = params.fluorescence_resolution_px
    ps = params.fluorescence_pixel_m
    geom = ImageGeometry(0.0, ps * w, w, h)
    a = specimen_to_image_affine(pose, params, geom, 0.0)
    centre = invert_affine(a) @ np.array([(w - 1) / 2, (h - 1) / 2, 1.0])
    surface_z = float(specimen_to_chamber(centre[0], centre[1], 0.0, pose, params)[2])
    defocus = abs(state.objective_position_m - surface_z)
    sigma_px = float(np.hypot(PSF_SIGMA_M, DEFOCUS_SPREAD * defocus)) / ps

    signal = np.zeros((h, w), np.float32)
    if state.channel == "reflection":
        cols, rows = np.meshgrid(np.arange(w, dtype=float), np.arange(h, dtype=float))
        inv = invert_affine(a)
        uu = inv[0, 0] * cols + inv[0, 1] * rows + inv[0, 2]
        vv = inv[1, 0] * cols + inv[1, 1] * rows + inv[1, 2]
        signal += (0.2 + 0.8 * specimen.bar_fraction(uu, vv, ps)).astype(np.float32)
    else:
        for t in targets:
            col, row = a @ np.array([t.u_m, t.v_m, 1.0])
            r = t.radius_m / ps
            if -r < col < w + r and -r < row < h + r:
                centre_fp = (round(col * 16), round(row * 16))
                level = t.brightness[state.channel]
                cv2.circle(signal, centre_fp, max(1, round(r * 16)), level, -1, cv2.LINE_AA, 4)
    signal = cv2.GaussianBlur(signal, (0, 0), max(sigma_px, 0.3))
    photons = signal * (4.0e4 * state.exposure_time_s * state.excitation_power) + 100.0
    counts = rng.poisson(photons).astype(np.float64)
    return np.clip(counts, 0, 65535).astype(np.uint16)
