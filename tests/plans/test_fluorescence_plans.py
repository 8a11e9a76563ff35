"""Fluorescence plans on a twin whose configuration has an integrated FM."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import pytest
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

from fibsem_ophyd.config import config_from_dict, load_config
from fibsem_ophyd.connect import connect_microscope
from plans.fluorescence import acquire_channels, acquire_z_stack, move_to_fluorescence
from plans.stubs import read_pose

from ._images import collect, events_by_stream

OFFSET = {"x_m": 20e-6, "y_m": -10e-6, "z_m": 0.0}


def _config(enabled: bool = True, offset: dict | None = OFFSET):
    data = load_config().model_dump(mode="json")
    data["fluorescence"]["enabled"] = enabled
    data["fluorescence"]["stage_offset"] = offset
    return config_from_dict(data)


@pytest.fixture
def fm_scope(RE, frames_dir):
    provider = StaticPathProvider(UUIDFilenameProvider(), frames_dir)
    m = connect_microscope(_config(), path_provider=provider)
    RE(bps.mv(m.stage, next(iter(m.sites.values()))))
    return m


def test_twin_fluorescence_backend_has_frame_shape(RE, frames_dir):
    provider = StaticPathProvider(UUIDFilenameProvider(), frames_dir)
    m = connect_microscope(_config(), path_provider=provider)
    w, h = m.backend.world.params.fluorescence_resolution_px
    assert m.fluorescence.backend.frame_shape() == (h, w)


def test_move_to_fluorescence_moves_by_the_configured_offset(RE, fm_scope):
    m = fm_scope
    before = RE(read_pose(m)).plan_result
    RE(move_to_fluorescence(m, _config()))
    after = RE(read_pose(m)).plan_result
    assert after.x_m - before.x_m == pytest.approx(20e-6, abs=1e-12)
    assert after.y_m - before.y_m == pytest.approx(-10e-6, abs=1e-12)
    assert (after.r_deg, after.t_deg) == (before.r_deg, before.t_deg)


@pytest.mark.parametrize(("enabled", "offset", "match"), [
    (True, None, "stage_offset"), (False, OFFSET, "fluorescence.enabled"),
])  # fmt: skip
def test_move_to_fluorescence_without_position_is_refused(RE, fm_scope, enabled, offset, match):
    m = fm_scope
    before = RE(read_pose(m)).plan_result
    with pytest.raises(ValueError, match=match):
        RE(move_to_fluorescence(m, _config(enabled, offset)))
    assert RE(read_pose(m)).plan_result == before


def test_acquire_channels_one_event_per_channel(RE, fm_scope):
    m = fm_scope
    _, docs = collect(RE, acquire_channels(m, ("reflection", "green", "red"), exposure_s=0.05))
    events = events_by_stream(docs)["primary"]  # one stream: the camera's frames share a file
    assert [e[m.fluorescence.channel.name] for e in events] == ["reflection", "green", "red"]
    desc = next(d for n, d in docs if n == "descriptor")
    cfg = desc["configuration"][m.fm_camera.name]["data"]
    assert cfg[f"{m.fluorescence.name}-exposure_time_s"] == pytest.approx(0.05)
    assert all(any(k.startswith(m.stage.name) for k in e) for e in events)
    assert RE(bps.rd(m.fluorescence.exposure_time_s)).plan_result != pytest.approx(0.05)


def test_acquire_channels_bad_input(RE, fm_scope):
    m = fm_scope
    with pytest.raises(ValueError, match=r"fluorescence\.channel"):
        RE(acquire_channels(m, ("green", "blue")))
    with pytest.raises(ValueError, match=r"fluorescence\.exposure_time_s"):
        RE(acquire_channels(m, ("green",), exposure_s=float("nan")))


def test_z_stack_sweeps_the_objective_and_restores_it(RE, fm_scope):
    m = fm_scope
    z_before = RE(bps.rd(m.fluorescence.objective.readback)).plan_result

    _, docs = collect(RE, acquire_z_stack(m, "reflection", (0.0, 8e-6), 2e-6))
    events = events_by_stream(docs)["primary"]
    key = next(k for k in events[0] if "objective" in k)
    zs = [e[key] for e in events]
    assert zs == pytest.approx([0.0, 2e-6, 4e-6, 6e-6, 8e-6], abs=1e-12)
    assert RE(bps.rd(m.fluorescence.objective.readback)).plan_result == pytest.approx(z_before)
    with pytest.raises(ValueError, match="objective_position_m"):
        RE(acquire_z_stack(m, "green", (0.0, 1.0), 1e-3))
