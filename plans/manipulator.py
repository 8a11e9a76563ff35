"""Manipulator calibration: find the needle tip in SEM and FIB images and bring it to the
eucentric point, then keep that raw pose as the needle's eucentric position.

The needle is inserted to its present eucentric pose (the configuration's, or an older
calibration's). Each round detects the tip in both beams (every detection is event
data: streams `needle_electron` / `needle_ion`), checks it — a score too low, a tip too
far off to be a miscalibration (`max_correction_m`), the two beams disagreeing on the
tip's x, or a tip that did not move where the last correction sent it — and fails with
the reason rather than move on a wrong detection. Corrections are image-frame needle
moves: in the SEM plane, then along the SEM axis for the FIB's vertical (the SEM view
stays). When the tip sits within `tolerance_m` of both image centres, the raw pose is
stored (`Manipulator.set_calibration`: used by every later `insert("eucentric")`, and
kept in `manipulator.calibration_file` when configured). The needle is retracted and
the imaging settings restored at the end, also when the calibration fails.
"""

from __future__ import annotations

import math

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import numpy as np
from bluesky.utils import MsgGenerator, plan
from pydantic import BaseModel, ConfigDict, Field

from fibsem_ophyd.devices.manipulator_calibration import ManipulatorCalibration
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.geometry import chamber_to_image, needle_image_delta, rot_2d, unrotate_offset

from ._md import plan_md
from ._run import run_decorator
from .stubs import call

BEAMS = ("electron", "ion")


class ManipulatorCalibrationFailed(RuntimeError):
    """The needle tip could not be found or brought to the eucentric point reliably."""


class NeedleCalibrationSettings(BaseModel):
    """How the calibration images and when it is satisfied (SI units)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hfw_m: float = Field(40e-6, gt=0.0, description="Field width of the calibration images")
    resolution: str = Field("768x512", description="Resolution of the calibration images")
    tolerance_m: float = Field(0.3e-6, gt=0.0, description="Tip to image centre when done")
    max_correction_m: float = Field(
        15e-6, gt=0.0, description="Largest miss an uncalibrated needle can plausibly have"
    )
    min_score: float = Field(0.3, ge=0.0, le=1.0, description="Detections below are refused")
    follow_tolerance_m: float = Field(
        0.5e-6, gt=0.0, description="How far a detection may be from where a move sent the tip"
    )
    max_moves: int = Field(6, ge=1, le=20)


@plan
def _detect(m: Microscope, beam: str) -> MsgGenerator[tuple[float, float, float]]:
    """Acquire and find the tip: (dx_m, dy_m, score) from the image centre, as event data."""
    det, feat = m.detector(beam), m.needle_features(beam)
    yield from bps.trigger(det, wait=True)
    yield from bps.trigger(feat, wait=True)
    yield from bps.create(f"needle_{beam}")
    for device in (det, feat, m.manipulator):
        yield from bps.read(device)
    yield from bps.save()
    dx = yield from bps.rd(feat.dx_m)
    dy = yield from bps.rd(feat.dy_m)
    score = yield from bps.rd(feat.score)
    return float(dx), float(dy), float(score)


def _check(beam: str, found: tuple[float, float, float], s: NeedleCalibrationSettings) -> None:
    dx, dy, score = found
    if not (math.isfinite(dx) and math.isfinite(dy)) or score < s.min_score:
        raise ManipulatorCalibrationFailed(
            f"needle tip not found in the {beam} image (score {score:.2f} < {s.min_score}); "
            "is the needle in the field of view?"
        )
    if math.hypot(dx, dy) > s.max_correction_m:
        raise ManipulatorCalibrationFailed(
            f"the {beam} detection puts the tip {math.hypot(dx, dy) * 1e6:.1f} µm from the "
            f"image centre, more than a miscalibration can be ({s.max_correction_m * 1e6:.1f}"
            " µm): a wrong detection or a bent needle"
        )


def _in_plane(m: Microscope, beam: str, dx: float, dy: float) -> tuple[float, float]:
    """Image offset (a', b') → unrotated image-plane offset (a, b)."""
    a, b = unrotate_offset(dx, dy, m.image_view(beam)[1])
    return float(a), float(b)


def _seen(m: Microscope, beam: str, delta: np.ndarray) -> np.ndarray:
    """How a chamber displacement of the tip shows in `beam`'s image (a', b')."""
    tilt, rotation = m.image_view(beam)
    a, b = chamber_to_image(delta, tilt, scan_rotation_deg=rotation)
    return np.array([float(a), float(b)])


