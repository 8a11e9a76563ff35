"""The one range/choice check (`fibsem_ophyd.ranges`), used by every device setting,
axis and plan that takes a bounded value."""

from __future__ import annotations

import math

import pytest

from fibsem_ophyd.devices.axis import check_axis_target
from fibsem_ophyd.devices.limits import AxisLimits
from fibsem_ophyd.ranges import check_choice, check_range, in_choices, in_range
from fibsem_ophyd.values import WrongTypeError


def test_bounds_are_inclusive_unless_open() -> None:
    assert in_range("a.x_m", 1, 1.0, 2.0, "m") == 1.0
    assert in_range("a.x_m", 2.0, 1.0, 2.0, "m") == 2.0
    with pytest.raises(ValueError, match=r"a\.t_s=0 s is outside the allowed range \(0, 5\] s"):
        in_range("a.t_s", 0, 0.0, 5.0, "s", lo_open=True)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_refused_by_name(bad: float) -> None:
    with pytest.raises(ValueError, match=r"a\.x_m=.* m is not a finite number"):
        in_range("a.x_m", bad, -1.0, 1.0, "m")


def test_strings_and_bools_are_refused_by_the_type_rule() -> None:
    for bad in ("1.0", True):
        with pytest.raises(WrongTypeError, match=r"a\.x_m"):
            in_range("a.x_m", bad, -1.0, 1.0, "m")


def test_message_names_field_range_unit_and_configuration_key() -> None:
    check = check_range("gis.duration_s", 0.0, 600.0, "s", lo_open=True, config_key="gis.max")
    with pytest.raises(ValueError) as info:
        check(601.0)
    assert str(info.value) == (
        "gis.duration_s=601.0 s is outside the allowed range (0, 600] s (gis.max in the "
        "configuration)"
    )


def test_dimensionless_message_has_no_stray_spaces() -> None:
    with pytest.raises(ValueError) as info:
        in_range("ion.detector_contrast", 1.5, 0.0, 1.0)
    assert str(info.value) == "ion.detector_contrast=1.5 is outside the allowed range [0, 1]"


def test_choices_accept_numbers_within_tolerance_and_name_the_list() -> None:
    assert in_choices("ion.current_a", 1.0005e-9, [1e-9, 3e-9], "A") == 1.0005e-9
    with pytest.raises(ValueError, match=r"ion\.current_a=2e-09 A is not available; allowed: "):
        in_choices("ion.current_a", 2e-9, [1e-9, 3e-9], "A")
    with pytest.raises(ValueError, match=r"gis\.gas='Au' is not available; allowed: \[Pt, W\]$"):
        check_choice("gis.gas", ["Pt", "W"])("Au")


def test_axis_targets_use_the_same_check_with_soft_limits() -> None:
    limits = AxisLimits(minimum=-1e-3, maximum=1e-3, unit="m")
    check_axis_target("stage.x_m", 5e-4, limits)
    with pytest.raises(ValueError, match=r"stage\.x_m=0.002 m is outside the soft limits"):
        check_axis_target("stage.x_m", 2e-3, limits)
    with pytest.raises(ValueError, match="not a finite number"):
        check_axis_target("stage.x_m", math.nan, limits)
