"""The hardware abstraction: what a microscope backend provides to the devices.

The digital twin (`fibsem_ophyd.sim`) implements these protocols; a vendor backend
would implement the same ones. Devices only ever talk to these protocols.
"""

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
    ManipulatorPosition,
    ReducedArea,
    StagePosition,
    SystemFingerprint,
    VacuumState,
)

__all__ = [
    "BEAM_NAMES",
    "BeamBackend",
    "BeamName",
    "ChamberBackend",
    "FluorescenceBackend",
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
]
