"""The twin's chamber and GIS: the cryo stage ramps toward its setpoint with twin time,
pump and vent take their configured times, the GIS reservoir is at its heater setpoint
when heated, and every deposition records its gas."""

from __future__ import annotations

import pytest

from fibsem_ophyd.backend import ChamberBackend, GasInjectionBackend
from fibsem_ophyd.sim import TwinBackend, TwinParameters, TwinWorld
from fibsem_ophyd.sim.cryo import CryoStage


def test_the_cryo_ramp_is_straight_and_stops_at_the_setpoint() -> None:
    stage = CryoStage(temperature_k=90.0, target_k=150.0, rate_k_per_min=6.0)
    assert stage.temperature_at(0.0) == 90.0
    assert stage.temperature_at(300.0) == pytest.approx(120.0)
    assert stage.time_to_target_s(300.0) == pytest.approx(300.0)
    assert stage.temperature_at(10_000.0) == 150.0
    stage.change(300.0, target_k=100.0, rate_k_per_min=12.0)  # turn back mid-ramp
    assert stage.temperature_at(400.0) == pytest.approx(100.0)
    assert stage.time_to_target_s(400.0) == 0.0
    with pytest.raises(ValueError, match="rate_k_per_min must be > 0"):
        stage.change(400.0, rate_k_per_min=0.0)


async def test_any_twin_time_brings_the_stage_closer() -> None:
    backend = TwinBackend(TwinWorld(TwinParameters(cryo_temperature_k=95.0)))
    chamber, clock = backend.chamber, backend.world.clock
    assert isinstance(chamber, ChamberBackend)
    assert chamber.cryo_temperature_k == 95.0
    chamber.cryo_rate_k_per_min = 10.0
    chamber.cryo_target_k = 195.0
    clock.advance(60.0)  # an image, a move: time passes, the stage warms on
    assert chamber.cryo_temperature_k == pytest.approx(105.0)
    assert await chamber.wait_for_temperature(120.0) is False
    assert clock.now_s() == pytest.approx(180.0)
    assert await chamber.wait_for_temperature(3600.0) is True
    assert clock.now_s() == pytest.approx(600.0)  # stops waiting once there
    assert chamber.cryo_temperature_k == 195.0


def test_a_twin_without_cryo_stays_warm_and_refuses_a_setpoint() -> None:
    backend = TwinBackend(TwinWorld(TwinParameters(cryo=False)))
    assert backend.chamber.cryo_temperature_k == 293.0
    assert backend.fingerprint().subsystems["cryo"] is False
    with pytest.raises(ValueError, match="no cryo stage"):
        backend.chamber.cryo_target_k = 100.0


async def test_pump_and_vent_take_their_times() -> None:
    params = TwinParameters(pump_time_s=40.0, vent_time_s=15.0, pumped_pressure_pa=3e-4)
    backend = TwinBackend(TwinWorld(params))
    clock = backend.world.clock
    await backend.chamber.vent()
    assert (clock.now_s(), backend.chamber.pressure_pa) == (15.0, 1e5)
    await backend.chamber.pump()
    assert (clock.now_s(), backend.chamber.pressure_pa) == (55.0, 3e-4)


async def test_the_gis_reservoir_and_deposits() -> None:
    backend = TwinBackend(TwinWorld())
    gis = backend.gis
    assert isinstance(gis, GasInjectionBackend)
    gis.heater_temperature_k = 320.0
    assert gis.temperature_k == 293.0  # heater off
    gis.heater_on = True
    assert gis.temperature_k == 320.0
    await gis.insert()
    gis.gas = "W"
    await gis.open_for(2.0)
    gis.gas = "Pt"
    await gis.open_for(1.0)
    assert backend.world.gis.deposits == [("W", 2.0), ("Pt", 1.0)]
    assert [m for m, _ in backend.world.coating.layers] == ["gis_w", "gis_pt"]
