"""SEM / FIB image formation: projection of the specimen texture, site patches, needles,
defocus blur, detector contrast/brightness and shot noise."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from .coating import coat_look
from .needles import draw_gis, draw_lamella_box, draw_manipulator
from .parameters import TwinParameters
from .patch_render import composite_patch
from .projection import (
    ImageGeometry,
    StagePose,
    height_parallax_px,
    invert_affine,
    source_direction,
    specimen_frame,
    specimen_to_chamber,
    specimen_to_image_affine,
)
from .specimen import Specimen
from .state import BeamState
from .texture import CHANNEL, N_LEVELS, TILE_PX, TilePyramid, level_pixel_m

ELEMENTARY_CHARGE_C = 1.602176634e-19
DETECTOR_YIELD = {"electron": 0.3, "ion": 1.0}  # detected particles per incident one
MAX_MOSAIC_TILES = 80
DARK_LEVEL = 12.0


@dataclass(frozen=True)
class Scene:
    """What the renderer needs besides the beam: true stage pose and inserted needles."""

    pose: StagePose
    needle_tip_m: np.ndarray | None = None
    gis_inserted: bool = False
    lamellae: tuple[np.ndarray, ...] = ()  # (8, 3) chamber corners of lifted-out lamellae


def _pixel_window(beam: BeamState, reduced_area: object | None) -> tuple[int, int, int, int]:
    """(col0, row0, width, height) of the scanned window in full-frame pixels."""
    w, h = beam.resolution_x_px, beam.resolution_y_px
    if reduced_area is None:
        return 0, 0, w, h
    ra = reduced_area
    c0, r0 = round(ra.left * w), round(ra.top * h)
    cw = max(1, min(w - c0, round(ra.width * w)))
    rh = max(1, min(h - r0, round(ra.height * h)))
    return c0, r0, cw, rh


class Renderer:
    """Renders frames of a `Specimen`; owns the tile cache and the noise bank."""

    def __init__(self, specimen: Specimen, params: TwinParameters) -> None:
        self.specimen = specimen
        self.params = params
        self.pyramid = TilePyramid(specimen)
        self._bank, state = _noise_bank(params.seed + 7)
        self._rng = np.random.default_rng(params.seed + 7)
        self._rng.bit_generator.state = state  # as if this twin had drawn the bank itself

    def geometry(self, beam_name: str, beam: BeamState) -> ImageGeometry:
        return ImageGeometry(
            self.params.column_tilt_deg(beam_name),
            beam.hfw_m,
            beam.resolution_x_px,
            beam.resolution_y_px,
            beam.beam_shift_x_m,
            beam.beam_shift_y_m,
            beam.scan_rotation_deg,
        )

    def surface_centre(self, pose: StagePose, geom: ImageGeometry) -> tuple[float, float, float]:
        """(u, v, h) where the image-centre ray meets the (reference-height) surface."""
        h = 0.0
        u = v = 0.0
        centre = np.array([(geom.width_px - 1) / 2, (geom.height_px - 1) / 2, 1.0])
        for _ in range(4):
            u, v = invert_affine(specimen_to_image_affine(pose, self.params, geom, h)) @ centre
            h = self.specimen.reference_height_m(float(u), float(v))
        return float(u), float(v), h

    def defocus_m(
        self,
        beam_name: str,
        beam: BeamState,
        pose: StagePose,
        centre: tuple[float, float, float] | None = None,
    ) -> float:
        """|working distance − surface distance from the pole piece| at the image centre."""
        geom = self.geometry(beam_name, beam)
        u, v, h = centre if centre is not None else self.surface_centre(pose, geom)
        p = specimen_to_chamber(u, v, h, pose, self.params)
        depth = float(p @ source_direction(geom.column_tilt_deg))
        surface_distance = self.params.eucentric_working_distance_m(beam_name) - depth
        return abs(beam.working_distance_m - surface_distance)

    def noise_sigma(self, beam_name: str, beam: BeamState) -> float:
        """Shot-noise std in grey levels (before detector gain)."""
        dose = beam.dwell_time_s * beam.current_a * beam.line_integration * beam.frame_integration
        n = max(dose / ELEMENTARY_CHARGE_C * DETECTOR_YIELD[beam_name], 1e-3)
        return 128.0 * self.params.noise_scale / np.sqrt(n)

    def render(
        self,
        beam_name: str,
        beam: BeamState,
        scene: Scene,
        reduced_area: object | None = None,
        labels: bool = False,
    ) -> np.ndarray:
        c0, r0, w, h = _pixel_window(beam, reduced_area)
        geom = self.geometry(beam_name, beam)
        rot, _ = specimen_frame(scene.pose, self.params)
        facing = float(rot[:, 2] @ source_direction(geom.column_tilt_deg))
        visible = beam.on and not beam.blanked and facing > 0.05
        if not visible:  # blanked, off, or the surface seen edge-on / from behind
            img = np.zeros((h, w), np.uint8)
            return img if labels else self._detector(img, beam, 3.0, dark=True)
        centre = self.surface_centre(scene.pose, geom)
        h_c = centre[2]
        a_out = specimen_to_image_affine(scene.pose, self.params, geom, h_c)
        a_out[:, 2] -= (c0, r0)
        img, mosaic, mosaic_to_out, footprint = self._warp_texture(
            a_out, w, h, CHANNEL["label" if labels else beam_name], labels
        )
        parallax = height_parallax_px(scene.pose, self.params, geom)
        channel = 2 if labels else CHANNEL[beam_name]
        for patch in self.specimen.patches:
            if patch.active:
                composite_patch(
                    img, patch, a_out, parallax, mosaic, mosaic_to_out, channel, footprint
                )
        if scene.gis_inserted or scene.needle_tip_m is not None or scene.lamellae:
            full = (
                img
                if (c0, r0, w, h) == (0, 0, beam.resolution_x_px, beam.resolution_y_px)
                else None
            )
            canvas = full if full is not None else self._full_canvas(img, beam, c0, r0)
            if scene.gis_inserted:
                draw_gis(canvas, geom, labels)
            if scene.needle_tip_m is not None:
                draw_manipulator(canvas, geom, scene.needle_tip_m, labels)
            for corners in scene.lamellae:
                draw_lamella_box(canvas, geom, corners, labels)
            if full is None:
                img = np.ascontiguousarray(canvas[r0 : r0 + h, c0 : c0 + w])
        if labels:
            return img
        sigma = self.defocus_m(beam_name, beam, scene.pose, centre)
        sigma *= self.params.convergence_semi_angle_rad(beam_name) / geom.pixel_m
        img = self._blur(img, sigma, beam)
        return self._detector(img, beam, self.noise_sigma(beam_name, beam))

    @staticmethod
    def _full_canvas(img: np.ndarray, beam: BeamState, c0: int, r0: int) -> np.ndarray:
        canvas = np.zeros((beam.resolution_y_px, beam.resolution_x_px), np.uint8)
        canvas[r0 : r0 + img.shape[0], c0 : c0 + img.shape[1]] = img
        return canvas

    def _warp_texture(
        self, a_out: np.ndarray, w: int, h: int, channel: int, nearest: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        lin = a_out[:, :2]
        footprint = 1.0 / float(np.linalg.svd(lin, compute_uv=False)[0])  # finest metres/px
        level = int(np.clip(np.round(np.log2(footprint / level_pixel_m(0))), 0, N_LEVELS - 1))
        inv = invert_affine(a_out)
        corners = np.array([[-1, -1, 1], [w, -1, 1], [-1, h, 1], [w, h, 1]], float) @ inv.T
        while True:
            ps = level_pixel_m(level)
            gx = corners[:, 0] / ps
            gy = -corners[:, 1] / ps
            gx_r = (int(np.floor(gx.min())) - 2, int(np.ceil(gx.max())) + 3)
            gy_r = (int(np.floor(gy.min())) - 2, int(np.ceil(gy.max())) + 3)
            n_tiles = ((gx_r[1] - gx_r[0]) // TILE_PX + 2) * ((gy_r[1] - gy_r[0]) // TILE_PX + 2)
            if n_tiles <= MAX_MOSAIC_TILES or level == N_LEVELS - 1:
                break
            level += 1  # very oblique or huge views: accept a coarser texture
        mosaic, gx0, gy0 = self.pyramid.mosaic(level, gx_r, gy_r, channel)
        if not nearest:  # grey channels: protective coats brighten and smooth the surface
            mosaic = coat_look(mosaic, self.specimen.coating.thickness_m)
        m = np.empty((2, 3))
        m[:, :2] = lin @ np.diag([ps, -ps])
        m[:, 2] = lin @ np.array([gx0 * ps, -gy0 * ps]) + a_out[:, 2]
        if not nearest:
            mosaic = _antialias(mosaic, m[:, :2])
        interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
        img = cv2.warpAffine(mosaic, m, (w, h), flags=interp, borderMode=cv2.BORDER_REPLICATE)
        return img, mosaic, m, footprint

    @staticmethod
    def _blur(img: np.ndarray, sigma: float, beam: BeamState) -> np.ndarray:
        """Defocus (isotropic, `sigma` px) plus astigmatism from the stigmators."""
        sx = float(np.hypot(sigma, 2.0 * abs(beam.stigmation_x)))
        sy = float(np.hypot(sigma, 2.0 * abs(beam.stigmation_y)))
        s = max(sx, sy)
        if s < 0.3:
            return img
        if s <= 6.0:
            return cv2.GaussianBlur(img, (0, 0), sigmaX=sx, sigmaY=sy)
        # Wide blur: blur a downscaled copy (cost independent of sigma).
        f = s / 3.0
        h, w = img.shape
        small = cv2.resize(
            img, (max(1, int(w / f)), max(1, int(h / f))), interpolation=cv2.INTER_AREA
        )
        small = cv2.GaussianBlur(small, (0, 0), sigmaX=sx / f, sigmaY=sy / f)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)

    def _detector(
        self, img: np.ndarray, beam: BeamState, sigma: float, dark: bool = False
    ) -> np.ndarray:
        """Linear detector map around mid-grey, plus shot noise (one fused OpenCV pass)."""
        gain = 2.0 ** ((beam.detector_contrast - 0.5) * 6.0)
        offset = (beam.detector_brightness - 0.5) * 255.0
        if dark:
            img = np.full(img.shape, DARK_LEVEL, np.uint8)
        noise = self._noise(img.shape)
        sign = 1.0 if self._rng.random() < 0.5 else -1.0
        return cv2.addWeighted(
            img, gain, noise, sign * gain * sigma, 128.0 * (1 - gain) + offset, dtype=cv2.CV_8U
        )

    def _noise(self, shape: tuple[int, int]) -> np.ndarray:
        h, w = shape
        bh, bw = self._bank.shape
        if h > bh or w > bw:
            out = np.empty((h, w), np.float32)
            cv2.randn(out, 0.0, 1.0)
            return out
        r = int(self._rng.integers(0, bh - h + 1))
        c = int(self._rng.integers(0, bw - w + 1))
        return self._bank[r : r + h, c : c + w]


NOISE_BANK_SHAPE = (1536, 2304)


@lru_cache(maxsize=4)
def _noise_bank(seed: int) -> tuple[np.ndarray, dict]:
    """Standard-normal noise for frames (read-only, shared by the twins of a process
    with this seed: drawing it costs ~70 ms, and tests make hundreds of twins) and the
    state of `default_rng(seed)` after drawing it."""
    rng = np.random.default_rng(seed)
    bank = rng.standard_normal(NOISE_BANK_SHAPE, dtype=np.float32)
    bank.flags.writeable = False
    return bank, rng.bit_generator.state


def _antialias(mosaic: np.ndarray, to_out: np.ndarray) -> np.ndarray:
    """Blur the texture along the axes an output pixel spans more than one texel of.

    A beam integrates over its pixel; point-sampling a finer texture instead aliases, and
    in an oblique view (the surface foreshortened ~4x along the image vertical at a
    grazing milling angle) the aliased pattern changes with every sub-pixel shift, so an
    image would not move rigidly with the stage or the beam shift.
    """
    span = np.abs(np.linalg.inv(to_out)).sum(axis=1)  # texels per output pixel, per axis
    sigma = np.where(span > 1.0, 0.42 * np.sqrt(np.maximum(span**2 - 1.0, 0.0)), 0.0)
    if sigma.max() < 0.3:
        return mosaic
    sx, sy = (max(float(v), 0.05) for v in sigma)  # OpenCV: 0 would mean "from ksize"
    return cv2.GaussianBlur(mosaic, (0, 0), sigmaX=sx, sigmaY=sy)
