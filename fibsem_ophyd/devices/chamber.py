"""The chamber: vacuum state, pump, vent, pressure, cryo temperature.

Venting is refused while a needle (manipulator or GIS) is inserted.
"""

from __future__ import annotations

from ophyd_async.core import AsyncStatus, StandardReadable
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import ChamberBackend
from ._backed import backed_r
from .interlocks import Interlocks


class Chamber(StandardReadable):
    def __init__(self, backend: ChamberBackend, interlocks: Interlocks, name: str = "") -> None:
        self.backend = backend
        self._interlocks = interlocks
        with self.add_children_as_readables():
            self.state = backed_r(str, lambda: str(backend.state.value))
            self.pressure_pa = backed_r(float, lambda: float(backend.pressure_pa), units="Pa")
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.cryo_temperature_k = backed_r(
                float, lambda: float(backend.cryo_temperature_k), units="K"
            )
        super().__init__(name=name)

    async def _refresh(self) -> None:
        await self.state.read(cached=False)
        await self.pressure_pa.read(cached=False)

    @AsyncStatus.wrap
    async def pump(self) -> None:
        await self.backend.pump()
        await self._refresh()

    @AsyncStatus.wrap
    async def vent(self) -> None:
        self._interlocks.require_needles_retracted("vent the chamber")
        self._interlocks.switch_beams_off()
        await self.backend.vent()
        await self._refresh()
