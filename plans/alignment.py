"""Alignment: register a new image to a reference and correct by beam shift (or by
the stage when the beam-shift range would be exceeded), step by step until the
residual is under a threshold. Every step's shift and score are event data.

Pixel shifts (content displacement, +x right, +y down; see fibsem_ophyd.alignment)
become image-plane offsets (dx, dy) = (sx·ps, -sy·ps) (metres, x right, y up). A beam
shift b moves content by -b in the unrotated image plane (docs/coordinates.md:
(a', b') = R(-φ)(a - bx, b - by)), so undoing an offset needs Δb = R(φ)·(dx, dy).
"""

from __future__ import annotations

import math
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import numpy as np
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.state import BeamSettings

from ._md import plan_md
from ._run import run_decorator
from .movement import stable_move

ALIGN_SETTINGS = (
    "hfw_m", "resolution", "dwell_time_s", "line_integration", "frame_integration",
    "detector_type", "detector_mode", "detector_contrast", "detector_brightness",
    "scan_rotation_deg",
)  # fmt: skip


def _rot(deg: float, x: float, y: float) -> tuple[float, float]:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return c * x - s * y, s * x + c * y


MIN_SCORE = 0.3  # below: the image is not of the reference's scene
MIN_PEAK_RATIO = 1.0  # below: two shifts match about as well (a periodic or bland scene)
RETRIES = 1  # fresh images after an untrusted registration


def registration_problem(score: float, peak_ratio: float) -> str:
    """Why a registration is not to be trusted ("" when it is)."""
    if not (math.isfinite(score) and score >= MIN_SCORE):
        return f"match score {score:.2f} < {MIN_SCORE} (not the reference's scene)"
    if not (peak_ratio >= MIN_PEAK_RATIO):
        return f"ambiguous match: peak ratio {peak_ratio:.2f} < {MIN_PEAK_RATIO}"
    return ""


@plan
def _measure(microscope: Microscope, beam: str) -> MsgGenerator[tuple[float, float, float, float]]:
    det, aligner = microscope.detector(beam), microscope.aligner(beam)
    b = microscope.beam(beam)
    yield from bps.trigger(det, wait=True)
    yield from bps.trigger(aligner, wait=True)
    yield from bps.create("primary")
    for device in (det, aligner, microscope.stage):
        yield from bps.read(device)
    yield from bps.read(b.beam_shift_x_m)
    yield from bps.read(b.beam_shift_y_m)
    yield from bps.save()
    sx = yield from bps.rd(aligner.shift_x_px)
    sy = yield from bps.rd(aligner.shift_y_px)
    score = yield from bps.rd(aligner.score)
    ratio = yield from bps.rd(aligner.peak_ratio)
    return sx, sy, score, ratio


@plan
def correct_offset(
    microscope: Microscope, beam: str, dx_m: float, dy_m: float, use_stage: bool
) -> MsgGenerator[str]:
    """Undo an apparent offset (dx, dy) of the content; returns 'beam_shift' or 'stage'."""
    b = microscope.beam(beam)
    rot = yield from bps.rd(b.scan_rotation_deg)
    bx = yield from bps.rd(b.beam_shift_x_m)
    by = yield from bps.rd(b.beam_shift_y_m)
    ddx, ddy = _rot(rot, dx_m, dy_m)
    nx, ny = bx + ddx, by + ddy
    limit = b.limits.beam_shift_max_m
    if abs(nx) <= limit and abs(ny) <= limit:
        yield from bps.mv(b.beam_shift_x_m, nx, b.beam_shift_y_m, ny)
        return "beam_shift"
    if not use_stage:
        raise ValueError(
            f"{beam}.beam_shift would reach ({nx:.3g}, {ny:.3g}) m, outside ±{limit:g} m, "
            "and stage correction is off"
        )
    # Give the beam shift back to zero and move the stage by the whole offset: resetting
    # the shift moves the content by R(-φ)·(bx, by), which adds to the offset.
    ox, oy = _rot(-rot, bx, by)
    yield from bps.mv(b.beam_shift_x_m, 0.0, b.beam_shift_y_m, 0.0)
    yield from stable_move(microscope, dx_m + ox, dy_m + oy, beam)
    return "stage"


