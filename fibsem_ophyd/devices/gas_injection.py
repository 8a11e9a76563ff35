"""Gas injection system (GIS): gas selection, insert, retract, heater, open the valve for
a time.

The gas is one of the configured `gis.gases`; the heater setpoint is the reservoir's
temperature while heated. Insertion is refused while vented, venting or pumping, and
outside the stage's safe envelope (the same one as the manipulator's: both needles reach
the specimen); while it goes in, venting and stage moves out of the envelope are
refused. With `gis.enabled` false in the configuration, insertion and opening are
refused.
"""

from __future__ import annotations

import math

from ophyd_async.core import AsyncStatus, StandardReadable
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import GasInjectionBackend
from ..ranges import check_choice, in_choices, in_range
from ._backed import backed_r, backed_rw
from .interlocks import InterlockError, Interlocks
from .limits import GisLimits


def _check_heater_temperature(value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"gis.heater_temperature_k={value!r} K must be finite and > 0 K")


class GasInjection(StandardReadable):
    def __init__(
        self,
        backend: GasInjectionBackend,
        interlocks: Interlocks,
        limits: GisLimits,
        name: str = "",
    ) -> None:
        self.backend = backend
        self.limits = limits
        self._interlocks = interlocks
        with self.add_children_as_readables():  # they change during a run
            self.inserted = backed_r(bool, lambda: bool(backend.inserted))
            self.temperature_k = backed_r(float, lambda: float(backend.temperature_k), units="K")
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.gas = backed_rw(
                str,
                backend,
                "gas",
                field="gis.gas",
                check=check_choice("gis.gas", list(limits.gases)),
            )
            self.heater_on = backed_rw(bool, backend, "heater_on", field="gis.heater_on")
            self.heater_temperature_k = backed_rw(
                float,
                backend,
                "heater_temperature_k",
                field="gis.heater_temperature_k",
                units="K",
                check=_check_heater_temperature,
            )
        super().__init__(name=name)

    def _require_enabled(self, action: str) -> None:
        if not self.limits.enabled:
            raise ValueError(f"refused to {action}: gis.enabled is false in the configuration")

    @AsyncStatus.wrap
    async def insert(self) -> None:
        self._require_enabled("insert the gas injection needle")
        with self._interlocks.inserting("gas injection needle"):
            await self.backend.insert()
        await self.inserted.read(cached=False)

    @AsyncStatus.wrap
    async def retract(self) -> None:
        await self.backend.retract()
        await self.inserted.read(cached=False)

    def check_duration(self, duration_s: float) -> float:
        """`duration_s` as a float if in (0, `gis.max_open_time_s`], else ValueError."""
        top = self.limits.max_open_time_s
        return in_range(
            "gis.duration_s",
            duration_s,
            0.0,
            top,
            "s",
            lo_open=True,
            config_key="gis.max_open_time_s",
        )

    def check(self, duration_s: float | None = None, gas: str | None = None) -> tuple[float, str]:
        """A deposition's (duration_s, gas), the configured defaults for None
        (`gis.deposition_time_s`, `gis.default_gas`), checked: a GIS is configured, the
        duration is allowed, the gas is one of `gis.gases`. ValueError otherwise."""
        self._require_enabled("deposit")
        lim = self.limits
        duration = self.check_duration(lim.deposition_time_s if duration_s is None else duration_s)
        chosen = lim.default_gas if gas is None else gas
        in_choices("gis.gas", chosen, list(lim.gases))
        return duration, chosen

    @AsyncStatus.wrap
    async def open_for(self, duration_s: float) -> None:
        """Open the valve for `duration_s` seconds (the needle must be inserted)."""
        duration_s = self.check_duration(duration_s)
        self._require_enabled("open the gas injection valve")
        self._interlocks.require_vacuum("open the gas injection valve")
        if not self.backend.inserted:
            raise InterlockError("refused to open the gas valve: the GIS needle is retracted")
        await self.backend.open_for(duration_s)
