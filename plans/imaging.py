"""Imaging plans: set imaging parameters, acquire one beam or both, reference image sets,
reduced-area images.

Each image is an event whose frame is external HDF5 data; the event also holds the
stage pose and the twin/microscope clock, and the descriptor's configuration holds
every beam and detector setting, so an image in the catalog says how it was taken.
Where a plan changes a setting between images, each setting gets its own stream (so
its descriptor's configuration is right) or the changed signal is read into the event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.backend import BEAM_NAMES, ReducedArea
from fibsem_ophyd.devices.beam import Beam
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.values import typed_number

from ._md import plan_md
from ._run import run_decorator

BEAMS = BEAM_NAMES


def check_beam(beam: str) -> None:
    if beam not in BEAMS:
        raise ValueError(f"beam={beam!r} is not allowed; use one of {BEAMS}")


def validate_settings(device: Beam, settings: dict[str, Any]) -> None:
    """Check imaging settings with the beam's own checks before anything is written
    (the signals check again on write; this makes a multi-setting change all-or-none)."""
    for key, value in settings.items():
        device.check(key, value)


@plan
def set_imaging(microscope: Microscope, beam: str, **settings: Any) -> MsgGenerator[None]:
    """Set imaging parameters of one beam, e.g. `set_imaging(m, "ion", hfw_m=80e-6)`.

    Keyword names are the beam's signal names (hfw_m, resolution, dwell_time_s,
    current_a, voltage_v, working_distance_m, scan_rotation_deg, beam_shift_x_m, ...).
    Every value is validated before any is written.
    """
    check_beam(beam)
    device = microscope.beam(beam)
    validate_settings(device, settings)
    args: list[Any] = []
    for key, value in settings.items():
        args += [getattr(device, key), value]
    if args:
        yield from bps.mv(*args)


def read_image(
    microscope: Microscope, beam: str, stream: str = "primary", extra: Sequence[Any] = ()
) -> MsgGenerator[None]:
    """Trigger `beam`'s detector and read it with the stage pose, the clock and `extra`."""
    det = microscope.detector(beam)
    yield from bps.trigger_and_read([det, microscope.stage, microscope.clock_s, *extra], stream)


@plan
def acquire_image(
    microscope: Microscope, beam: str = "electron", md: dict | None = None
) -> MsgGenerator[str]:
    """One image of one beam in its own run. Returns the run uid."""
    check_beam(beam)
    det = microscope.detector(beam)
    _md = plan_md(microscope, "acquire_image", {"beam": beam}, {"beam": beam, **(md or {})})

    @bpp.stage_decorator([det])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        yield from read_image(microscope, beam)

    return (yield from inner())


@plan
def acquire_both(microscope: Microscope, md: dict | None = None) -> MsgGenerator[str]:
    """An SEM and a FIB image (sequential) in one run, streams 'electron' and 'ion'."""
    dets = [microscope.sem, microscope.fib]
    _md = plan_md(microscope, "acquire_both", {}, md)

    @bpp.stage_decorator(dets)
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        for beam in BEAMS:
            yield from read_image(microscope, beam, stream=beam)

    return (yield from inner())


def reference_stream(beam: str) -> str:
    """Stream name of `beam`'s images in a reference image set. A detector's frames go
    to one stream per run (frames of one file cannot be split across streams in
    tiled), so each event carries its own hfw and pixel size."""
    return beam


@plan
def reference_images(
    microscope: Microscope,
    hfws_m: Sequence[float] = (80e-6, 150e-6, 400e-6),
    md: dict | None = None,
) -> MsgGenerator[str]:
    """Both beams at every hfw (metres) in one run: streams `electron` and `ion`, one
    event per hfw carrying that hfw and pixel size (start document key `hfws_m`). Each
    beam's hfw is put back afterwards, also on failure. Returns the run uid."""
    hfws = [typed_number("hfws_m", h, "m") for h in hfws_m]  # "1e-4" is refused
    if not hfws:
        raise ValueError("hfws_m must name at least one horizontal field width")
    for beam in BEAMS:
        for h in hfws:
            validate_settings(microscope.beam(beam), {"hfw_m": h})
    dets = [microscope.sem, microscope.fib]
    _md = plan_md(microscope, "reference_images", {"hfws_m": hfws}, {"hfws_m": hfws, **(md or {})})
    saved: dict[str, float] = {}
    for beam in BEAMS:
        saved[beam] = yield from bps.rd(microscope.beam(beam).hfw_m)

    @bpp.stage_decorator(dets)
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        for h in hfws:
            for beam in BEAMS:
                b = microscope.beam(beam)
                yield from bps.mv(b.hfw_m, h)
                yield from read_image(
                    microscope, beam, reference_stream(beam), extra=(b.hfw_m, b.pixel_size_m)
                )

    def restore() -> MsgGenerator[None]:
        b_e, b_i = microscope.electron_beam, microscope.ion_beam
        yield from bps.mv(b_e.hfw_m, saved["electron"], b_i.hfw_m, saved["ion"])

    return (yield from bpp.finalize_wrapper(inner(), restore))


@plan
def acquire_reduced_area(
    microscope: Microscope, beam: str, area: ReducedArea, md: dict | None = None
) -> MsgGenerator[str]:
    """One image of the sub-rectangle `area` (fractions of the full frame) of `beam`.

    The detector's `reduced_area` is set before the run (the frame shape is fixed when
    the detector is prepared) and cleared afterwards, also on failure. The area is in
    the start document (`reduced_area`). Returns the run uid.
    """
    check_beam(beam)
    area = ReducedArea.model_validate(area)
    if area.left + area.width > 1.0 + 1e-9 or area.top + area.height > 1.0 + 1e-9:
        raise ValueError(f"reduced area {area} does not fit in the frame (left+width, top+height)")
    det = microscope.detector(beam)
    extra = {"beam": beam, "reduced_area": area.model_dump()}
    _md = plan_md(microscope, "acquire_reduced_area", extra, {**extra, **(md or {})})

    @bpp.stage_decorator([det])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        yield from read_image(microscope, beam)

    def clear() -> MsgGenerator[None]:
        yield from bps.mv(det.reduced_area, "")

    yield from bps.mv(det.reduced_area, area.model_dump_json())  # before the run prepares
    return (yield from bpp.finalize_wrapper(inner(), clear))
