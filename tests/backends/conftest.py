"""The backends the contract suite runs against: our twin, and fibsem's DemoMicroscope
through the hardware bridge (skipped where fibsem is not installed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bluesky import RunEngine
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

from fibsem_ophyd.config import config_from_dict
from fibsem_ophyd.connect import connect_microscope
from fibsem_ophyd.devices.microscope import Microscope

BACKENDS = ["twin", "openfibsem-demo"]

# fibsem reports neither a stage temperature nor a sputter-coater current: a configuration
# for it says so, or the fingerprint check (rightly) refuses the connection.
DEMO_CONFIG = {
    "info": {"name": "openfibsem-demo", "manufacturer": "OpenFIBSEM-Demo"},
    "chamber": {"cryo_enabled": False},
}


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "openfibsem-demo":
        pytest.importorskip("fibsem")
        # fibsem's simulator sleeps to imitate hardware (1 s a stage move); its own test
        # suite turns that off the same way.
        monkeypatch.setenv("FIBSEM_SIM_NO_DELAY", "1")
    return request.param


@pytest.fixture
def bm(RE: RunEngine, frames_dir: Path, backend_name: str) -> Microscope:
    """A connected Microscope on the backend under test."""
    provider = StaticPathProvider(UUIDFilenameProvider(), frames_dir)
    config = None if backend_name == "twin" else config_from_dict(DEMO_CONFIG)
    return connect_microscope(config, path_provider=provider)


@pytest.fixture
def demo(RE: RunEngine, frames_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Microscope:
    """A Microscope on fibsem's DemoMicroscope only (bridge-specific checks)."""
    pytest.importorskip("fibsem")
    monkeypatch.setenv("FIBSEM_SIM_NO_DELAY", "1")
    provider = StaticPathProvider(UUIDFilenameProvider(), frames_dir)
    return connect_microscope(config_from_dict(DEMO_CONFIG), path_provider=provider)
