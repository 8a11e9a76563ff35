"""Soft signals for values a plan computes from a frame (sharpness, grey levels), so the
values are read into events like any other signal.

Deviation from DESIGN.md (computing on frames belongs in a processing device): the focus
and contrast plans compute their metric in the plan from `detector.last_frame` and
publish it through one of these signals. A processing device can replace them later
without changing the documents (same data keys).
"""

from __future__ import annotations

from bluesky.utils import MsgGenerator, plan
from ophyd_async.core import SignalRW, soft_signal_rw
from ophyd_async.plan_stubs import ensure_connected


@plan
def computed_signal(name: str, units: str | None = None) -> MsgGenerator[SignalRW[float]]:
    """A connected float soft signal named `name` (its data key in events)."""
    signal = soft_signal_rw(float, 0.0, name=name, units=units)
    yield from ensure_connected(signal)
    return signal
