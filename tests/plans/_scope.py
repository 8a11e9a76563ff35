"""A twin microscope connected from a configuration that differs from the shipped one
only in the sections given (keys left out keep their defaults)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

from fibsem_ophyd.config import config_from_dict
from fibsem_ophyd.connect import connect_microscope
from fibsem_ophyd.devices.microscope import Microscope


def scope(frames_dir: Path, sections: dict[str, Any] | None = None, **kwargs: Any) -> Microscope:
    """Connect (a RunEngine must exist) the twin for the shipped config + `sections`."""
    provider = StaticPathProvider(UUIDFilenameProvider(), frames_dir)
    cfg = config_from_dict(sections or {})
    return connect_microscope(cfg, path_provider=provider, **kwargs)
