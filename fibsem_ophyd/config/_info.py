"""The instrument identity: which microscope a file describes, how to reach it, and (if
the user says so) which exact machine it must be."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal, get_args

from pydantic import Field, field_validator

from ._base import Section

Manufacturer = Literal["Demo", "Thermo", "Tescan", "Odemis", "OpenFIBSEM-Demo"]
MANUFACTURERS: tuple[str, ...] = get_args(Manufacturer)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


class ExpectedFingerprint(Section):
    """What the connected microscope must report about itself; a key left out (null) is
    not checked. The manufacturer is `info.manufacturer` (not repeated here)."""

    model: str | None = Field(None, min_length=1, description="Model, e.g. 'Aquilos 2'.")
    serial_number: str | None = Field(None, min_length=1, description="Serial number.")
    software_version: str | None = Field(
        None, min_length=1, description="Control software version, e.g. '4.8.1'."
    )


class InfoConfig(Section):
    """Which instrument this file describes and how to reach it."""

    name: str = Field("fibsem-twin", min_length=1, description="A name for this microscope.")
    manufacturer: Manufacturer = Field(
        "Demo",
        description="Backend to use: 'Demo' (the digital twin); 'Thermo', 'Tescan', "
        "'Odemis' (through fibsem, docs/hardware.md); 'OpenFIBSEM-Demo' (fibsem's simulator).",
    )
    ip_address: str = Field(
        "localhost", description="IP address or hostname of the microscope control server."
    )
    expected_fingerprint: ExpectedFingerprint | None = Field(
        None,
        description="Identity the connected microscope must report (connecting to another "
        "machine is refused unless the mismatch is accepted); null: not checked.",
    )

    @field_validator("ip_address")
    @classmethod
    def _ip_or_host(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
            return value
        except ValueError:
            pass
        if not _HOSTNAME.match(value) or value.replace(".", "").isdigit():
            raise ValueError("expected an IPv4/IPv6 address or a hostname, e.g. '192.168.0.1'")
        return value
