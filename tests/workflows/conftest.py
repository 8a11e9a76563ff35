"""Fixtures for workflow tests: a twin with drift and positioning error on."""

from __future__ import annotations

import pytest
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

DRIFTING_TWIN = {
    "stage_position_error_m": 1.0e-6,
    "stage_drift_m_per_s": (0.05e-9, -0.05e-9, 0.0),
    "seed": 11,
}


def make_microscope(frames_dir, **twin):
    from fibsem_ophyd.connect import connect_microscope
    from profiles.detectors import wire_detectors

    m = connect_microscope(
        path_provider=StaticPathProvider(UUIDFilenameProvider(), frames_dir), twin=twin
    )
    wire_detectors(m)
    return m


@pytest.fixture
def drifting_microscope(RE, frames_dir):
    return make_microscope(frames_dir, **DRIFTING_TWIN)
