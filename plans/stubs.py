"""Small plan stubs shared by the plans: read the stage pose, call a device action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bluesky.plan_stubs as bps
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.backend import StagePosition


@plan
def read_pose(microscope: Any) -> MsgGenerator[StagePosition]:
    """The stage's raw pose, read through its signals."""
    values = {}
    for field, axis in microscope.stage.axes().items():
        values[field] = yield from bps.rd(axis.readback)
    return StagePosition(**values)


@plan
def call(action: Callable[[], Any]) -> MsgGenerator[None]:
    """Run a device action that returns a Status (e.g. `lambda: m.chamber.pump()`) and
    wait for it; a refused action fails the plan with the device's error."""
    started: list[Any] = []

    def start() -> Any:
        status = action()
        started.append(status)
        return status.task

    yield from bps.wait_for([start])
    error = started[0].exception() if started else None  # nothing started in a simulator
    if error is not None:
        raise error


@plan
def read_value(signal: Any) -> MsgGenerator[Any]:
    value = yield from bps.rd(signal)
    return value
