"""The one pydantic-error translator (`fibsem_ophyd.pydantic_errors`): configuration,
lamella protocol and twin settings all name the dotted key, the value and what is
allowed, with the unit the key's suffix names."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fibsem_ophyd.config import ConfigError
from fibsem_ophyd.connect import build_microscope
from fibsem_ophyd.milling._errors import ProtocolError, protocol_error
from fibsem_ophyd.pydantic_errors import error_lines, raise_issues


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_a: float = Field(gt=0.0, description="milling current")
    depth_m: float


class _Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: list[_Step]
    speed_m_per_s: float = Field(1.0, le=2.0)

    @model_validator(mode="after")
    def _two_keys(self) -> _Plan:
        if len(self.steps) > 2:
            raise_issues([("steps", "at most 2"), ("speed_m_per_s", "too many steps")])
        return self


def _lines(data: dict) -> list[str]:
    with pytest.raises(ValidationError) as info:
        _Plan.model_validate(data)
    return error_lines(info.value, _Plan)


def test_each_problem_names_key_value_and_allowed_range() -> None:
    lines = _lines({"steps": [{"current_a": -1.0, "speed": 1}], "speed_m_per_s": "fast"})
    assert "steps[0].current_a: got -1 (float); must be > 0 amperes (A) (milling current)" in lines
    assert any(line.startswith("steps[0].depth_m: missing required key") for line in lines)
    assert "steps[0].speed: unknown key (a typo?); allowed keys here: current_a, depth_m" in lines
    assert any(
        line.startswith("speed_m_per_s: got 'fast' (str); expected a number in metres per second")
        for line in lines
    )
    assert len(lines) == 4


def test_cross_field_issues_land_under_their_own_keys() -> None:
    step = {"current_a": 1e-9, "depth_m": 1e-6}
    assert _lines({"steps": [step] * 3}) == ["steps: at most 2", "speed_m_per_s: too many steps"]


def test_protocol_error_uses_the_same_lines() -> None:
    with pytest.raises(ValidationError) as info:
        _Plan.model_validate({"steps": [{"current_a": 0.0, "depth_m": 1.0}]})
    err = protocol_error(info.value, _Plan, "p.yaml")
    assert isinstance(err, ProtocolError)
    assert str(err).startswith("invalid lamella protocol p.yaml (1 problem(s)):\n  - ")
    assert "steps[0].current_a: got 0 (float); must be > 0 amperes (A)" in str(err)


def test_bad_twin_settings_are_named_under_advanced_demo() -> None:
    with pytest.raises(ConfigError) as info:
        build_microscope(twin={"stage_position_error_m": -1.0})
    text = str(info.value)
    assert "invalid twin settings (1 problem(s))" in text
    assert "advanced.Demo.stage_position_error_m: got -1 (float); must be >= 0 metres (m)" in text
    assert "errors.pydantic.dev" not in text
