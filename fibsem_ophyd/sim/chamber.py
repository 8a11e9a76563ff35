"""The twin's chamber backend: pump and vent taking the configured times, and the cryo
stage whose temperature ramps toward its setpoint on the twin clock (`sim/cryo.py`)."""

from __future__ import annotations

from ..backend import VacuumState
from .state import VENTED_PRESSURE_PA
from .world import TwinWorld

__all__ = ["VENTED_PRESSURE_PA", "TwinChamber"]


class TwinChamber:
    def __init__(self, world: TwinWorld) -> None:
        self._world = world

    @property
    def state(self) -> VacuumState:
        return self._world.chamber.state

    @property
    def pressure_pa(self) -> float:
        return self._world.chamber.pressure_pa

    async def pump(self) -> None:
        c, p = self._world.chamber, self._world.params
        c.state = VacuumState.PUMPING
        await self._world.clock.advance_async(p.pump_time_s)
        c.state, c.pressure_pa = VacuumState.PUMPED, p.pumped_pressure_pa

    async def vent(self) -> None:
        c = self._world.chamber
        c.state = VacuumState.VENTING
        await self._world.clock.advance_async(self._world.params.vent_time_s)
        c.state, c.pressure_pa = VacuumState.VENTED, VENTED_PRESSURE_PA

    # --- cryo stage ---

    @property
    def cryo_temperature_k(self) -> float:
        return self._world.stage_temperature_k()

    @property
    def cryo_target_k(self) -> float:
        return self._world.cryo.target_k

    @cryo_target_k.setter
    def cryo_target_k(self, value: float) -> None:
        self._require_cryo()
        self._world.cryo.change(self._world.clock.now_s(), target_k=value)

    @property
    def cryo_rate_k_per_min(self) -> float:
        return self._world.cryo.rate_k_per_min

    @cryo_rate_k_per_min.setter
    def cryo_rate_k_per_min(self, value: float) -> None:
        self._require_cryo()
        self._world.cryo.change(self._world.clock.now_s(), rate_k_per_min=value)

    async def wait_for_temperature(self, timeout_s: float) -> bool:
        """Let twin time pass until the setpoint is reached or `timeout_s` has passed;
        whether the stage is at its setpoint."""
        if timeout_s < 0:
            raise ValueError(f"timeout_s must be >= 0, got {timeout_s}")
        world = self._world
        remaining_s = world.cryo.time_to_target_s(world.clock.now_s())
        await world.clock.advance_async(min(remaining_s, timeout_s))
        return world.cryo.time_to_target_s(world.clock.now_s()) == 0.0

    def _require_cryo(self) -> None:
        if not self._world.params.cryo:
            raise ValueError("this twin has no cryo stage (params.cryo is false)")
