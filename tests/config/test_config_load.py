"""Loading, defaults and round trips of the microscope configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fibsem_ophyd.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    MicroscopeConfig,
    config_from_dict,
    config_to_yaml,
    load_config,
    parse_yaml,
)


def test_defaults_load_and_describe_a_cryo_fibsem() -> None:
    cfg = load_config()
    assert cfg.info.manufacturer == "Demo"
    assert cfg.ion.column_tilt_deg == 52.0
    assert cfg.electron.column_tilt_deg == 0.0
    assert cfg.stage.shuttle_pre_tilt_deg == 35.0
    assert cfg.stage.rotation_180_deg == 180.0
    assert cfg.electron.eucentric_height_m == 4.0e-3
    assert cfg.ion.eucentric_height_m == 16.5e-3
    for needed in (1e-12, 10e-12, 30e-12, 60e-12, 0.74e-9, 7.4e-9, 15e-9):
        assert cfg.ion.check_current(needed) == pytest.approx(needed)
    for res in ([768, 512], [1536, 1024], [3072, 2048]):
        assert tuple(res) in cfg.ion.resolutions_px
    assert cfg.fluorescence.enabled is False


def test_default_yaml_equals_model_defaults() -> None:
    # Every key is present in the shipped file, with the model's default value.
    shipped = parse_yaml(DEFAULT_CONFIG_PATH.read_text())
    assert shipped == MicroscopeConfig().model_dump(mode="json")
    assert load_config(DEFAULT_CONFIG_PATH) == MicroscopeConfig()


def test_yaml_round_trip(tmp_path: Path) -> None:
    cfg = config_from_dict({"info": {"name": "lab", "ip_address": "10.0.0.7"}})
    path = tmp_path / "m.yaml"
    path.write_text(config_to_yaml(cfg))
    assert load_config(path) == cfg


def test_partial_beam_section_merges_over_beam_defaults() -> None:
    cfg = config_from_dict({"ion": {"imaging": {"hfw_m": 80e-6}}, "electron": {"enabled": False}})
    assert cfg.ion.imaging.hfw_m == 80e-6
    assert cfg.ion.imaging.voltage_v == 30e3  # the rest keeps the ion defaults
    assert cfg.ion.column_tilt_deg == 52.0
    assert cfg.electron.enabled is False
    assert cfg.electron.imaging.current_a == 25e-12


def test_rotation_180_defaults_to_reference_plus_180() -> None:
    cfg = config_from_dict({"stage": {"rotation_reference_deg": 270.0}})
    assert cfg.stage.rotation_180_deg == 90.0


def test_plain_exponent_numbers_are_numbers(tmp_path: Path) -> None:
    # PyYAML alone would read `1e-9` as a string; our loader reads it as a float.
    path = tmp_path / "m.yaml"
    path.write_text("ion:\n  currents_a: [1e-12, 1e-9]\n  imaging: {current_a: 1e-12}\n")
    assert load_config(path).ion.currents_a == [1e-12, 1e-9]


def test_advanced_holds_settings_per_manufacturer() -> None:
    # Free-form for each backend (the backend checks them); only the connected one's
    # settings are handed on.
    cfg = config_from_dict({"advanced": {"Thermo": {"beam_blank_delay_s": 0.1, "x": [1]}}})
    assert cfg.advanced["Thermo"]["x"] == [1]
    assert cfg.backend_settings() == {}  # info.manufacturer is Demo
    cfg = config_from_dict({"info": {"manufacturer": "Thermo"}, "advanced": cfg.advanced})
    assert cfg.backend_settings() == {"beam_blank_delay_s": 0.1, "x": [1]}


def test_advanced_keys_are_manufacturers() -> None:
    with pytest.raises(ConfigError, match=r"advanced\.thermo: not a manufacturer.*'Thermo'"):
        config_from_dict({"advanced": {"thermo": {"x": 1}}})


def test_config_is_immutable() -> None:
    cfg = MicroscopeConfig()
    with pytest.raises(ValueError):
        cfg.info.name = "x"  # type: ignore[misc]


def test_beam_accessor() -> None:
    cfg = MicroscopeConfig()
    assert cfg.beam("ion") is cfg.ion
    assert cfg.beam("electron") is cfg.electron
    with pytest.raises(ValueError, match=r"electron"):
        cfg.beam("xray")  # type: ignore[arg-type]


def test_missing_file_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing\n")
    assert load_config(path) == MicroscopeConfig()


def test_to_yaml_is_plain_yaml() -> None:
    assert yaml.safe_load(config_to_yaml(MicroscopeConfig()))["ion"]["column_tilt_deg"] == 52.0
