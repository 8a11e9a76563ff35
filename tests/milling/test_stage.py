"""Milling parameters (currents, rates, time estimates) and stages (exclusions, field)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fibsem_ophyd.milling import (
    APPLICATION_FILES,
    CrossSection,
    Exclusion,
    FiducialPattern,
    MillingParameters,
    MillingStage,
    RectanglePattern,
    ScanDirection,
    TrenchPattern,
)

config = pytest.importorskip("fibsem_ophyd.config")


def test_current_not_in_list_refused_naming_allowed() -> None:
    ion = config.MicroscopeConfig().ion
    MillingParameters(milling_current_a=0.74e-9).check_against(ion)
    with pytest.raises(ValueError) as info:
        MillingParameters(milling_current_a=0.75e-9, milling_voltage_v=20e3).check_against(ion)
    text = str(info.value)
    assert "milling_current_a: 7.5e-10 A is not available" in text
    assert "7.4e-10" in text and "6e-11" in text  # allowed values listed
    assert "milling_voltage_v: 2e+04 V" in text and "3e+04" in text


def test_hfw_out_of_range_refused() -> None:
    ion = config.MicroscopeConfig().ion
    with pytest.raises(ValueError, match=r"hfw_m: 0.005 m out of range; allowed"):
        MillingParameters(hfw_m=5e-3).check_against(ion)


def test_unknown_application_file_refused() -> None:
    with pytest.raises(ValidationError, match=r"application_file.*allowed: Si, Si-ccs"):
        MillingParameters(application_file="Gold")


def test_estimated_time_formula_and_scaling() -> None:
    rect = RectanglePattern(width_m=10e-6, height_m=5e-6, depth_m=1e-6)
    p = MillingParameters(milling_current_a=1e-9, application_file="Si")
    # 50 µm³ at 0.27 µm³/nC and 1 nA: 50 / 0.27 s.
    assert p.estimated_time_s([rect]) == pytest.approx(50 / 0.27)
    faster = p.model_copy(update={"milling_current_a": 2e-9})
    assert faster.estimated_time_s([rect]) == pytest.approx(p.estimated_time_s([rect]) / 2)
    deeper = rect.model_copy(update={"depth_m": 3e-6})
    assert p.estimated_time_s([deeper]) == pytest.approx(3 * p.estimated_time_s([rect]))
    cryo = p.model_copy(update={"application_file": "Si-cryo"})
    assert cryo.estimated_time_s([rect]) < p.estimated_time_s([rect])
    override = MillingParameters(milling_current_a=1e-9, rate_m3_per_a_s=1e-9)
    assert override.estimated_time_s([rect]) == pytest.approx(50.0)


def test_application_registry_units() -> None:
    assert APPLICATION_FILES["Si"].rate_m3_per_a_s == pytest.approx(0.27e-9)


def test_stage_estimated_time_sums_patterns() -> None:
    t = TrenchPattern(width_m=10e-6, trench_height_m=5e-6, spacing_m=1e-6, depth_m=1e-6)
    stage = MillingStage(patterns=[t, t.moved(0, 0)], parameters={"milling_current_a": 1e-9})
    assert stage.estimated_time_s() == pytest.approx(2 * 100 / 0.27)


def test_exclusion_overlap_refused_naming_both() -> None:
    trench = TrenchPattern(spacing_m=0.3e-6, name="polish")
    lamella = Exclusion(name="lamella", width_m=10e-6, height_m=0.3e-6)
    MillingStage(patterns=[trench], exclusions=[lamella])  # touching is fine
    thicker = lamella.model_copy(update={"height_m": 0.4e-6})
    with pytest.raises(ValidationError) as info:
        MillingStage(name="polish-1", patterns=[trench], exclusions=[thicker])
    text = str(info.value)
    assert "patterns[0] (trench 'polish')" in text and "exclusion 'lamella'" in text


def test_exclusion_overlap_rotated_pattern() -> None:
    fid = FiducialPattern(x_m=8e-6, length_m=10e-6, rotation_deg=45)
    clear = Exclusion(name="lamella", width_m=10e-6, height_m=10e-6)  # x ≤ 5 µm
    MillingStage(patterns=[fid.moved(2e-6, 0)], exclusions=[clear])
    with pytest.raises(ValidationError, match="exclusion 'lamella'"):
        MillingStage(patterns=[fid], exclusions=[clear])


def test_stage_field_of_view() -> None:
    stage = MillingStage(
        name="rough", patterns=[TrenchPattern(trench_height_m=10e-6)], parameters={"hfw_m": 30e-6}
    )
    with pytest.raises(ValueError, match=r"stage 'rough': patterns\[0\]: pattern trench"):
        stage.validate_in_field(aspect=1.5)
    stage.model_copy(update={"parameters": MillingParameters(hfw_m=80e-6)}).validate_in_field()


def test_resolved_shapes_take_parameters_defaults() -> None:
    stage = MillingStage(
        patterns=[RectanglePattern(), TrenchPattern(cleaning_cross_section=True)],
        parameters={"scan_direction": "LeftToRight", "cross_section": "RegularCrossSection"},
    )
    rect, upper, lower = stage.resolved_shapes()
    assert rect.scan_direction == ScanDirection.LEFT_TO_RIGHT
    assert rect.cross_section == CrossSection.REGULAR
    assert upper.cross_section == CrossSection.CLEANING
    assert lower.scan_direction == ScanDirection.BOTTOM_TO_TOP


def test_parameters_validation_names_field() -> None:
    with pytest.raises(ValidationError, match="passes"):
        MillingParameters(passes=0)
    with pytest.raises(ValidationError, match="milling_current_a"):
        MillingParameters(milling_current_a=-1e-9)
    with pytest.raises(ValidationError, match="patterning_mode"):
        MillingParameters(patterning_mode="Diagonal")
