"""The hardware bridge: our backend protocols on top of the `fibsem` package's
`FibsemMicroscope` (OpenFIBSEM: ThermoFisher AutoScript, Tescan, Odemis, and fibsem's
own DemoMicroscope). Picked by `info.manufacturer` in `fibsem_ophyd.connect`; fibsem is
imported only when a microscope is opened (optional extra `hardware`). docs/hardware.md.
"""

from ._backend import MANUFACTURER_NAMES, FibsemBackend
from ._calls import VendorCalls
from ._errors import (
    FIBSEM_INSTALL_HINT,
    HardwareError,
    HardwareTimeoutError,
    HardwareUnavailableError,
)
from ._session import FIBSEM_MANUFACTURERS, fibsem_system_settings, open_fibsem_backend

__all__ = [
    "FIBSEM_INSTALL_HINT",
    "FIBSEM_MANUFACTURERS",
    "MANUFACTURER_NAMES",
    "FibsemBackend",
    "HardwareError",
    "HardwareTimeoutError",
    "HardwareUnavailableError",
    "VendorCalls",
    "fibsem_system_settings",
    "open_fibsem_backend",
]
