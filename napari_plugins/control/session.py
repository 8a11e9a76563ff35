"""Which runner the widgets use: the one installed with `use_runner` (an IPython
session installs its own); else, when ``$FIBSEM_OPHYD_QUEUESERVER`` names a queueserver
(`profiles.remote.client`), a `QueueServerRunner` on it; else a twin on a fresh
in-process RunEngine."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .runner import PlanRunner

_runner: PlanRunner | None = None


def use_runner(runner: PlanRunner | None) -> None:
    """Make `runner` the one widgets opened from now on submit to (None: forget it)."""
    global _runner
    _runner = runner


def configured_runner() -> PlanRunner | None:
    """A `QueueServerRunner` on the queueserver ``$FIBSEM_OPHYD_QUEUESERVER`` names, or
    None when it names none (nothing is contacted until a plan is submitted)."""
    from profiles.remote.client import RemoteClient, configured_addresses

    addresses = configured_addresses()
    if addresses is None:
        return None
    from .queue_server import QueueServerRunner

    return QueueServerRunner(RemoteClient(*addresses))


def current_runner() -> PlanRunner:
    """The installed runner; without one, the configured queueserver's, else the
    digital twin on a new RunEngine (frames in a temporary folder)."""
    global _runner
    if _runner is None:
        _runner = configured_runner()
    if _runner is None:
        from bluesky import RunEngine
        from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

        from fibsem_ophyd.connect import connect_microscope

        from .in_process import InProcessRunner

        RE = RunEngine({}, call_returns_result=True, context_managers=[])
        folder = Path(tempfile.mkdtemp(prefix="fibsem-napari-frames-"))
        microscope = connect_microscope(
            path_provider=StaticPathProvider(UUIDFilenameProvider(), folder)
        )
        _runner = InProcessRunner(RE, microscope)
    return _runner
