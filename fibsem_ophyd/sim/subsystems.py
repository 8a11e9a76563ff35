"""Twin backends for the non-imaging subsystems: manipulator, GIS, coater, light (the
chamber is in `sim/chamber.py`)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..backend import ManipulatorPosition, VacuumState
from .coating import SPUTTER_RATE_M_PER_A_S, gis_rate_m_per_s
from .world import TwinWorld

COATING_RATE_M_PER_A_S = SPUTTER_RATE_M_PER_A_S  # 1 nm/s at 10 mA


def _field(state_attr: str, name: str) -> Any:
    """A property reading/writing `self._world.<state_attr>.<name>`."""

    def get(self: Any) -> Any:
        return getattr(getattr(self._world, state_attr), name)

    def set_(self: Any, value: Any) -> None:
        setattr(getattr(self._world, state_attr), name, value)

    return property(get, set_)


class TwinManipulator:
    inserted: bool = _field("manipulator", "inserted")
    calibrated: bool = _field("manipulator", "calibrated")

    def __init__(self, world: TwinWorld) -> None:
        self._world = world

    def position(self) -> ManipulatorPosition:
        m = self._world.manipulator
        return ManipulatorPosition(x_m=m.x_m, y_m=m.y_m, z_m=m.z_m, r_deg=m.r_deg)

    async def _go(self, x_m: float, y_m: float, z_m: float) -> None:
        m = self._world.manipulator
        distance = float(np.linalg.norm([x_m - m.x_m, y_m - m.y_m, z_m - m.z_m]))
        await self._world.clock.advance_async(
            distance / self._world.params.manipulator_speed_m_per_s
        )
        m.x_m, m.y_m, m.z_m = x_m, y_m, z_m

    async def move_to(self, target: ManipulatorPosition) -> None:
        if not self._world.manipulator.inserted:
            raise ValueError("manipulator is retracted: insert it before moving")
        m = self._world.manipulator
        t = target.model_dump()
        await self._go(
            t["x_m"] if t["x_m"] is not None else m.x_m,
            t["y_m"] if t["y_m"] is not None else m.y_m,
            t["z_m"] if t["z_m"] is not None else m.z_m,
        )
        if target.r_deg is not None:
            m.r_deg = target.r_deg

    async def insert(self, position: Literal["park", "eucentric"]) -> None:
        p = self._world.params
        if position not in ("park", "eucentric"):
            raise ValueError(f"position must be 'park' or 'eucentric', got {position!r}")
        self._world.manipulator.inserted = True
        await self._go(*(p.manipulator_park_m if position == "park" else p.manipulator_eucentric_m))

    async def retract(self) -> None:
        await self._go(*self._world.params.manipulator_park_m)
        self._world.manipulator.inserted = False


class TwinGis:
    gas: str = _field("gis", "gas")
    inserted: bool = _field("gis", "inserted")
    heater_on: bool = _field("gis", "heater_on")
    heater_temperature_k: float = _field("gis", "heater_temperature_k")

    @property
    def temperature_k(self) -> float:
        return self._world.gis.temperature_k

    def __init__(self, world: TwinWorld) -> None:
        self._world = world

    async def insert(self) -> None:
        await self._world.clock.advance_async(2.0)
        self._world.gis.inserted = True

    async def retract(self) -> None:
        await self._world.clock.advance_async(2.0)
        self._world.gis.inserted = False

    async def open_for(self, duration_s: float) -> None:
        if duration_s < 0:
            raise ValueError(f"duration_s must be >= 0, got {duration_s}")
        if not self._world.gis.inserted:
            raise ValueError("GIS needle is retracted: cannot open the valve")
        if self._world.chamber.state != VacuumState.PUMPED:
            raise ValueError("chamber is not pumped: cannot inject gas")
        await self._world.clock.advance_async(duration_s)
        gis = self._world.gis
        gis.open_time_s += duration_s
        gis.deposits.append((gis.gas, duration_s))
        if not self._world.faults.gis_blocked:
            rate = gis_rate_m_per_s(self._world.stage_temperature_k())
            self._world.coating.add(f"gis_{gis.gas.lower()}", rate * duration_s)
        self._world.liftout.on_gis_open(self._world, duration_s)


class TwinSputterCoater:
    def __init__(self, world: TwinWorld) -> None:
        self._world = world

    async def coat(self, duration_s: float, current_a: float) -> None:
        if duration_s < 0 or current_a < 0:
            raise ValueError("duration_s and current_a must be >= 0")
        if self._world.chamber.state != VacuumState.PUMPED:
            raise ValueError("chamber is not pumped: cannot sputter coat")
        await self._world.clock.advance_async(duration_s)
        c = self._world.coating
        c.add("sputter_pt", COATING_RATE_M_PER_A_S * current_a * duration_s)
        c.history.append((duration_s, current_a))


class TwinFluorescence:
    objective_position_m: float = _field("fluorescence", "objective_position_m")
    channel: str = _field("fluorescence", "channel")
    exposure_time_s: float = _field("fluorescence", "exposure_time_s")
    excitation_power: float = _field("fluorescence", "excitation_power")

    def __init__(self, world: TwinWorld) -> None:
        self._world = world

    async def acquire(self) -> np.ndarray:
        return await self._world.acquire_fluorescence()

    def frame_shape(self) -> tuple[int, int]:
        """(rows, columns) of the frames `acquire` returns."""
        w, h = self._world.params.fluorescence_resolution_px
        return int(h), int(w)
