"""GIS and sputter coating take their gas, times, currents, heater setpoint and limits
from the configuration; cryo deposition turns the stage flat to the electron beam and
back; refusals change nothing."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import pytest
from bluesky.utils import FailedStatus

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.geometry import flat_to_beam
from plans.deposition import cryo_deposition, gis_deposition, sputter_coat
from plans.movement import move_flat_to_beam, move_relative
from plans.stubs import read_pose

from ._images import collect, events_by_stream
from ._scope import scope

PT_W = {"gis": {"gases": ["Pt", "W"], "default_gas": "W"}}


def _descriptor_config(docs, stream: str, key: str):
    desc = next(d for n, d in docs if n == "descriptor" and d["name"] == stream)
    return desc["configuration"]["gis"]["data"][key]


def test_the_gas_is_chosen_from_the_configured_list(RE, frames_dir):
    m = scope(frames_dir, PT_W)
    world = m.backend.world
    assert RE(bps.rd(m.gis.gas)).plan_result == "W"  # gis.default_gas
    _, docs = collect(RE, gis_deposition(m, 2.0))
    assert world.gis.deposits[-1] == ("W", 2.0)
    assert world.coating.layers[-1][0] == "gis_w"
    assert _descriptor_config(docs, "before", "gis-gas") == "W"
    RE(gis_deposition(m, 3.0, gas="Pt"))
    assert world.gis.deposits[-1] == ("Pt", 3.0)
    with pytest.raises(FailedStatus, match=r"gis\.gas='Au' .*allowed: \[Pt, W\]"):
        RE(bps.mv(m.gis.gas, "Au"))


def test_duration_and_heater_setpoint_default_to_the_config(RE, frames_dir):
    m = scope(frames_dir, {"gis": {"deposition_time_s": 12.0, "heater_temperature_k": 320.0}})
    _, docs = collect(RE, gis_deposition(m))
    assert m.backend.world.gis.deposits == [("Pt", 12.0)]
    before = events_by_stream(docs)["before"][0]
    assert before["gis-temperature_k"] == 320.0  # the reservoir at the configured setpoint
    assert _descriptor_config(docs, "before", "gis-heater_temperature_k") == 320.0
    start = next(d for n, d in docs if n == "start")
    assert start["plan_args"]["duration_s"] == "12.0"
    assert start["plan_args"]["heater_temperature_k"] == "320.0"


def _gis_snapshot(RE, m) -> tuple:
    w = m.backend.world
    pose = RE(read_pose(m)).plan_result
    return (pose, w.gis.gas, w.gis.heater_on, w.gis.inserted, list(w.gis.deposits),
            w.clock.now_s(), list(w.coating.layers))  # fmt: skip


@pytest.mark.parametrize(("sections", "plan", "match"), [
    ({"gis": {"max_open_time_s": 20.0, "deposition_time_s": 10.0}},
     lambda m: gis_deposition(m, 30.0), r"gis\.duration_s=30\.0 s .*\(0, 20\] s .*max_open_time_s"),
    ({"gis": {"max_open_time_s": 20.0, "deposition_time_s": 10.0}},
     lambda m: cryo_deposition(m, 30.0), r"gis\.max_open_time_s"),
    (PT_W, lambda m: gis_deposition(m, 2.0, gas="Au"), r"gis\.gas='Au' .*allowed: \[Pt, W\]"),
    ({"gis": {"enabled": False}}, lambda m: gis_deposition(m, 2.0), r"gis\.enabled is false"),
    ({"gis": {"enabled": False}}, lambda m: cryo_deposition(m), r"gis\.enabled is false"),
])  # fmt: skip
def test_refused_depositions_change_nothing(RE, frames_dir, sections, plan, match):
    m = scope(frames_dir, sections)
    RE(move_flat_to_beam(m, "ion"))  # a cryo deposition must not even turn the stage
    before = _gis_snapshot(RE, m)
    docs: list = []
    with pytest.raises(ValueError, match=match):
        RE(plan(m), lambda name, doc: docs.append(name))
    assert docs == []
    assert _gis_snapshot(RE, m) == before


def test_the_default_config_allows_what_a_tighter_one_refuses(RE, microscope):
    RE(gis_deposition(microscope, 30.0))
    RE(sputter_coat(microscope, 5.0, 0.08))


def test_cryo_deposition_is_flat_to_the_electron_beam_and_comes_back(RE, microscope):
    m = microscope
    RE(move_flat_to_beam(m, "ion"))
    RE(move_relative(m, dx_m=20e-6))
    start = RE(read_pose(m)).plan_result
    _, docs = collect(RE, cryo_deposition(m, 5.0))
    flat = flat_to_beam("electron", m.geometry)
    during = events_by_stream(docs)["before"][0]
    assert (during["stage-r"], during["stage-t"]) == pytest.approx((flat.r_deg, flat.t_deg))
    assert (during["stage-x"], during["stage-z"]) == pytest.approx((start.x_m, start.z_m))
    assert during["gis-temperature_k"] == 293.0  # unheated: the precursor condenses
    assert m.backend.world.gis.deposits[-1] == ("Pt", 5.0)
    assert RE(read_pose(m)).plan_result == start
    run = next(d for n, d in docs if n == "start")
    assert (run["deposition"], run["return_stage"], run["plan_args"]["heat"]) == (
        "cryo", True, "False")  # fmt: skip
    RE(cryo_deposition(m, 5.0, return_stage=False))
    here = RE(read_pose(m)).plan_result
    assert (here.r_deg, here.t_deg) == pytest.approx((flat.r_deg, flat.t_deg))
    assert not m.backend.gis.inserted


def test_sputter_time_and_current_default_to_the_config(RE, frames_dir, microscope):
    RE(sputter_coat(microscope))
    assert microscope.backend.world.coating.history[-1] == (15.0, 30e-3)  # shipped config
    m = scope(frames_dir, {"sputter_coater": {"default_current_a": 20e-3, "default_time_s": 8.0}})
    RE(sputter_coat(m))
    assert m.backend.world.coating.history[-1] == (8.0, 20e-3)
    assert RE(bps.rd(m.sputter_coater.last_current_a)).plan_result == 20e-3


@pytest.mark.parametrize(("sections", "args", "match"), [
    ({"max_current_a": 0.05}, (5.0, 0.08), r"current_a=0\.08 A .*\(0, 0\.05\] A .*max_current_a"),
    ({"max_time_s": 10.0, "default_time_s": 5.0}, (30.0, None), r"duration_s=30\.0 s .*max_time_s"),
    ({"enabled": False}, (5.0, None), r"sputter_coater\.enabled is false"),
])  # fmt: skip
def test_sputter_limits_come_from_the_config(RE, frames_dir, sections, args, match):
    m = scope(frames_dir, {"sputter_coater": sections})
    docs: list = []
    with pytest.raises(ValueError, match=match):
        RE(sputter_coat(m, *args), lambda name, doc: docs.append(name))
    assert docs == [] and m.backend.world.coating.history == []


def test_a_stage_pose_is_recorded_in_raw_coordinates(RE, microscope):
    # The "before"/"after" streams carry the stage pose the deposition happened at.
    RE(bps.mv(microscope.stage, StagePosition(x_m=10e-6)))
    _, docs = collect(RE, gis_deposition(microscope, 1.0))
    assert events_by_stream(docs)["after"][0]["stage-x"] == pytest.approx(10e-6)
