"""Keys that must agree with each other (defaults within limits, the cooled temperature
within the allowed setpoints), and the identity part of the fingerprint check."""

from __future__ import annotations

import pytest

from fibsem_ophyd.backend import SystemFingerprint
from fibsem_ophyd.config import (
    ConfigError,
    FingerprintMismatchError,
    check_fingerprint,
    compare_identity,
    config_from_dict,
)


@pytest.mark.parametrize(("data", "match"), [
    ({"chamber": {"cryo_temperature_k": 70.0}}, r"chamber\.cryo_temperature_k.*\[80, 293\] K"),
    ({"chamber": {"cryo_target_range_k": {"min": 0.0, "max": 300.0}}},
     r"chamber\.cryo_target_range_k\.min.*> 0 K"),
    ({"chamber": {"max_cryo_rate_k_per_min": 0.0}},
     r"chamber\.max_cryo_rate_k_per_min.*kelvin per minute"),
    ({"gis": {"deposition_time_s": 700.0}}, r"gis\.deposition_time_s.*max_open_time_s"),
    ({"gis": {"gases": ["Pt", "Pt"]}}, r"gis\.gases.*once"),
    ({"sputter_coater": {"default_current_a": 0.2}},
     r"sputter_coater\.default_current_a.*max_current_a"),
    ({"sputter_coater": {"max_time_s": 10.0}}, r"sputter_coater\.default_time_s.*max_time_s"),
    ({"fluorescence": {"exposure_range_s": {"min": 0.0, "max": 1.0}}},
     r"fluorescence\.exposure_range_s\.min"),
    ({"info": {"expected_fingerprint": {"serial": "1"}}},
     r"info\.expected_fingerprint\.serial: unknown key"),
])  # fmt: skip
def test_inconsistent_keys_are_refused(data, match) -> None:
    with pytest.raises(ConfigError, match=match):
        config_from_dict(data)


SUBSYSTEMS = ("stage", "electron", "ion", "manipulator", "gis", "sputter_coater", "cryo")


def _fingerprint(**kw: str) -> SystemFingerprint:
    base = {"manufacturer": "Demo", "model": "Aquilos 2", "serial_number": "1234",
            "software_version": "4.8", "subsystems": dict.fromkeys(SUBSYSTEMS, True)}  # fmt: skip
    return SystemFingerprint.model_validate({**base, **kw})


def test_identity_checks_only_what_is_given() -> None:
    assert compare_identity(config_from_dict({}), _fingerprint()) == []
    cfg = config_from_dict({"info": {"expected_fingerprint": {"serial_number": "1234"}}})
    assert compare_identity(cfg, _fingerprint(model="other", software_version="9")) == []
    assert compare_identity(cfg, _fingerprint(serial_number="999")) == [
        "info.expected_fingerprint.serial_number: configuration expects '1234', "
        "the microscope reports '999'"
    ]


def test_check_fingerprint_refuses_or_records_the_decision() -> None:
    expected = {"model": "Aquilos 2", "software_version": "4.9"}
    cfg = config_from_dict({"info": {"name": "fib-1", "expected_fingerprint": expected}})
    with pytest.raises(FingerprintMismatchError) as info:
        check_fingerprint(cfg, _fingerprint())
    msg = str(info.value)
    assert "'fib-1'" in msg and "software_version" in msg and "'4.9'" in msg and "'4.8'" in msg
    assert "accept_fingerprint_mismatch=True" in msg
    decision = check_fingerprint(cfg, _fingerprint(), accept_mismatch=True)
    assert decision["status"] == "mismatch accepted"
    assert decision["expected"] == expected
    assert len(decision["differences"]) == 1
    ok = check_fingerprint(cfg, _fingerprint(software_version="4.9"))
    assert ok == {"status": "matched", "differences": [], "expected": expected}
