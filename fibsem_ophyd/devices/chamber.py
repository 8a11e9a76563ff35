"""The chamber: vacuum state, pump, vent, pressure, cryo temperature.

Venting is refused while a needle (manipulator or GIS) is inserted or going in, or a
mill is in progress; pumping is refused while venting. Pumping a pumped chamber and
venting a vented one do nothing: a repeated `pump()` must not put the chamber through
minutes of 'pumping' (and refuse imaging meanwhile) for nothing.
"""

from __future__ import annotations

from ophyd_async.core import AsyncStatus, StandardReadable
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import ChamberBackend, VacuumState
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
        """Pump down (a no-op when pumped; refused while venting)."""
        if self._interlocks.vacuum_state() is VacuumState.PUMPED:
            return
        with self._interlocks.pumping():
            await self.backend.pump()
        await self._refresh()

    @AsyncStatus.wrap
    async def vent(self) -> None:
        """Vent to air, beams off (a no-op when vented; refused while pumping)."""
        if self._interlocks.vacuum_state() is VacuumState.VENTED:
            return
        with self._interlocks.venting():
            await self.backend.vent()
        await self._refresh()
