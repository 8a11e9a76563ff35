"""Milling plans: `run_milling(m, stages)`.

For each milling stage: set the milling voltage, hfw and current and verify the
current's readback *before anything is drawn* (a wrong readback fails the run); draw;
image before; mill with progress (monitored as event data); image after; check from
the two images that material went where the patterns are (a mismatch fails the run
with the reason). With drift correction on, the mill runs in segments: between them an
ion image is registered to the 'before' image and a beam shift brings the patterns
back onto the specimen (each measurement is event data; an implausible one fails).

Images are in the stream "images", labelled with the stage name and phase ("before",
"drift", "after"). Milling itself is never replayed: it runs outside bluesky's
rewinding, and the milling device is Pausable — a pause (Ctrl-C) pauses the mill and
`RE.resume()` continues it; abort or stop halt it. Imaging current, hfw, voltage and
beam shift come back in `finalize_wrapper`, and milling is halted there.
"""

from __future__ import annotations

import math
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.milling import MillingStage

from ._md import plan_md
from ._run import run_decorator
from .alignment import correct_offset
from .stubs import call


class MillingCurrentError(RuntimeError):
    """The ion current readback does not confirm the requested milling current."""


class MillingCheckError(RuntimeError):
    """What the images show after (or while) milling does not match the patterns."""


DRIFT_MIN_SCORE = 0.5  # registration of a drift image to the 'before' image
DRIFT_MIN_PEAK_RATIO = 1.5
PLAUSIBLE_DRIFT_M = 2e-6  # image-plane drift between two corrections no stage reaches
MIN_DRIFT_INTERVAL_S = 5.0
# The offset of the change is only well defined when most of the pattern area changed:
# a pattern re-milling an earlier trench changes only a strip of it.
OFFSET_MIN_COVERAGE = 0.6


def check_stages(microscope: Microscope, stages: list[MillingStage]) -> None:
    """Refuse the whole list before anything moves if any stage asks for a current,
    voltage or hfw the ion column does not have (names the stage and field)."""
    if not stages:
        raise ValueError("run_milling needs at least one milling stage")
    for stage in stages:
        p = stage.parameters
        for name, field, value in (
            ("milling_current_a", "current_a", p.milling_current_a),
            ("milling_voltage_v", "voltage_v", p.milling_voltage_v),
            ("hfw_m", "hfw_m", p.hfw_m),
        ):
            try:
                microscope.ion_beam.check(field, value)
            except ValueError as err:
                raise ValueError(f"{stage.name}.parameters.{name}: {err}") from None


IMAGES = "images"  # every ion image of the run: a detector's frames stay in one stream


@plan
def _image(microscope: Microscope, phase: str) -> MsgGenerator[None]:
    """An ion image labelled with the milling stage and `phase`."""
    m = microscope
    yield from bps.mv(m.milling.phase, phase)
    yield from bps.trigger_and_read([m.fib, m.milling, m.stage, m.clock_s], name=IMAGES)


@plan
def _set_and_verify_current(
    microscope: Microscope, stage: MillingStage, tolerance: float
) -> MsgGenerator[None]:
    ion, p = microscope.ion_beam, stage.parameters
    yield from bps.mv(ion.voltage_v, p.milling_voltage_v)
    yield from bps.mv(ion.hfw_m, p.hfw_m)
    yield from bps.mv(ion.current_a, p.milling_current_a)
    readback = yield from bps.rd(ion.current_a)
    if abs(readback - p.milling_current_a) > tolerance * p.milling_current_a:
        raise MillingCurrentError(
            f"{stage.name}: ion current readback {readback:g} A does not confirm the "
            f"requested milling current {p.milling_current_a:g} A (tolerance "
            f"{tolerance:.0%}); refusing to mill"
        )


@plan
def _unreplayed(inner: MsgGenerator[Any]) -> MsgGenerator[Any]:
    """Messages that bluesky must never replay after a pause (milling, monitors)."""
    return (yield from bpp.rewindable_wrapper(inner, False))


@plan
def _measure_drift(m: Microscope) -> MsgGenerator[tuple[float, float, str]]:
    """Image and register to the 'before' image: (dx_m, dy_m), the image-plane offset of
    the content, and why the measurement is not to be trusted ("" when it is)."""
    yield from _image(m, "drift")
    yield from bps.trigger_and_read([m.fib_aligner, m.clock_s], name="drift_correction")
    sx = yield from bps.rd(m.fib_aligner.shift_x_px)
    sy = yield from bps.rd(m.fib_aligner.shift_y_px)
    score = yield from bps.rd(m.fib_aligner.score)
    ratio = yield from bps.rd(m.fib_aligner.peak_ratio)
    ps = yield from bps.rd(m.ion_beam.pixel_size_m)
    dx, dy = sx * ps, -sy * ps
    if score < DRIFT_MIN_SCORE:
        return dx, dy, f"match score {score:.2f} < {DRIFT_MIN_SCORE}"
    if ratio < DRIFT_MIN_PEAK_RATIO:
        return dx, dy, f"ambiguous match (peak ratio {ratio:.2f} < {DRIFT_MIN_PEAK_RATIO})"
    if math.hypot(dx, dy) > PLAUSIBLE_DRIFT_M:
        return dx, dy, f"a drift of {math.hypot(dx, dy) * 1e9:.0f} nm is implausible"
    return dx, dy, ""


