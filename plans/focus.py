"""Autofocus and autocontrast on either beam.

Both acquire frames through the detector, then trigger the beam's `FrameMetrics`
processing device, which measures that frame (sharpness, grey levels); every frame is
an event with the measurement, the stage pose, the clock and the swept settings.
"""

from __future__ import annotations

import math
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import numpy as np
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.image_metrics import contrast_step, fit_peak

from ._md import plan_md
from ._run import run_decorator
from .imaging import check_beam, validate_settings


@plan
def _measure_frame(microscope: Microscope, beam: str, extra: list[Any]) -> MsgGenerator[None]:
    """Acquire, measure the frame, and save both in one event with `extra`."""
    det, metrics = microscope.detector(beam), microscope.metrics(beam)
    yield from bps.trigger(det, wait=True)
    yield from bps.trigger(metrics, wait=True)
    yield from bps.create("primary")
    for device in (det, metrics, microscope.stage, microscope.clock_s, *extra):
        yield from bps.read(device)
    yield from bps.save()


@plan
def autofocus(
    microscope: Microscope,
    beam: str = "electron",
    span_m: float = 400e-6,
    steps: int = 9,
    refine: bool = True,
    md: dict | None = None,
) -> MsgGenerator[dict[str, float]]:
    """Sweep the working distance over `span_m` (metres) centred on the present value in
    `steps` frames, take the sharpest (sub-step peak fit), then — with `refine` — sweep
    again over two coarse steps around it; set the best working distance.

    Events (stream 'primary'): frame, working distance and the metrics device's
    `sharpness` per step;
    the last event is the frame at the chosen working distance (a detector's frames stay
    in one stream per run, so it is not a stream of its own). On failure the starting
    working distance is put back. Returns {working_distance_m, sharpness_before,
    sharpness_after, start_working_distance_m}.
    """
    check_beam(beam)
    if not (math.isfinite(span_m) and span_m > 0):
        raise ValueError(f"span_m={span_m!r} must be a positive number of metres")
    if steps < 3:
        raise ValueError(f"steps={steps!r}: need at least 3 working distances")
    b, det = microscope.beam(beam), microscope.detector(beam)
    wd0 = yield from bps.rd(b.working_distance_m)
    for wd in (wd0 - span_m / 2, wd0 + span_m / 2):
        validate_settings(b, {"working_distance_m": wd})
    args = {"beam": beam, "span_m": span_m, "steps": steps, "refine": refine}
    _md = plan_md(microscope, "autofocus", args, {"beam": beam, **(md or {})})
    extra = [b.working_distance_m]
    metric = microscope.metrics(beam).sharpness
    result: dict[str, float] = {"start_working_distance_m": wd0}

    def measure(wd: float) -> MsgGenerator[float]:
        yield from bps.mv(b.working_distance_m, wd)
        yield from _measure_frame(microscope, beam, extra)
        value = yield from bps.rd(metric)
        return value

    def sweep(centre: float, span: float) -> MsgGenerator[float]:
        wds = list(np.linspace(centre - span / 2, centre + span / 2, steps))
        values = []
        for wd in wds:
            values.append((yield from measure(float(wd))))
        return fit_peak(wds, values)

    @bpp.stage_decorator([det])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        result["sharpness_before"] = yield from measure(wd0)
        best = yield from sweep(wd0, span_m)
        if refine:
            best = yield from sweep(best, 2 * span_m / (steps - 1))
        result["working_distance_m"] = best
        result["sharpness_after"] = yield from measure(best)

    def put_back_on_failure() -> MsgGenerator[None]:
        if "sharpness_after" not in result:
            yield from bps.mv(b.working_distance_m, wd0)

    yield from bpp.finalize_wrapper(inner(), put_back_on_failure)
    return result


@plan
def autocontrast(
    microscope: Microscope,
    beam: str = "electron",
    max_steps: int = 5,
    target_low: float = 0.05,
    target_high: float = 0.95,
    md: dict | None = None,
) -> MsgGenerator[dict[str, float]]:
    """Adjust detector contrast and brightness until the image fills the grey range
    (0.5th/99.5th percentiles at `target_low`/`target_high` of full scale), one
    acquisition per step, at most `max_steps` changes.

    Events (stream 'primary'): frame, detector_contrast, detector_brightness and the
    metrics device's `grey_low`/`grey_high` per step: the first event is "before", the
    last "after". Returns {contrast_before, brightness_before, contrast, brightness,
    low, high, steps}.
    """
    check_beam(beam)
    if max_steps < 1:
        raise ValueError(f"max_steps={max_steps!r} must be at least 1")
    if not 0.0 <= target_low < target_high <= 1.0:
        raise ValueError("need 0 <= target_low < target_high <= 1")
    b, det = microscope.beam(beam), microscope.detector(beam)
    metrics = microscope.metrics(beam)
    extra = [b.detector_contrast, b.detector_brightness]
    args = {"beam": beam, "max_steps": max_steps, "target_low": target_low}
    _md = plan_md(microscope, "autocontrast", {**args, "target_high": target_high}, md)
    result: dict[str, float] = {}

    @bpp.stage_decorator([det])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        for step in range(max_steps + 1):
            c = yield from bps.rd(b.detector_contrast)
            br = yield from bps.rd(b.detector_brightness)
            if step == 0:
                result.update(contrast_before=c, brightness_before=br)
            yield from _measure_frame(microscope, beam, extra)
            low = yield from bps.rd(metrics.grey_low)
            high = yield from bps.rd(metrics.grey_high)
            clipped = yield from bps.rd(metrics.clipped_percent)
            update = contrast_step(low, high, clipped, c, br, target_low, target_high)
            result.update(contrast=c, brightness=br, low=update.low, high=update.high)
            result["steps"] = step
            if update.done or step == max_steps:
                return
            yield from bps.mv(
                b.detector_contrast, update.contrast, b.detector_brightness, update.brightness
            )

    yield from inner()
    return result
