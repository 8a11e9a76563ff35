"""check_* helpers and the fingerprint comparison."""

from __future__ import annotations

import pytest

from fibsem_ophyd.backend._types import StagePosition, SystemFingerprint
from fibsem_ophyd.config import MicroscopeConfig, compare_fingerprint, config_from_dict

CFG = MicroscopeConfig()


def test_check_current_exact_with_relative_tolerance() -> None:
    assert CFG.ion.check_current(0.74e-9 * (1 + 5e-4)) == 0.74e-9
    with pytest.raises(ValueError) as info:
        CFG.ion.check_current(0.74e-9 * (1 + 5e-3))
    msg = str(info.value)
    assert "ion.current_a" in msg and "currents_a (A)" in msg and "7.4e-10" in msg


def test_check_current_never_rounds() -> None:
    with pytest.raises(ValueError, match=r"ion\.current_a: 3e-09 A is not available"):
        CFG.ion.check_current(3e-9)


def test_check_hfw_names_range() -> None:
    assert CFG.electron.check_hfw(2.5e-3) == 2.5e-3
    with pytest.raises(ValueError) as info:
        CFG.ion.check_hfw(1e-3)
    assert "ion.hfw_m" in str(info.value) and "[1e-06, 0.0009] m" in str(info.value)


def test_other_checks() -> None:
    assert CFG.ion.check_voltage(16e3) == 16e3
    with pytest.raises(ValueError, match=r"ion\.voltage_v"):
        CFG.ion.check_voltage(12e3)
    assert CFG.electron.check_resolution((768, 512)) == (768, 512)
    with pytest.raises(ValueError, match=r"electron\.resolution_px"):
        CFG.electron.check_resolution((100, 100))
    with pytest.raises(ValueError, match=r"electron.dwell_time_s.*\[2.5e-08, 0.025\] s"):
        CFG.electron.check_dwell_time(1.0)
    with pytest.raises(ValueError, match=r"ion\.beam_shift_y_m"):
        CFG.ion.check_beam_shift(0.0, 1e-3)


def test_check_position_names_axis_and_range() -> None:
    ok = StagePosition(x_m=1e-3, t_deg=35.0)
    assert CFG.stage.check_position(ok) is ok
    with pytest.raises(ValueError) as info:
        CFG.stage.check_position(StagePosition(t_deg=70.0, z_m=-1e-3))
    msg = str(info.value)
    assert "stage.t_deg: 70 deg outside soft limits [-10, 60] deg" in msg
    assert "stage.z_m" in msg and "m" in msg


def _fingerprint(**kw: object) -> SystemFingerprint:
    base: dict[str, object] = {
        "manufacturer": "Demo",
        "model": "twin",
        "serial_number": "0",
        "software_version": "0",
        "subsystems": {
            k: True
            for k in (
                "stage",
                "electron",
                "ion",
                "manipulator",
                "gis",
                "sputter_coater",
                "cryo",
            )
        },
    }
    base.update(kw)
    return SystemFingerprint.model_validate(base)


def test_fingerprint_matches_defaults() -> None:
    assert compare_fingerprint(CFG, _fingerprint()) == []


def test_fingerprint_mismatches() -> None:
    fp = _fingerprint(
        manufacturer="Thermo",
        subsystems={"stage": True, "electron": True, "ion": True, "gis": False},
        ranges={"electron.hfw_m": (1e-6, 1e-3), "stage.t_deg": (-20.0, 70.0)},
    )
    problems = compare_fingerprint(CFG, fp)
    text = "\n".join(problems)
    assert "info.manufacturer" in text and "Thermo" in text
    assert any(p.startswith("gis:") and "disabled" in p for p in problems)
    assert any(p.startswith("manipulator:") and "lacks" in p for p in problems)
    assert any(p.startswith("electron.hfw_m") for p in problems)
    assert not any(p.startswith("stage.t_deg") for p in problems)  # within hardware range


def test_disabled_subsystem_is_not_a_mismatch() -> None:
    cfg = config_from_dict({"manipulator": {"enabled": False}})
    subs = dict(_fingerprint().subsystems)
    del subs["manipulator"]
    assert compare_fingerprint(cfg, _fingerprint(subsystems=subs)) == []
