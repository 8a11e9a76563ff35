"""The lamella protocol: shipped YAMLs, round trip, keyed errors, config checks, stages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fibsem_ophyd.milling import (
    MillingStage,
    ProtocolError,
    TrenchPattern,
    default_protocol,
    load_protocol,
    milling_stages,
    protocol_from_dict,
    protocol_to_yaml,
)
from fibsem_ophyd.milling.protocol import SHIPPED_PROTOCOLS, STAGE_NAMES


def _data(method: str = "on-grid") -> dict:
    return yaml.safe_load(protocol_to_yaml(default_protocol(method)))


@pytest.mark.parametrize("method", ["on-grid", "waffle"])
def test_shipped_protocols_load(method: str) -> None:
    protocol = load_protocol(SHIPPED_PROTOCOLS[method])
    assert protocol.method == method
    assert protocol.lamella.width_m == pytest.approx(10e-6)
    currents = [s.current_a for s in protocol.stages.rough.steps]
    assert currents == pytest.approx([0.74e-9, 0.2e-9])
    assert protocol.stages.polish.steps[-1].current_a == pytest.approx(60e-12)
    assert protocol.stages.polish.steps[-1].spacing_m == pytest.approx(0.3e-6)
    assert protocol.stages.trench.enabled is (method == "waffle")


@pytest.mark.parametrize("method", ["on-grid", "waffle"])
def test_yaml_round_trip(method: str, tmp_path: Path) -> None:
    protocol = default_protocol(method)
    path = tmp_path / "p.yaml"
    path.write_text(protocol_to_yaml(protocol))
    assert load_protocol(path) == protocol


def test_bad_protocol_one_error_naming_each_key() -> None:
    data = _data()
    data["method"] = "lasagne"
    data["milling_angle_deg"] = 45.0
    data["stages"]["rough"]["steps"][1]["current_a"] = "0.2 nA"
    del data["lamella"]["width_m"]
    data["stages"]["polish"]["speed"] = 3
    with pytest.raises(ProtocolError) as info:
        protocol_from_dict(data, "bad.yaml")
    text = str(info.value)
    assert "bad.yaml (5 problem(s))" in text
    assert "method: got 'lasagne'" in text and "'on-grid', 'waffle' or 'liftout'" in text
    assert "milling_angle_deg: got 45" in text and "5 to 30" in text
    assert "stages.rough.steps[1].current_a: got '0.2 nA' (str)" in text
    assert "lamella.width_m: missing required key" in text
    assert "stages.polish.speed: unknown key" in text and "alignment_attempts" in text


def test_cross_field_issues_are_keyed() -> None:
    data = _data("waffle")
    data["stages"]["trench"]["enabled"] = False
    data["stages"]["polish"]["steps"][0]["spacing_m"] = 1.0e-6  # thicker than rough's last
    data["lamella"]["target_thickness_m"] = 2.0e-6
    with pytest.raises(ProtocolError) as info:
        protocol_from_dict(data)
    text = str(info.value)
    assert "stages.trench.enabled: the waffle method needs the trench stage" in text
    assert "stages.polish.steps[0].spacing_m: got 1e-06 m; must be <=" in text
    assert "lamella.target_thickness_m" in text


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nmethod: [on-grid\nlamella: {}\n")
    with pytest.raises(ProtocolError, match=r"broken.yaml, line 3"):
        load_protocol(path)
    with pytest.raises(ProtocolError, match="cannot read"):
        load_protocol(tmp_path / "missing.yaml")
    path.write_text("- a list\n")
    with pytest.raises(ProtocolError, match="top level must be a mapping"):
        load_protocol(path)


def test_check_against_config() -> None:
    config = pytest.importorskip("fibsem_ophyd.config")
    microscope = config.MicroscopeConfig()
    default_protocol("on-grid").check_against(microscope)
    default_protocol("waffle").check_against(microscope)
    data = _data()
    data["stages"]["polish"]["steps"][0]["current_a"] = 55e-12
    data["stages"]["rough"]["hfw_m"] = 5e-3
    with pytest.raises(ProtocolError) as info:
        protocol_from_dict(data).check_against(microscope)
    text = str(info.value)
    assert "stages.polish.steps[0].current_a: 5.5e-11 A is not an available" in text
    assert "6e-11" in text  # the allowed list is named
    assert "stages.rough.hfw_m: 0.005 m out of range" in text
    # Disabled stages are not checked.
    data = _data()
    data["stages"]["trench"]["current_a"] = 1.234e-9
    protocol_from_dict(data).check_against(microscope)


@pytest.mark.parametrize("method", ["on-grid", "waffle"])
def test_milling_stages_fit_the_field(method: str) -> None:
    protocol = default_protocol(method)
    for name in STAGE_NAMES:
        for stage in milling_stages(protocol, name):
            assert isinstance(stage, MillingStage)
            stage.validate_in_field(aspect=1.5)
            assert stage.estimated_time_s() > 0


def test_rough_and_polish_stages_are_trenches_down_to_thickness() -> None:
    protocol = default_protocol()
    rough = milling_stages(protocol, "rough", x_m=2e-6, y_m=-1e-6)
    assert [s.name for s in rough] == ["rough-1", "rough-2"]
    assert [s.parameters.milling_current_a for s in rough] == pytest.approx([0.74e-9, 0.2e-9])
    (polish,) = milling_stages(protocol, "polish")
    trench = polish.patterns[0]
    assert isinstance(trench, TrenchPattern)
    assert trench.spacing_m == pytest.approx(0.3e-6)
    assert polish.parameters.milling_current_a == pytest.approx(60e-12)
    assert rough[0].patterns[0].x_m == pytest.approx(2e-6)
    assert rough[0].patterns[0].y_m == pytest.approx(-1e-6)
    assert rough[1].estimated_time_s() > 0 and rough[0].exclusions[0].name == "lamella"


def test_disabled_and_unknown_stages() -> None:
    protocol = default_protocol("on-grid")
    assert milling_stages(protocol, "trench") == []
    assert [s.name for s in milling_stages(protocol, "setup")] == ["fiducial", "stress-relief"]
    assert [s.name for s in milling_stages(default_protocol("waffle"), "trench")] == ["trench"]
    with pytest.raises(ValueError, match="stage_name: got 'lift'; allowed: trench"):
        milling_stages(protocol, "lift")
