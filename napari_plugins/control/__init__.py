"""Microscope control from napari: widgets submit plans to a `PlanRunner` (never a
device call); `InProcessRunner` runs them on a RunEngine in a background thread,
`queue_server.QueueServerRunner` on a bluesky-queueserver. Qt-free here; the widgets
are in ``_qt/``."""

from .in_process import InProcessRunner
from .runner import PlanOutcome, PlanRequest, PlanRunner
from .session import current_runner, use_runner

__all__ = [
    "InProcessRunner",
    "PlanOutcome",
    "PlanRequest",
    "PlanRunner",
    "current_runner",
    "use_runner",
]
