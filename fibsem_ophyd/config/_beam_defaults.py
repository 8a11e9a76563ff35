"""Default column descriptions of a typical cryo FIB-SEM (SEM vertical, Ga/plasma FIB at 52°).

Kept as plain dicts: a partial ``electron:`` / ``ion:`` section in a YAML file is
deep-merged over these, so a user only writes what differs.
"""

from __future__ import annotations

from typing import Any

_RESOLUTIONS_PX = [[384, 256], [768, 512], [1536, 1024], [3072, 2048], [6144, 4096]]

ELECTRON_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "column_tilt_deg": 0.0,
    "eucentric_height_m": 4.0e-3,
    "voltages_v": [500.0, 1.0e3, 2.0e3, 3.0e3, 5.0e3, 10.0e3, 15.0e3, 20.0e3, 30.0e3],
    "currents_a": [
        1.0e-12,
        3.0e-12,
        6.3e-12,
        13.0e-12,
        25.0e-12,
        50.0e-12,
        0.1e-9,
        0.2e-9,
        0.4e-9,
        0.8e-9,
        1.6e-9,
        3.2e-9,
        6.4e-9,
        13.0e-9,
        20.0e-9,
    ],
    "resolutions_px": _RESOLUTIONS_PX,
    "hfw_min_m": 1.0e-6,
    "hfw_max_m": 2.5e-3,
    "dwell_time_min_s": 25.0e-9,
    "dwell_time_max_s": 25.0e-3,
    "beam_shift_max_m": 50.0e-6,
    "working_distance_min_m": 0.5e-3,
    "working_distance_max_m": 50.0e-3,
    "stigmation_max": 1.0,
    "integration_max": 255,
    "detector_types": ["ETD", "TLD", "CBS"],
    "detector_modes": ["SecondaryElectrons", "BackscatterElectrons"],
    "imaging": {
        "voltage_v": 2.0e3,
        "current_a": 25.0e-12,
        "hfw_m": 150.0e-6,
        "resolution_px": [1536, 1024],
        "dwell_time_s": 1.0e-6,
        "working_distance_m": 4.0e-3,
        "scan_rotation_deg": 0.0,
        "detector_type": "ETD",
        "detector_mode": "SecondaryElectrons",
    },
}

ION_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "column_tilt_deg": 52.0,
    "eucentric_height_m": 16.5e-3,
    "voltages_v": [5.0e3, 8.0e3, 16.0e3, 30.0e3],
    "currents_a": [
        1.0e-12,
        10.0e-12,
        30.0e-12,
        60.0e-12,
        0.1e-9,
        0.2e-9,
        0.3e-9,
        0.5e-9,
        0.74e-9,
        1.0e-9,
        2.0e-9,
        4.0e-9,
        7.4e-9,
        15.0e-9,
        30.0e-9,
        65.0e-9,
    ],
    "resolutions_px": _RESOLUTIONS_PX,
    "hfw_min_m": 1.0e-6,
    "hfw_max_m": 9.0e-4,
    "dwell_time_min_s": 25.0e-9,
    "dwell_time_max_s": 25.0e-3,
    "beam_shift_max_m": 50.0e-6,
    "working_distance_min_m": 0.5e-3,
    "working_distance_max_m": 50.0e-3,
    "stigmation_max": 1.0,
    "integration_max": 255,
    "detector_types": ["ETD", "ICE"],
    "detector_modes": ["SecondaryElectrons", "SecondaryIons"],
    "imaging": {
        "voltage_v": 30.0e3,
        "current_a": 30.0e-12,
        "hfw_m": 150.0e-6,
        "resolution_px": [1536, 1024],
        "dwell_time_s": 1.0e-6,
        "working_distance_m": 16.5e-3,
        "scan_rotation_deg": 0.0,
        "detector_type": "ETD",
        "detector_mode": "SecondaryElectrons",
    },
}
