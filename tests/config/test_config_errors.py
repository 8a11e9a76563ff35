"""Bad configurations give one ConfigError naming each dotted key, value and allowed range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fibsem_ophyd.config import ConfigError, config_from_dict, load_config


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    return str(info.value)


def test_unknown_manufacturer_lists_allowed() -> None:
    msg = _error({"info": {"manufacturer": "Zeiss"}})
    assert "info.manufacturer" in msg
    assert "'Zeiss'" in msg
    for allowed in ("Demo", "Thermo", "Tescan"):
        assert allowed in msg


def test_reversed_tilt_limits_name_the_axis() -> None:
    msg = _error({"stage": {"limits": {"t_deg": {"min": 60, "max": -10}}}})
    assert "stage.limits.t_deg" in msg
    assert "min (60)" in msg and "max (-10)" in msg
    assert "deg" in msg


@pytest.mark.parametrize("bad", ["fast", "1 nA", True])
def test_current_not_a_number_names_the_index(bad: Any) -> None:
    msg = _error({"ion": {"currents_a": [1e-12, 10e-12, 30e-12, bad]}})
    assert "ion.currents_a[3]" in msg
    assert "amperes (A)" in msg
    assert "expected a number" in msg


def test_missing_required_limit_key() -> None:
    msg = _error({"stage": {"limits": {"x_m": {"min": -1e-3}}}})
    assert "stage.limits.x_m.max" in msg
    assert "missing required key" in msg
    assert "metres (m)" in msg


def test_unknown_key_is_a_typo_error_listing_allowed_keys() -> None:
    msg = _error({"stage": {"pretilt_deg": 45}})
    assert "stage.pretilt_deg" in msg
    assert "unknown key" in msg
    assert "shuttle_pre_tilt_deg" in msg


def test_all_problems_in_one_message() -> None:
    msg = _error(
        {
            "info": {"manufacturer": "Zeiss", "ip_address": "not a host!"},
            "stage": {"limits": {"t_deg": {"min": 60, "max": -10}}},
            "ion": {"currents_a": [1e-12, "fast"]},
            "electron": {"hfw_min_m": -1.0},
        }
    )
    for key in (
        "info.manufacturer",
        "info.ip_address",
        "stage.limits.t_deg",
        "ion.currents_a[1]",
        "electron.hfw_min_m",
    ):
        assert key in msg
    assert "must be > 0" in msg
    assert "5 problem(s)" in msg
    assert "errors.pydantic.dev" not in msg  # no raw pydantic text


def test_default_current_must_be_available() -> None:
    msg = _error({"ion": {"imaging": {"current_a": 3e-9}}})
    assert "ion.imaging.current_a" in msg
    assert "7.4e-09" in msg  # the allowed list is shown
    assert "(A)" in msg


def test_default_hfw_must_be_in_range() -> None:
    msg = _error({"electron": {"imaging": {"hfw_m": 1.0}}})
    assert "electron.imaging.hfw_m" in msg
    assert "[1e-06, 0.0025] m" in msg


def test_default_resolution_must_be_available() -> None:
    msg = _error({"electron": {"imaging": {"resolution_px": [1000, 1000]}}})
    assert "electron.imaging.resolution_px" in msg
    assert "[1536, 1024]" in msg


def test_rotation_outside_limits() -> None:
    msg = _error({"stage": {"rotation_reference_deg": 400.0, "rotation_180_deg": 40.0}})
    assert "stage.rotation_reference_deg" in msg
    assert "limits.r_deg [0, 360] deg" in msg


@pytest.mark.parametrize("ip", ["192.168.0.1", "::1", "localhost", "sem-pc.lab.example.org"])
def test_valid_ip_or_hostname(ip: str) -> None:
    assert config_from_dict({"info": {"ip_address": ip}}).info.ip_address == ip


@pytest.mark.parametrize("ip", ["not a host!", "300.1.1.1", "-bad.host"])
def test_invalid_ip(ip: str) -> None:
    assert "info.ip_address" in _error({"info": {"ip_address": ip}})


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("info:\n  name: x\nstage:\n  limits: [1, 2\n  enabled: true\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert "broken.yaml" in msg
    assert "line 5" in msg


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(path)


def test_config_error_is_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_gis_default_gas_must_be_available() -> None:
    msg = _error({"gis": {"default_gas": "W"}})
    assert "gis.default_gas" in msg and "Pt" in msg


def test_manipulator_park_outside_limits() -> None:
    msg = _error({"manipulator": {"park_position": {"z_m": 1.0}}})
    assert "manipulator.park_position.z_m" in msg