@plan
def _correct_drift(m: Microscope, stage: MillingStage, interval_s: float) -> MsgGenerator[float]:
    """One drift correction (a second image when the first measurement is not to be
    trusted); returns the next interval (shorter as the drift nears `max_drift_m`)."""
    dx, dy, problem = yield from _measure_drift(m)
    if problem:
        dx, dy, problem = yield from _measure_drift(m)
    if problem:
        raise MillingCheckError(f"{stage.name}: drift correction failed: {problem}")
    drift, limit = math.hypot(dx, dy), stage.alignment.max_drift_m if stage.alignment else None
    if limit is not None and drift > limit:
        raise MillingCheckError(
            f"{stage.name}: drifted {drift * 1e9:.0f} nm between two corrections, more than "
            f"max_drift_m={limit * 1e9:.0f} nm: the patterns moved over the specimen"
        )
    yield from correct_offset(m, "ion", dx, dy, use_stage=False)
    if limit is not None and drift > 0.5 * limit:
        return max(MIN_DRIFT_INTERVAL_S, interval_s * 0.5 * limit / drift)
    return interval_s


@plan
def _verify_milled(m: Microscope, stage: MillingStage) -> MsgGenerator[None]:
    """Material removed where the patterns are? (after the 'after' image)."""
    check = stage.verification
    if not check.enabled:
        return
    v = m.milling_verifier
    yield from bps.trigger_and_read([v], name="verification")
    coverage = yield from bps.rd(v.coverage)
    precision = yield from bps.rd(v.precision)
    ox = yield from bps.rd(v.offset_x_m)
    oy = yield from bps.rd(v.offset_y_m)
    problems = []
    if coverage < check.min_coverage:
        problems.append(
            f"only {coverage:.0%} of the pattern area changed (at least "
            f"{check.min_coverage:.0%} expected)"
        )
    if precision < check.min_precision:
        problems.append(
            f"only {precision:.0%} of the change near the patterns is on them (at least "
            f"{check.min_precision:.0%} expected): material went beside the patterns"
        )
    offset = math.hypot(ox, oy)
    if coverage >= OFFSET_MIN_COVERAGE and not (offset <= check.max_offset_m):
        problems.append(
            f"the change is offset from the patterns by {offset * 1e6:.2f} µm (at most "
            f"{check.max_offset_m * 1e6:.2f} µm allowed)"
        )
    if problems:
        raise MillingCheckError(
            f"{stage.name}: milled region does not match: " + "; ".join(problems)
        )


@plan
def _mill_stage(
    microscope: Microscope, stage: MillingStage, tolerance: float
) -> MsgGenerator[None]:
    m = microscope
    yield from _set_and_verify_current(m, stage, tolerance)
    yield from call(lambda: m.milling.draw(stage))
    yield from _image(m, "before")
    yield from call(lambda: m.milling_verifier.capture_before())
    interval = stage.alignment.drift_correction_interval_s if stage.alignment else 0.0
    if interval > 0:
        yield from call(lambda: m.fib_aligner.capture_reference())
        yield from bps.mv(m.fib_aligner.max_shift_m, PLAUSIBLE_DRIFT_M)
    yield from bps.checkpoint()
    yield from bps.trigger_and_read([m.milling, m.clock_s], name="milling")
    yield from _unreplayed(bps.monitor(m.milling.progress, name=f"{stage.name}_progress"))
    while True:
        segment = interval if interval > 0 else None
        yield from call(lambda s=segment: m.milling.mill(s), replayable=False)
        state = yield from bps.rd(m.milling.state)
        if state == "done":
            break
        interval = yield from _correct_drift(m, stage, interval)
    yield from _unreplayed(bps.unmonitor(m.milling.progress))
    yield from bps.trigger_and_read([m.milling, m.clock_s], name="milling")
    yield from _image(m, "after")
    yield from _verify_milled(m, stage)
    yield from call(lambda: m.milling.clear())
    yield from bps.checkpoint()


@plan
def run_milling(
    microscope: Microscope,
    stages: list[MillingStage],
    current_tolerance: float = 0.05,
    md: dict | None = None,
) -> MsgGenerator[None]:
    """Mill `stages` in order, with before/after ion images of each."""
    m = microscope
    check_stages(m, stages)
    _md = plan_md(
        m,
        "run_milling",
        {"stages": [s.name for s in stages]},
        {"milling_stages": [s.model_dump(mode="json") for s in stages], **(md or {})},
    )
    saved: dict[str, Any] = {}

    @plan
    def restore() -> MsgGenerator[None]:
        yield from call(lambda: m.milling.halt())
        if saved:
            ion = m.ion_beam
            yield from bps.mv(ion.current_a, saved["current_a"], ion.hfw_m, saved["hfw_m"])
            yield from bps.mv(ion.voltage_v, saved["voltage_v"])
            yield from bps.mv(
                ion.beam_shift_x_m, saved["beam_shift_x_m"],
                ion.beam_shift_y_m, saved["beam_shift_y_m"],
            )  # fmt: skip

    @bpp.stage_decorator([m.fib])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        for field in ("current_a", "hfw_m", "voltage_v", "beam_shift_x_m", "beam_shift_y_m"):
            # the setpoint: what to restore, even when a readback is wrong
            location = yield from bps.locate(getattr(m.ion_beam, field))
            saved[field] = location["setpoint"]
        for stage in stages:
            yield from _mill_stage(m, stage, current_tolerance)

    yield from bpp.finalize_wrapper(inner(), restore)
