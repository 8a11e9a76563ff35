"""Application files (the microscope's named milling recipes) and their milling rates.

A rate is a volume removed per charge delivered. Literature quotes it in µm³/nC;
1 µm³/nC = 1e-18 m³ / 1e-9 C = 1e-9 m³/(A·s), the unit used in code.

Typical published values, 30 kV Ga⁺: silicon ≈ 0.27 µm³/nC; amorphous carbon ≈ 0.18;
vitreous ice / frozen-hydrated biological material mills several times faster than
silicon (≈ 1 µm³/nC used here as an order of magnitude). These drive time estimates and
the twin's milling; they are approximate and a protocol may override them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

UM3_PER_NC = 1e-9  # m³/(A·s) per µm³/nC


@dataclass(frozen=True)
class ApplicationFile:
    """One application file: what it is for and its volume-per-charge rate."""

    name: str
    material: str
    rate_um3_per_nc: float
    purpose: Literal["mill", "deposit"] = "mill"

    @property
    def rate_m3_per_a_s(self) -> float:
        """Volume removed (or deposited) per charge, m³/(A·s) = m³/C."""
        return self.rate_um3_per_nc * UM3_PER_NC


APPLICATION_FILES: dict[str, ApplicationFile] = {
    a.name: a
    for a in (
        ApplicationFile("Si", "silicon", 0.27),
        ApplicationFile("Si-ccs", "silicon, cleaning cross-section", 0.27),
        ApplicationFile("Si-multipass", "silicon, many fast passes", 0.27),
        ApplicationFile("Si-cryo", "vitreous ice / frozen-hydrated cells", 1.0),
        ApplicationFile("Si-ccs-cryo", "vitreous ice, cleaning cross-section", 1.0),
        ApplicationFile("C", "amorphous carbon", 0.18),
        # Ion-beam-assisted Pt deposition: a deposited volume per charge (rough).
        ApplicationFile("cryo_Pt_dep", "organometallic Pt, cryo deposition", 0.05, "deposit"),
    )
}


def application_file(name: str) -> ApplicationFile:
    """The registered application file ``name``, or ValueError naming the allowed ones."""
    try:
        return APPLICATION_FILES[name]
    except KeyError:
        allowed = ", ".join(APPLICATION_FILES)
        raise ValueError(f"application_file: got {name!r}; allowed: {allowed}") from None
