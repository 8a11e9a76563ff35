"""Integrated fluorescence microscope: move to its view, acquire channels, z-stacks.

Every frame is an event of the FM camera with the objective position, the stage pose and
the clock; the camera's configuration (channel, exposure, excitation) is in the
descriptor; the channel of each frame is also event data.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import numpy as np
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.config import MicroscopeConfig
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.ranges import in_range

from ._md import plan_md
from ._run import run_decorator
from .movement import safe_move
from .stubs import read_pose

logger = logging.getLogger(__name__)


def _check_enabled(microscope: Microscope) -> None:
    if not microscope.fingerprint.subsystems.get("fluorescence", False):
        raise ValueError(
            "this microscope has no fluorescence microscope (fluorescence.enabled is false "
            "in the configuration / the system fingerprint)"
        )


@plan
def move_to_fluorescence(
    microscope: Microscope, config: MicroscopeConfig
) -> MsgGenerator[StagePosition]:
    """Bring the point now at the eucentric point under the FM objective: a safe raw
    move by `config.fluorescence.stage_offset` (metres). Returns the target pose.

    The Microscope device does not hold the configuration, so the caller passes it;
    a configuration without an FM or without `stage_offset` is refused."""
    fm = config.fluorescence
    if not fm.enabled:
        raise ValueError("fluorescence.enabled is false in the configuration: no FM position")
    if fm.stage_offset is None:
        raise ValueError(
            "fluorescence.stage_offset is not set in the configuration: the fluorescence "
            "position is unknown"
        )
    _check_enabled(microscope)
    here = yield from read_pose(microscope)
    off = fm.stage_offset
    target = StagePosition(
        x_m=here.x_m + off.x_m, y_m=here.y_m + off.y_m, z_m=here.z_m + off.z_m,
        r_deg=here.r_deg, t_deg=here.t_deg,
    )  # fmt: skip
    microscope.stage.check_position(target)
    yield from safe_move(microscope, target)
    return target


def _check_exposure(microscope: Microscope, exposure_s: float) -> None:
    lim = microscope.fluorescence.limits
    field = "fluorescence.exposure_time_s"
    in_range(field, exposure_s, lim.exposure_min_s, lim.exposure_max_s, "s")


def _check_channels(microscope: Microscope, channels: Sequence[str]) -> None:
    allowed = list(microscope.fluorescence.limits.channels)
    bad = [c for c in channels if c not in allowed]
    if not channels or bad:
        raise ValueError(f"fluorescence.channel: {bad or 'none'} not available; allowed: {allowed}")


def _put_back(microscope: Microscope, channel: str) -> list[Any]:
    """`bps.mv` arguments that put `channel` back, or none when it is not a configured
    channel (a real FM may start on filters no channel names: there is nothing of ours
    to put back, and the filters stay on the last channel used)."""
    if channel in microscope.fluorescence.limits.channels:
        return [microscope.fluorescence.channel, channel]
    logger.info("fluorescence channel %r was not a configured one; not put back", channel)
    return []


def _readables(microscope: Microscope) -> list[Any]:
    return [microscope.fm_camera, microscope.fluorescence, microscope.stage, microscope.clock_s]


@plan
def acquire_channels(
    microscope: Microscope,
    channels: Sequence[str] = ("reflection", "green", "red"),
    exposure_s: float = 0.1,
    md: dict | None = None,
) -> MsgGenerator[str]:
    """One FM frame per channel in one run, each at `exposure_s` seconds; every event
    carries its channel (one stream: a detector's frames stay in one stream per run).
    The channel and exposure are put back afterwards. Returns the run uid."""
    _check_enabled(microscope)
    channels = list(channels)
    _check_channels(microscope, channels)
    _check_exposure(microscope, exposure_s)
    fm, cam = microscope.fluorescence, microscope.fm_camera
    saved_channel = yield from bps.rd(fm.channel)
    saved_exposure = yield from bps.rd(fm.exposure_time_s)
    args = {"channels": channels, "exposure_s": exposure_s}
    _md = plan_md(microscope, "acquire_channels", args, {**args, **(md or {})})

    @bpp.stage_decorator([cam])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        yield from bps.mv(fm.exposure_time_s, exposure_s)
        for channel in channels:
            yield from bps.mv(fm.channel, channel)
            yield from bps.trigger_and_read(_readables(microscope))

    def restore() -> MsgGenerator[None]:
        yield from bps.mv(*_put_back(microscope, saved_channel), fm.exposure_time_s, saved_exposure)

    return (yield from bpp.finalize_wrapper(inner(), restore))


@plan
def acquire_z_stack(
    microscope: Microscope,
    channel: str,
    z_range_m: tuple[float, float],
    step_m: float,
    exposure_s: float | None = None,
    md: dict | None = None,
) -> MsgGenerator[str]:
    """FM frames of `channel` with the objective at z_range_m[0], +step_m, ... up to
    z_range_m[1] (metres, inclusive within step/1000), one event per plane in stream
    'primary' with the objective position. The objective and channel are put back
    afterwards. Returns the run uid."""
    _check_enabled(microscope)
    _check_channels(microscope, [channel])
    if exposure_s is not None:
        _check_exposure(microscope, exposure_s)
    z0, z1 = (float(v) for v in z_range_m)
    if not (math.isfinite(z0) and math.isfinite(z1) and math.isfinite(step_m) and step_m > 0):
        raise ValueError(f"z_range_m={z_range_m!r}, step_m={step_m!r}: need finite, step_m > 0")
    if z1 < z0:
        raise ValueError(f"z_range_m={z_range_m!r}: the first value must not exceed the second")
    fm, cam = microscope.fluorescence, microscope.fm_camera
    lim = fm.limits
    for z in (z0, z1):
        field = "fluorescence.objective_position_m"
        in_range(field, z, lim.objective_min_m, lim.objective_max_m, "m")
    n = math.floor((z1 - z0) / step_m + 1e-3) + 1
    planes = [float(z) for z in z0 + step_m * np.arange(n)]
    saved_z = yield from bps.rd(fm.objective.readback)
    saved_channel = yield from bps.rd(fm.channel)
    args = {"channel": channel, "z_range_m": [z0, z1], "step_m": step_m}
    _md = plan_md(microscope, "acquire_z_stack", args, {**args, "planes": n, **(md or {})})

    @bpp.stage_decorator([cam])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[None]:
        yield from bps.mv(fm.channel, channel)
        if exposure_s is not None:
            yield from bps.mv(fm.exposure_time_s, exposure_s)
        for z in planes:
            yield from bps.mv(fm.objective, z)
            yield from bps.trigger_and_read(_readables(microscope))

    def restore() -> MsgGenerator[None]:
        yield from bps.mv(fm.objective, saved_z, *_put_back(microscope, saved_channel))

    return (yield from bpp.finalize_wrapper(inner(), restore))


__all__ = ["acquire_channels", "acquire_z_stack", "move_to_fluorescence"]