@plan
def _round(
    m: Microscope, s: NeedleCalibrationSettings, expected: dict[str, np.ndarray] | None
) -> MsgGenerator[tuple[dict[str, np.ndarray], np.ndarray | None]]:
    """Detect in both beams, check, correct. Returns the offsets seen and the chamber
    move made (None when the tip was already centred)."""
    seen: dict[str, np.ndarray] = {}
    for beam in BEAMS:
        found = yield from _detect(m, beam)
        _check(beam, found, s)
        seen[beam] = np.array(found[:2])
        if expected is not None:
            miss = float(np.hypot(*(seen[beam] - expected[beam])))
            if miss > s.follow_tolerance_m:
                raise ManipulatorCalibrationFailed(
                    f"the {beam} detection is {miss * 1e6:.2f} µm from where the last move "
                    "sent the tip: the detection does not follow the needle (or it is stuck)"
                )
    a_e, _ = _in_plane(m, "electron", *seen["electron"])
    a_i, b_i = _in_plane(m, "ion", *seen["ion"])
    if abs(a_e - a_i) > s.follow_tolerance_m:
        raise ManipulatorCalibrationFailed(
            f"the beams disagree on the tip's x by {abs(a_e - a_i) * 1e6:.2f} µm: one "
            "detection is not the tip"
        )
    if max(float(np.hypot(*seen["electron"])), float(np.hypot(*seen["ion"]))) <= s.tolerance_m:
        return seen, None
    tilt_e, rot_e = m.image_view("electron")
    tilt_i, rot_i = m.image_view("ion")
    move_e = needle_image_delta(-seen["electron"][0], -seen["electron"][1], tilt_e, rot_e)
    # The FIB's vertical after the SEM move, corrected along the SEM axis (a vertical
    # offset in the ion image plane, rotated back into the image as the device wants it).
    b_after = b_i + float(_seen(m, "ion", move_e) @ rot_2d(rot_i)[1])
    dx_i, dy_i = rot_2d(-rot_i) @ np.array([0.0, -b_after])
    move_i = needle_image_delta(float(dx_i), float(dy_i), tilt_i, rot_i, tilt_e)
    yield from call(lambda: m.manipulator.move_in_image(*-seen["electron"], "electron"))
    yield from call(lambda: m.manipulator.move_in_image(dx_i, dy_i, "ion", keep="electron"))
    return seen, move_e + move_i


@plan
def _calibrate(m: Microscope, s: NeedleCalibrationSettings) -> MsgGenerator[ManipulatorCalibration]:
    yield from call(lambda: m.manipulator.insert("eucentric"))
    expected = None
    for _ in range(s.max_moves + 1):
        seen, move = yield from _round(m, s, expected)
        if move is None:
            break
        expected = {b: seen[b] + _seen(m, b, move) for b in BEAMS}
    else:
        raise ManipulatorCalibrationFailed(
            f"the tip did not come within {s.tolerance_m * 1e6:.2f} µm of both image "
            f"centres in {s.max_moves} moves (last: SEM {np.hypot(*seen['electron']) * 1e6:.2f}"
            f" µm, FIB {np.hypot(*seen['ion']) * 1e6:.2f} µm)"
        )
    pose = {}
    for axis in ("x", "y", "z", "r"):
        pose[axis] = float((yield from bps.rd(getattr(m.manipulator, axis).readback)))
    clock = yield from bps.rd(m.clock_s)
    calibration = ManipulatorCalibration(
        x_m=pose["x"], y_m=pose["y"], z_m=pose["z"], r_deg=pose["r"],
        residual_electron_m=float(np.hypot(*seen["electron"])),
        residual_ion_m=float(np.hypot(*seen["ion"])), clock_s=float(clock),
    )  # fmt: skip
    yield from call(lambda: m.manipulator.set_calibration(calibration))
    yield from bps.trigger_and_read([m.manipulator, m.clock_s], name="calibration")
    return calibration


@plan
def calibrate_manipulator(
    microscope: Microscope,
    settings: NeedleCalibrationSettings | None = None,
    md: dict | None = None,
) -> MsgGenerator[ManipulatorCalibration]:
    """Find the raw pose that puts the needle tip at the eucentric point and keep it
    (see the module docstring). The stage is not moved: put it where the needle can
    safely reach the eucentric point. Returns the calibration."""
    m, s = microscope, settings or NeedleCalibrationSettings()
    imaging = {"hfw_m": s.hfw_m, "resolution": s.resolution, "beam_shift_x_m": 0.0,
               "beam_shift_y_m": 0.0}  # fmt: skip
    for beam in BEAMS:  # bad settings are refused before anything moves
        for field, value in imaging.items():
            m.beam(beam).check(field, value)
    before = {}
    for beam in BEAMS:
        for field in imaging:
            before[(beam, field)] = yield from bps.rd(getattr(m.beam(beam), field))

    def restore() -> MsgGenerator[None]:
        if m.backend.manipulator.inserted:
            yield from call(lambda: m.manipulator.retract())
        for (beam, field), value in before.items():
            yield from bps.mv(getattr(m.beam(beam), field), value)

    @run_decorator(md=plan_md(m, "calibrate_manipulator", {"settings": s}, md))
    @bpp.stage_decorator([m.detector(beam) for beam in BEAMS])  # frame files open
    def inner() -> MsgGenerator[ManipulatorCalibration]:
        for beam in BEAMS:
            for field, value in imaging.items():
                yield from bps.mv(getattr(m.beam(beam), field), value)
        return (yield from _calibrate(m, s))

    return (yield from bpp.finalize_wrapper(inner(), restore))
