"""The hardware abstraction: what a microscope backend provides to the devices.

The digital twin (`fibsem_ophyd.sim`) implements these protocols; a vendor backend
would implement the same ones. Devices only ever talk to these protocols.
"""

from ._beam_settings import (
    BEAM_BACKEND_ATTRIBUTES,
    BEAM_SETTINGS,
    BeamSetting,
    BeamSettings,
    format_resolution,
    parse_resolution,
    write_beam_settings,
)
from ._protocols import (
    BeamBackend,
    ChamberBackend,
    FluorescenceBackend,
    GasInjectionBackend,
    ImagingBackend,
    ManipulatorBackend,
    MicroscopeBackend,
    MillingBackend,
    SputterCoaterBackend,
    StageBackend,
)
from ._types import (
    BEAM_NAMES,
    BeamName,
    FrameMetadata,
    ManipulatorPosition,
    ReducedArea,
    StagePosition,
    SystemFingerprint,
    VacuumState,
)

__all__ = [
    "BEAM_BACKEND_ATTRIBUTES",
    "BEAM_NAMES",
    "BEAM_SETTINGS",
    "BeamBackend",
    "BeamName",
    "BeamSetting",
    "BeamSettings",
    "ChamberBackend",
    "FluorescenceBackend",
    "FrameMetadata",
    "GasInjectionBackend",
    "ImagingBackend",
    "ManipulatorBackend",
    "ManipulatorPosition",
    "MicroscopeBackend",
    "MillingBackend",
    "ReducedArea",
    "SputterCoaterBackend",
    "StageBackend",
    "StagePosition",
    "SystemFingerprint",
    "VacuumState",
    "format_resolution",
    "parse_resolution",
    "write_beam_settings",
]
