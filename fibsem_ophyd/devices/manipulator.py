"""The manipulator (lift-out needle): x, y, z (metres), r (degrees); insert, retract,
park, calibrate, and the needle-exchange position.

Insertion is refused outside the safe stage envelope and while vented, venting or
pumping; while the needle goes in, venting and stage moves out of the envelope are
refused (see `interlocks`).
"""

from __future__ import annotations

from typing import Literal

from ophyd_async.core import AsyncStatus, StandardReadable
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import ManipulatorBackend, ManipulatorPosition
from ._backed import backed_r
from .axis import Axis
from .interlocks import InterlockError, Interlocks
from .limits import ManipulatorLimits

# Where the needle is exchanged: fully retracted and at the exchange rotation.
EXCHANGE_POSITION = ManipulatorPosition(x_m=0.0, y_m=0.0, z_m=0.0, r_deg=0.0)


class Manipulator(StandardReadable):
    def __init__(
        self,
        backend: ManipulatorBackend,
        limits: ManipulatorLimits,
        interlocks: Interlocks,
        name: str = "",
    ) -> None:
        self.backend = backend
        self.limits = limits
        self._interlocks = interlocks
        with self.add_children_as_readables():
            self.x = self._axis("x_m")
            self.y = self._axis("y_m")
            self.z = self._axis("z_m")
            self.r = self._axis("r_deg")
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.inserted = backed_r(bool, lambda: bool(backend.inserted))
            self.calibrated = backed_r(bool, lambda: bool(backend.calibrated))
        super().__init__(name=name)

    def _axis(self, field: str) -> Axis:
        async def move(value: float) -> None:
            await self.backend.move_to(ManipulatorPosition(**{field: value}))

        def must_be_inserted(_value: float) -> None:
            if not self.backend.inserted:
                raise InterlockError(
                    f"refused to move manipulator.{field}: the needle is retracted; insert it"
                )

        return Axis(
            f"manipulator.{field}",
            getattr(self.limits, field),
            read=lambda: float(getattr(self.backend.position(), field)),
            move=move,
            extra_check=must_be_inserted,
        )

    async def _refresh(self) -> None:
        for sig in (self.x.readback, self.y.readback, self.z.readback, self.r.readback):
            await sig.read(cached=False)
        await self.inserted.read(cached=False)

    @AsyncStatus.wrap
    async def insert(self, position: Literal["park", "eucentric"] = "park") -> None:
        """Insert the needle to its park (safe, high) or eucentric position."""
        if position not in ("park", "eucentric"):
            raise ValueError(f"insert position {position!r} not allowed; use 'park' or 'eucentric'")
        with self._interlocks.inserting("manipulator"):
            await self.backend.insert(position)
        await self._refresh()

    @AsyncStatus.wrap
    async def retract(self) -> None:
        await self.backend.retract()
        await self._refresh()

    @AsyncStatus.wrap
    async def park(self) -> None:
        """Move an inserted needle back to its park position."""
        if not self.backend.inserted:
            raise InterlockError("refused to park: the manipulator is retracted; insert it first")
        await self.backend.insert("park")
        await self._refresh()

    @AsyncStatus.wrap
    async def move_to_exchange(self) -> None:
        """Retract and move to the needle-exchange position."""
        if self.backend.inserted:
            await self.backend.retract()
        await self.backend.move_to(EXCHANGE_POSITION)
        await self._refresh()

    @AsyncStatus.wrap
    async def calibrate(self) -> None:
        """Mark the needle calibrated (the twin knows its tip exactly; hardware would run
        the vendor's calibration routine here)."""
        self._interlocks.require_vacuum("calibrate the manipulator")
        self.backend.calibrated = True
        await self.calibrated.read(cached=False)
