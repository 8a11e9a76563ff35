"""Bad input gets a clear error naming the field, and nothing moves: the stage pose and
every beam setting are unchanged (compared as MicroscopeState models)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fibsem_ophyd.backend import StagePosition
from plans.alignment import align
from plans.imaging import set_imaging
from plans.movement import move_absolute, move_relative, stable_move, vertical_move
from plans.state import save_state

NAN, INF = math.nan, math.inf


def _unchanged(RE, m, plan, match: str) -> None:
    before = RE(save_state(m)).plan_result.model_dump(exclude={"clock_s"})
    with pytest.raises(ValueError, match=match):
        RE(plan)
    after = RE(save_state(m)).plan_result.model_dump(exclude={"clock_s"})
    assert after == before


@pytest.mark.parametrize(("target", "match"), [
    (StagePosition(x_m=NAN), "x_m"),
    (StagePosition(y_m=INF), "y_m"),
    (StagePosition(z_m=1.0), r"stage.z_m.*outside the soft limits"),
    (StagePosition(x_m=0.0, t_deg=90.0), r"stage.t_deg.*\[-10, 60\]"),
])  # fmt: skip
def test_move_absolute_refuses(RE, microscope, target, match):
    _unchanged(RE, microscope, move_absolute(microscope, target), match)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"dx_m": NAN}, "dx_m"), ({"dt_deg": -INF}, "dt_deg"), ({"dy_m": 1.0}, "stage.y_m"),
    ({"dx_m": 1e-5, "dr_deg": 1000.0}, "stage.r_deg"),
])  # fmt: skip
def test_move_relative_refuses(RE, microscope, kwargs, match):
    _unchanged(RE, microscope, move_relative(microscope, **kwargs), match)


@pytest.mark.parametrize(("dx", "dy", "beam", "match"), [
    (NAN, 0.0, "ion", "dx_m"), (0.0, INF, "electron", "dy_m"), (0.0, 1.0, "ion", "stage"),
    (0.0, 0.0, "laser", "beam"),
])  # fmt: skip
def test_stable_move_refuses(RE, microscope, dx, dy, beam, match):
    _unchanged(RE, microscope, stable_move(microscope, dx, dy, beam), match)


def test_vertical_move_refuses_nan(RE, microscope):
    _unchanged(RE, microscope, vertical_move(microscope, NAN), "dy_m")


@pytest.mark.parametrize(("beam", "settings", "match"), [
    ("ion", {"hfw_m": 2e-3}, r"ion.hfw_m.*allowed range"),
    ("electron", {"hfw_m": NAN}, "electron.hfw_m"),
    ("electron", {"current_a": 1.234e-9}, r"electron.current_a.*not available"),
    ("ion", {"dwell_time_s": 1e-6, "current_a": 7e-12}, "ion.current_a"),  # all-or-none
    ("ion", {"resolution": "100x100"}, "ion.resolution"),
    ("electron", {"focus": 1.0}, "unknown imaging setting"),
])  # fmt: skip
def test_set_imaging_refuses(RE, microscope, beam, settings, match):
    _unchanged(RE, microscope, set_imaging(microscope, beam, **settings), match)


def test_align_refuses_reference_of_another_shape(RE, microscope):
    m = microscope
    ref = np.zeros((100, 120), np.uint8)
    _unchanged(RE, m, align(m, "electron", ref), r"reference shape \(100, 120\)")
    # Also when reference settings would change the resolution: checked before writing.
    settings = RE(save_state(m)).plan_result.electron.model_copy(update={"hfw_m": 300e-6})
    _unchanged(RE, m, align(m, "electron", ref, settings), "reference shape")


@pytest.mark.parametrize(("sites", "match"), [
    ({}, "non-empty dict"),
    ([("a", StagePosition(x_m=0.0))], "non-empty dict"),
    ({"": StagePosition(x_m=0.0)}, "non-empty strings"),
    ({"a": {}}, r"sites\['a'\]=\{\} must be a StagePosition"),
    ({"a": {"x_m": "1e-3"}}, r"sites\['a'\]"),
    ({"a": StagePosition()}, "sets no stage axis"),
    ({"a": StagePosition(x_m=1.0)}, "stage.x_m"),
])  # fmt: skip
def test_autolamella_refuses_bad_sites(RE, microscope, tmp_path, sites, match):
    from fibsem_ophyd.experiment import Experiment
    from fibsem_ophyd.milling import default_protocol
    from plans.workflow import autolamella

    exp = Experiment.create(tmp_path / "exp", {})
    _unchanged(RE, microscope, autolamella(microscope, sites, default_protocol(), exp), match)
    assert not Experiment.load(tmp_path / "exp").lamellae  # nothing stored
