"""The electron column (SEM imaging beam)."""

from __future__ import annotations

from ..backend import BeamBackend
from .beam import Beam
from .interlocks import Interlocks
from .limits import BeamLimits


class ElectronBeam(Beam):
    def __init__(
        self, backend: BeamBackend, limits: BeamLimits, interlocks: Interlocks, name: str = ""
    ) -> None:
        super().__init__("electron", backend, limits, interlocks, name=name)
