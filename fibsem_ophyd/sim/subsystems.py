"""Twin backends for the non-imaging subsystems: manipulator, GIS, coater, light (the
chamber is in `sim/chamber.py`)."""

from __future__ import annotations

from typing import Any

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
    """Raw axes = true tip − `params.manipulator_tip_offset_m` (the twin's hidden
    miscalibration); the world keeps the true tip (what is drawn and what touches)."""

    inserted: bool = _field("manipulator", "inserted")

    def __init__(self, world: TwinWorld) -> None:
        self._world = world

    def _offset(self) -> np.ndarray:
        return np.asarray(self._world.params.manipulator_tip_offset_m, float)

    def position(self) -> ManipulatorPosition:
        m = self._world.manipulator
        x, y, z = np.array([m.x_m, m.y_m, m.z_m]) - self._offset()
        return ManipulatorPosition(x_m=float(x), y_m=float(y), z_m=float(z), r_deg=m.r_deg)

    async def _go(self, target: ManipulatorPosition) -> None:
        """Travel in a straight line at the configured speed to the raw `target`."""
        raw = self.position()
        goal = [getattr(target, a) if getattr(target, a) is not None else getattr(raw, a)
                for a in ("x_m", "y_m", "z_m")]  # fmt: skip
        if not np.all(np.isfinite(goal)):
            raise ValueError(f"manipulator target must be finite, got {goal}")
        distance = float(np.linalg.norm(np.subtract(goal, [raw.x_m, raw.y_m, raw.z_m])))
        await self._world.clock.advance_async(
            distance / self._world.params.manipulator_speed_m_per_s
        )
        m = self._world.manipulator
        m.x_m, m.y_m, m.z_m = (float(v) for v in np.asarray(goal) + self._offset())
        if target.r_deg is not None:
            m.r_deg = target.r_deg

    async def move_to(self, target: ManipulatorPosition) -> None:
        if not self._world.manipulator.inserted:
            raise ValueError("manipulator is retracted: insert it before moving")
        await self._go(target)

    async def insert(self, target: ManipulatorPosition) -> None:
        await self._world.clock.advance_async(self._world.params.manipulator_insert_time_s)
        self._world.manipulator.inserted = True
        await self._go(target)

    async def retract(self) -> None:
        await self._world.clock.advance_async(self._world.params.manipulator_insert_time_s)
        self._world.manipulator.inserted = False

    async def move_retracted(self, target: ManipulatorPosition) -> None:
        if self._world.manipulator.inserted:
            raise ValueError("manipulator is inserted: retract it before this move")
        await self._go(target)


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

    async def move_objective(self, position_m: float) -> None:
        self.objective_position_m = float(position_m)

    async def acquire(self) -> np.ndarray:
        return await self._world.acquire_fluorescence()

    def frame_shape(self) -> tuple[int, int]:
        """(rows, columns) of the frames `acquire` returns."""
        w, h = self._world.params.fluorescence_resolution_px
        return int(h), int(w)
