"""Imaging plans: set imaging parameters, acquire one beam or both.

Each image is an event whose frame is external HDF5 data; the event also holds the
stage pose and the twin/microscope clock, and the descriptor's configuration holds
every beam and detector setting, so an image in the catalog says how it was taken.
"""

from __future__ import annotations

from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from ._md import plan_md

BEAMS = ("electron", "ion")


@plan
def set_imaging(microscope: Any, beam: str, **settings: Any) -> MsgGenerator[None]:
    """Set imaging parameters of one beam, e.g. `set_imaging(m, "ion", hfw_m=80e-6)`.

    Keyword names are the beam's signal names (hfw_m, resolution, dwell_time_s,
    current_a, voltage_v, working_distance_m, scan_rotation_deg, beam_shift_x_m, ...).
    Every value is validated before any is written.
    """
    device = microscope.beam(beam)
    unknown = [k for k in settings if not hasattr(device, k)]
    if unknown:
        raise ValueError(f"unknown imaging setting(s) {unknown} for the {beam} beam")
    args: list[Any] = []
    for key, value in settings.items():
        args += [getattr(device, key), value]
    if args:
        yield from bps.mv(*args)


def _read_image(microscope: Any, beam: str, stream: str = "primary") -> MsgGenerator[None]:
    det = microscope.detector(beam)
    yield from bps.trigger_and_read([det, microscope.stage, microscope.clock_s], name=stream)


@plan
def acquire_image(
    microscope: Any, beam: str = "electron", md: dict | None = None
) -> MsgGenerator[str]:
    """One image of one beam in its own run. Returns the run uid."""
    if beam not in BEAMS:
        raise ValueError(f"beam={beam!r} is not allowed; use one of {BEAMS}")
    det = microscope.detector(beam)
    _md = plan_md(microscope, "acquire_image", {"beam": beam}, {"beam": beam, **(md or {})})

    @bpp.stage_decorator([det])
    @bpp.run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        yield from _read_image(microscope, beam)

    return (yield from inner())


@plan
def acquire_both(microscope: Any, md: dict | None = None) -> MsgGenerator[str]:
    """An SEM and a FIB image (sequential) in one run, streams 'electron' and 'ion'."""
    dets = [microscope.sem, microscope.fib]
    _md = plan_md(microscope, "acquire_both", {}, md)

    @bpp.stage_decorator(dets)
    @bpp.run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        for beam in BEAMS:
            yield from _read_image(microscope, beam, stream=beam)

    return (yield from inner())