@plan
def align(
    microscope: Microscope,
    beam: str,
    reference: np.ndarray,
    reference_settings: BeamSettings | None = None,
    max_steps: int = 3,
    threshold_px: float = 0.5,
    use_stage: bool = True,
    max_shift_m: float | None = None,
    md: dict | None = None,
) -> MsgGenerator[dict[str, Any]]:
    """Align `beam`'s view to `reference` (an earlier image of the same place).

    Acquires with the reference's settings when given, registers, corrects, and repeats
    up to `max_steps` corrections until the residual is below `threshold_px`. A
    registration with a low score or an ambiguous peak is not acted on: a fresh image is
    taken (`RETRIES`), then the alignment gives up. `max_shift_m` (image plane) limits
    the search to shifts the stage can plausibly have. Returns the last measurement
    {shift_x_px, shift_y_px, score, peak_ratio, steps, converged, problem}: `converged`
    False with the reason in `problem` when the view was not brought to the reference.
    """
    det = microscope.detector(beam)
    ref = np.asarray(reference)
    if ref.ndim != 2 or not np.isfinite(ref).all():
        raise ValueError(f"reference must be a finite 2-D image, got shape {ref.shape}")
    if max_steps < 0 or not (threshold_px > 0):
        raise ValueError("max_steps must be >= 0 and threshold_px > 0")
    # Check the shape against the resolution the images will have *before* any setting
    # is written, so a mismatched reference changes nothing.
    if reference_settings is not None:
        resolution = reference_settings.resolution
    else:
        resolution = yield from bps.rd(microscope.beam(beam).resolution)
    w, h = (int(v) for v in resolution.split("x"))
    if ref.shape != (h, w):
        raise ValueError(
            f"reference shape {ref.shape} differs from the {beam} image shape {(h, w)} "
            f"({resolution}); acquire the reference at the same resolution"
        )
    if reference_settings is not None:
        b = microscope.beam(beam)
        args: list[Any] = []
        for field in ALIGN_SETTINGS:
            args += [getattr(b, field), getattr(reference_settings, field)]
        yield from bps.mv(*args)
    aligner = microscope.aligner(beam)
    _md = plan_md(
        microscope, "align", {"beam": beam, "max_steps": max_steps, "threshold_px": threshold_px},
        md,
    )  # fmt: skip

    @bpp.stage_decorator([det])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[dict[str, Any]]:
        yield from bps.mv(aligner.reference, ref)
        yield from bps.mv(aligner.max_shift_m, max_shift_m or 0.0)
        step, retries = 0, 0
        while True:
            sx, sy, score, ratio = yield from _measure(microscope, beam)
            last = {"shift_x_px": sx, "shift_y_px": sy, "score": score, "peak_ratio": ratio,
                    "steps": step, "converged": False, "problem": ""}  # fmt: skip
            problem = registration_problem(score, ratio)
            if problem and retries < RETRIES:
                retries += 1
                continue
            if problem:
                return {**last, "problem": problem}
            if math.hypot(sx, sy) <= threshold_px:
                return {**last, "converged": True}
            if step >= max_steps:
                return {**last, "problem": (
                    f"not aligned after {step} corrections: residual "
                    f"{math.hypot(sx, sy):.2f} px > {threshold_px} px")}  # fmt: skip
            ps = yield from bps.rd(microscope.beam(beam).pixel_size_m)
            # The content sits at (sx, -sy)·ps from where it was: bring it back.
            yield from correct_offset(microscope, beam, sx * ps, -sy * ps, use_stage)
            step += 1

    result = yield from inner()
    return result
