"""Errors of the fibsem bridge: every one names the device and the action that failed."""

from __future__ import annotations


class HardwareError(RuntimeError):
    """A vendor call failed. `device` ('stage', 'electron', 'milling'...) and `action`
    ('move_to', 'acquire'...) say what was being done; the vendor's exception is the
    `__cause__`."""

    def __init__(self, device: str, action: str, detail: str) -> None:
        super().__init__(f"{device}.{action}: {detail}")
        self.device = device
        self.action = action


class HardwareTimeoutError(HardwareError, TimeoutError):
    """A vendor call did not return within its timeout. Its worker thread may still be
    running (a thread cannot be killed); the bridge refuses further calls until it ends."""


class HardwareUnavailableError(HardwareError):
    """The connected system (as fibsem reports it) has no such subsystem or action."""


FIBSEM_INSTALL_HINT = (
    "install the hardware extra: pip install 'fibsem-ophyd[hardware]' (fibsem==0.5.3, "
    "OpenFIBSEM); the vendor SDK (ThermoFisher AutoScript, Tescan Automation or Odemis) "
    "must also be installed on the microscope PC, see docs/hardware.md"
)
