"""`FibsemBackend`: every subsystem of a connected `FibsemMicroscope`, as our backend
protocols want them (`fibsem_ophyd.backend.MicroscopeBackend`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ..backend import FluorescenceBackend, SystemFingerprint
from ..config import FluorescenceChannel, FluorescenceConfig
from ._beams import FibsemBeam
from ._calls import VendorCalls
from ._fluorescence import FibsemFluorescence
from ._imaging import FibsemImaging
from ._milling import FibsemMilling
from ._motion import FibsemManipulator, FibsemStage
from ._subsystems import FibsemChamber, FibsemGis, FibsemSputterCoater, NoFluorescence

# fibsem's manufacturer names -> ours (info.manufacturer); fibsem's Demo is not our twin.
MANUFACTURER_NAMES = {
    "ThermoFisher": "Thermo",
    "Tescan": "Tescan",
    "Odemis": "Odemis",
    "Demo": "OpenFIBSEM-Demo",
}


class FibsemBackend:
    """The bridge. `speeds` (m/s, deg/s, deg/s) only estimate stage move times;
    `fm_channels` (default: the shipped configuration's) name fibsem's FM filters."""

    def __init__(
        self,
        microscope: Any,
        calls: VendorCalls | None = None,
        speeds: tuple[float, float, float] = (1e-3, 20.0, 5.0),
        fm_channels: Sequence[FluorescenceChannel] | None = None,
    ) -> None:
        self.microscope = microscope
        self.calls = calls or VendorCalls()
        self.electron = FibsemBeam(microscope, self.calls, "electron")
        self.ion = FibsemBeam(microscope, self.calls, "ion")
        self.imaging = FibsemImaging(
            microscope, self.calls, {"electron": self.electron, "ion": self.ion}
        )
        self.stage = FibsemStage(microscope, self.calls, *speeds)
        self.manipulator = FibsemManipulator(microscope, self.calls)
        self.gis = FibsemGis(microscope, self.calls)
        self.sputter_coater = FibsemSputterCoater(microscope, self.calls)
        self.chamber = FibsemChamber(microscope, self.calls)
        fm = getattr(microscope, "fm", None)
        channels = FluorescenceConfig().channels if fm_channels is None else fm_channels
        self.fluorescence: FluorescenceBackend = (
            NoFluorescence() if fm is None else FibsemFluorescence(fm, self.calls, channels)
        )
        self.milling = FibsemMilling(microscope, self.calls, self.ion)

    def fingerprint(self) -> SystemFingerprint:
        """What fibsem reports: identity from `system.info`, subsystems from
        `is_available` (fluorescence: whether it has an FM), stage x/y/z ranges from its
        axis limits and the FM objective's reachable range (metres)."""
        m = self.microscope
        info = m.system.info
        available = {
            ours: bool(
                self.calls.now("microscope", f"is_available {theirs}", m.is_available, theirs)
            )
            for ours, theirs in (
                ("electron", "electron_beam"),
                ("ion", "ion_beam"),
                ("stage", "stage"),
                ("manipulator", "manipulator"),
                ("gis", "gis"),
                ("sputter_coater", "gis_sputter_coater"),
            )
        }
        ranges: dict[str, tuple[float, float]] = {}
        limits = self.calls.now("stage", "limits", m._get_axis_limits)
        for axis in ("x", "y", "z"):
            if axis in limits:
                ranges[f"stage.{axis}_m"] = (float(limits[axis].min), float(limits[axis].max))
        if isinstance(self.fluorescence, FibsemFluorescence):
            ranges["fluorescence.objective_position_m"] = self.fluorescence.objective_limits_m()
            ranges["fluorescence.exposure_time_s"] = self.fluorescence.exposure_limits_s()
        return SystemFingerprint(
            manufacturer=MANUFACTURER_NAMES.get(str(info.manufacturer), str(info.manufacturer)),
            model=str(info.model),
            serial_number=str(info.serial_number),
            software_version=str(info.software_version),
            subsystems={
                **available,
                "chamber": True,
                "milling": available["ion"],
                "fluorescence": isinstance(self.fluorescence, FibsemFluorescence),
                "cryo": False,
            },
            ranges=ranges,
        )

    def clock_s(self) -> float:
        """Wall time: a real microscope's clock."""
        return time.time()

    def close(self) -> None:
        self.calls.close()
        self.microscope.disconnect()
