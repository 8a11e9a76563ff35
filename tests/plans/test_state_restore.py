"""Save / restore the whole microscope state on the twin; YAML round trip; named
positions saved and loaded."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import pytest

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.state import MicroscopeState
from plans.imaging import set_imaging
from plans.movement import move_relative
from plans.state import load_positions, restore_state, save_positions, save_state


def _without_clock(state: MicroscopeState) -> dict:
    return state.model_dump(exclude={"clock_s"})


def test_restore_brings_every_signal_back(RE, microscope):
    m = microscope
    saved = RE(save_state(m)).plan_result
    e_currents, i_currents = m.electron_beam.limits.currents_a, m.ion_beam.limits.currents_a
    RE(set_imaging(m, "electron", hfw_m=300e-6, dwell_time_s=3e-6, working_distance_m=5e-3,
                   beam_shift_x_m=2e-6, beam_shift_y_m=-1e-6, scan_rotation_deg=30.0,
                   detector_contrast=0.7, detector_brightness=0.3, stigmation_x=0.1,
                   line_integration=2, detector_mode="BackscatterElectrons",
                   current_a=e_currents[-1], resolution="768x512"))  # fmt: skip
    RE(set_imaging(m, "ion", hfw_m=80e-6, current_a=i_currents[-1], frame_integration=3,
                   scan_rotation_deg=180.0, detector_type="ICE"))  # fmt: skip
    RE(bps.mv(m.fluorescence.channel, "red", m.fluorescence.exposure_time_s, 0.5))
    RE(move_relative(m, dx_m=50e-6, dy_m=-20e-6, dz_m=10e-6, dr_deg=30.0, dt_deg=-5.0))
    changed = RE(save_state(m)).plan_result
    differing = {
        k for k, v in _without_clock(changed)["electron"].items()
        if v != _without_clock(saved)["electron"][k]
    }  # fmt: skip
    assert len(differing) >= 10
    assert changed.stage != saved.stage

    RE(restore_state(m, saved))
    restored = RE(save_state(m)).plan_result
    assert _without_clock(restored) == _without_clock(saved)


def test_state_yaml_round_trip_and_metadata(RE, microscope, tmp_path):
    state = RE(save_state(microscope)).plan_result
    assert MicroscopeState.from_yaml(state.to_yaml()) == state
    state.save(tmp_path / "state.yaml")
    assert MicroscopeState.load(tmp_path / "state.yaml") == state
    assert MicroscopeState.model_validate(state.as_metadata()) == state


def test_named_positions_save_and_load(RE, microscope, tmp_path):
    sites = dict(microscope.sites)
    sites["custom"] = StagePosition(x_m=1e-4, y_m=-2e-4, z_m=4e-3, r_deg=180.0, t_deg=17.0)
    save_positions(sites, tmp_path / "positions.yaml")
    assert load_positions(tmp_path / "positions.yaml") == sites


def test_loading_bad_positions_names_the_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("site_1: {x_m: not-a-number, y_m: 0.0}\n")
    with pytest.raises(ValueError, match="x_m"):
        load_positions(path)
