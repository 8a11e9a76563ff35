"""Small plan stubs shared by the plans: read the stage pose, call a device action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.devices.microscope import Microscope


@plan
def read_pose(microscope: Microscope) -> MsgGenerator[StagePosition]:
    """The stage's raw pose, read through its signals."""
    values = {}
    for field, axis in microscope.stage.axes().items():
        values[field] = yield from bps.rd(axis.readback)
    return StagePosition(**values)


@plan
def _wait_until_done(action: Callable[[], Any]) -> MsgGenerator[None]:
    started: list[Any] = []

    def start() -> Any:
        status = action()
        started.append(status)
        return status.task

    yield from bps.wait_for([start])
    if not started:  # a simulator runs nothing
        return
    status = started[0]
    # A pause cancels the RunEngine's wait, not the action: after resuming, the plan
    # comes back here with the action still going (a paused mill continues): wait again.
    while not status.done:
        yield from bps.wait_for([lambda: status.task])
    error = status.exception()
    if error is not None:
        raise error


@plan
def call(action: Callable[[], Any], replayable: bool = True) -> MsgGenerator[None]:
    """Run a device action that returns a Status (e.g. `lambda: m.chamber.pump()`) and
    wait for it; a refused action fails the plan with the device's error.

    `replayable=False` for an action that must never run twice (milling, opening a gas
    valve): it runs outside bluesky's rewinding, so a pause during it neither replays
    it on resume nor skips it — the plan waits until it has really finished."""
    if replayable:
        yield from _wait_until_done(action)
    else:
        yield from bpp.rewindable_wrapper(_wait_until_done(action), False)
