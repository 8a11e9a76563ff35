"""Gas injection system (GIS): insert, retract, heater, open the valve for a time.

Insertion is refused while vented, venting or pumping, and outside the stage's safe
envelope (the same one as the manipulator's: both needles reach the specimen); while it
goes in, venting and stage moves out of the envelope are refused.
"""

from __future__ import annotations

import math

from ophyd_async.core import AsyncStatus, StandardReadable
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import GasInjectionBackend
from ..values import typed
from ._backed import backed_r, backed_rw
from .interlocks import InterlockError, Interlocks


class GasInjection(StandardReadable):
    def __init__(
        self,
        backend: GasInjectionBackend,
        interlocks: Interlocks,
        max_open_s: float = 600.0,
        name: str = "",
    ) -> None:
        self.backend = backend
        self._interlocks = interlocks
        self._max_open_s = max_open_s
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.gas = backed_r(str, lambda: str(backend.gas))
            self.inserted = backed_r(bool, lambda: bool(backend.inserted))
            self.heater_on = backed_rw(bool, backend, "heater_on", field="gis.heater_on")
            self.temperature_k = backed_r(float, lambda: float(backend.temperature_k), units="K")
        super().__init__(name=name)

    @AsyncStatus.wrap
    async def insert(self) -> None:
        with self._interlocks.inserting("gas injection needle"):
            await self.backend.insert()
        await self.inserted.read(cached=False)

    @AsyncStatus.wrap
    async def retract(self) -> None:
        await self.backend.retract()
        await self.inserted.read(cached=False)

    @AsyncStatus.wrap
    async def open_for(self, duration_s: float) -> None:
        """Open the valve for `duration_s` seconds (the needle must be inserted)."""
        duration_s = typed("gis.duration_s", float, duration_s, "s")
        if not math.isfinite(duration_s) or not (0 < duration_s <= self._max_open_s):
            raise ValueError(
                f"gis.duration_s={duration_s!r} s is outside the allowed range "
                f"(0, {self._max_open_s:g}] s"
            )
        self._interlocks.require_vacuum("open the gas injection valve")
        if not self.backend.inserted:
            raise InterlockError("refused to open the gas valve: the GIS needle is retracted")
        await self.backend.open_for(duration_s)
