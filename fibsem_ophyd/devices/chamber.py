"""The chamber: vacuum state, pump, vent, pressure, and the cryo stage's temperature.

Venting is refused while a needle (manipulator or GIS) is inserted or going in, or a
mill is in progress; pumping is refused while venting. Pumping a pumped chamber and
venting a vented one do nothing: a repeated `pump()` must not put the chamber through
minutes of 'pumping' (and refuse imaging meanwhile) for nothing.

The cryo stage has a settable setpoint (`cryo_target_k`, within the configured range)
and ramp rate (`cryo_rate_k_per_min`, at most the configured maximum); cooling below the
present temperature needs the chamber pumped (a cold stage in air collects ice).
`wait_for_temperature(timeout_s)` waits for the stage to get there, at most that long,
and says in `cryo_at_target` whether it has.
"""

from __future__ import annotations

import math

from ophyd_async.core import AsyncStatus, StandardReadable, soft_signal_r_and_setter
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import ChamberBackend, VacuumState
from ..ranges import in_range
from ..values import typed
from ._backed import backed_r, checked_rw
from .interlocks import Interlocks
from .limits import ChamberLimits


class Chamber(StandardReadable):
    def __init__(
        self,
        backend: ChamberBackend,
        interlocks: Interlocks,
        limits: ChamberLimits,
        name: str = "",
    ) -> None:
        self.backend = backend
        self.limits = limits
        self._interlocks = interlocks
        with self.add_children_as_readables():
            self.state = backed_r(str, lambda: str(backend.state.value))
            self.pressure_pa = backed_r(float, lambda: float(backend.pressure_pa), units="Pa")
            self.cryo_temperature_k = backed_r(
                float, lambda: float(backend.cryo_temperature_k), units="K"
            )
            self.cryo_target_k = checked_rw(
                float,
                "chamber.cryo_target_k",
                lambda: float(backend.cryo_target_k),
                lambda value: self._write_cryo("cryo_target_k", value),
                units="K",
                check=self.check_cryo_target,
            )
            # Whether the last wait ended at the setpoint (a new setpoint or rate clears it).
            self.cryo_at_target, self._set_at_target = soft_signal_r_and_setter(bool, False)
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.cryo_rate_k_per_min = checked_rw(
                float,
                "chamber.cryo_rate_k_per_min",
                lambda: float(backend.cryo_rate_k_per_min),
                lambda value: self._write_cryo("cryo_rate_k_per_min", value),
                units="K/min",
                check=self.check_cryo_rate,
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

    # --- cryo stage ---

    def _write_cryo(self, attr: str, value: float) -> None:
        setattr(self.backend, attr, value)
        self._set_at_target(False)

    def _require_cryo(self) -> None:
        if not self.limits.cryo_enabled:
            raise ValueError(
                "chamber.cryo_enabled is false in the configuration: this microscope has no "
                "cryo stage to cool or warm"
            )

    def check_cryo_target(self, target_k: float) -> None:
        """Refuse a setpoint outside `chamber.cryo_target_range_k`, any setpoint without a
        cryo stage, and cooling (a setpoint below the present temperature) unless pumped."""
        self._require_cryo()
        lo, hi = self.limits.cryo_min_k, self.limits.cryo_max_k
        key = "chamber.cryo_target_range_k"
        target_k = in_range("chamber.cryo_target_k", target_k, lo, hi, "K", config_key=key)
        if target_k < float(self.backend.cryo_temperature_k):
            self._interlocks.require_vacuum("cool the stage")

    def check_cryo_rate(self, rate_k_per_min: float) -> None:
        """Refuse a rate that is not in (0, `chamber.max_cryo_rate_k_per_min`]."""
        self._require_cryo()
        top, key = self.limits.max_cryo_rate_k_per_min, "chamber.max_cryo_rate_k_per_min"
        field = "chamber.cryo_rate_k_per_min"
        in_range(field, rate_k_per_min, 0.0, top, "K/min", lo_open=True, config_key=key)

    @AsyncStatus.wrap
    async def wait_for_temperature(self, timeout_s: float) -> None:
        """Wait until the stage is at its setpoint or `timeout_s` seconds (microscope time)
        have passed; `cryo_at_target` then says which."""
        timeout_s = typed("chamber.timeout_s", float, timeout_s, "s")
        if not (math.isfinite(timeout_s) and timeout_s >= 0):
            raise ValueError(f"chamber.timeout_s={timeout_s!r} s must be finite and >= 0 s")
        self._require_cryo()
        reached = await self.backend.wait_for_temperature(timeout_s)
        self._set_at_target(bool(reached))
        await self.cryo_temperature_k.read(cached=False)
