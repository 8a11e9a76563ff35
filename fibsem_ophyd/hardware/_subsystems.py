"""GIS, sputter coater, chamber, and the absent fluorescence microscope, through fibsem
(an FM fibsem has is `_fluorescence.py`).

fibsem's common API has no per-action GIS calls, but each of its microscopes hands out a
valve object with insert/retract/open/close (`get_gis(port)` on ThermoFisher,
`gis_system` on the Demo); the bridge drives that. What fibsem does not report (stage
cryo temperature, a widefield microscope on a non-compustage system) reads as NaN/empty
and refuses actions with `HardwareUnavailableError`.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np

from ..backend import VacuumState
from ._calls import VendorCalls
from ._errors import HardwareUnavailableError

ACTION_MARGIN_S = 60.0  # beyond a timed action's own duration


class FibsemGis:
    def __init__(self, microscope: Any, calls: VendorCalls, port: str | None = None) -> None:
        self._m = microscope
        self._calls = calls
        self._port = port
        self.gas = "Pt dep"
        self.heater_temperature_k = 300.0
        self._inserted = False
        self._heater_on = False

    def _valve(self, action: str) -> Any:
        valve = getattr(self._m, "gis_system", None)
        if valve is None and hasattr(self._m, "get_gis"):
            valve = self._calls.now("gis", action, self._m.get_gis, self._port)
        if valve is None:
            raise HardwareUnavailableError("gis", action, "fibsem reports no GIS valve")
        return valve

    @property
    def inserted(self) -> bool:
        reported = getattr(getattr(self._m, "gis_system", None), "inserted", None)
        return bool(reported) if reported is not None else self._inserted

    @property
    def heater_on(self) -> bool:
        return self._heater_on

    @heater_on.setter
    def heater_on(self, value: bool) -> None:
        valve = self._valve("heater")
        fn = valve.turn_heater_on if value else valve.turn_heater_off
        self._calls.now("gis", "heater on" if value else "heater off", fn)
        self._heater_on = bool(value)

    @property
    def temperature_k(self) -> float:
        valve = self._valve("temperature")
        if not hasattr(valve, "get_temperature"):
            return math.nan
        return float(self._calls.now("gis", "temperature", valve.get_temperature))

    async def insert(self) -> None:
        await self._calls.slow("gis", "insert", self._valve("insert").insert)
        self._inserted = True

    async def retract(self) -> None:
        await self._calls.slow("gis", "retract", self._valve("retract").retract)
        self._inserted = False

    async def open_for(self, duration_s: float) -> None:
        if not duration_s >= 0:
            raise ValueError(f"duration_s must be >= 0 seconds, got {duration_s}")
        if not self.inserted:
            raise ValueError("GIS needle is retracted: cannot open the valve")
        valve = self._valve("open")
        await self._calls.slow("gis", "open", valve.open)
        try:
            await asyncio.sleep(duration_s)
        finally:  # closed even when the plan is interrupted mid-deposition
            await self._calls.slow("gis", "close", valve.close)


class FibsemSputterCoater:
    """fibsem's `run_sputter_coater(time_seconds)`; the current is the system's own."""

    def __init__(self, microscope: Any, calls: VendorCalls) -> None:
        self._m = microscope
        self._calls = calls
        self.history: list[tuple[float, float]] = []  # (duration_s, requested current_a)

    async def coat(self, duration_s: float, current_a: float) -> None:
        if not (duration_s >= 0 and current_a >= 0):
            raise ValueError("duration_s and current_a must be >= 0")
        await self._calls.slow(
            "sputter_coater",
            "coat",
            self._m.run_sputter_coater,
            duration_s,
            timeout_s=duration_s + ACTION_MARGIN_S,
        )
        self.history.append((duration_s, current_a))


_VACUUM = {state.value: state for state in VacuumState}


class FibsemChamber:
    def __init__(self, microscope: Any, calls: VendorCalls) -> None:
        self._m = microscope
        self._calls = calls

    @property
    def state(self) -> VacuumState:
        raw = str(self._calls.now("chamber", "state", self._m.get, "chamber_state"))
        try:
            return _VACUUM[raw.strip().lower()]
        except KeyError:
            raise HardwareUnavailableError(
                "chamber", "state", f"fibsem reported an unknown vacuum state {raw!r}"
            ) from None

    @property
    def pressure_pa(self) -> float:
        return float(self._calls.now("chamber", "pressure", self._m.get, "chamber_pressure"))

    # fibsem reports no stage temperature: the cryo keys read NaN and cannot be set.
    cryo_temperature_k = property(lambda self: math.nan)
    cryo_rate_k_per_min = property(lambda self: math.nan)

    @property
    def cryo_target_k(self) -> float:
        return math.nan

    @cryo_target_k.setter
    def cryo_target_k(self, value: float) -> None:
        raise HardwareUnavailableError("chamber", "cryo_target_k", "not available through fibsem")

    async def pump(self) -> None:
        await self._calls.slow("chamber", "pump", self._m.pump)

    async def vent(self) -> None:
        await self._calls.slow("chamber", "vent", self._m.vent)

    async def wait_for_temperature(self, timeout_s: float) -> bool:
        raise HardwareUnavailableError(
            "chamber", "wait_for_temperature", "fibsem reports no stage temperature"
        )


class NoFluorescence:
    """The widefield microscope where fibsem has none (`microscope.fm` is None: on the
    Demo and ThermoFisher, every non-compustage system):
    settings read as NaN/empty; acquiring refuses."""

    objective_position_m = math.nan
    channel = ""
    exposure_time_s = math.nan
    excitation_power = math.nan

    async def move_objective(self, position_m: float) -> None:
        raise HardwareUnavailableError(
            "fluorescence", "move_objective", "fibsem reports no fluorescence microscope"
        )

    async def acquire(self) -> np.ndarray:
        raise HardwareUnavailableError(
            "fluorescence", "acquire", "fibsem reports no fluorescence microscope"
        )

    def frame_shape(self) -> tuple[int, int]:
        return (0, 0)
