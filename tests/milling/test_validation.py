"""Invalid patterns are refused with a message naming the field; field-of-view checks."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from fibsem_ophyd.milling import (
    CirclePattern,
    PolygonPattern,
    RectanglePattern,
    TrenchPattern,
    load_patterns,
)
from fibsem_ophyd.milling.patterns import BitmapPattern, LinePattern


@pytest.mark.parametrize(
    ("cls", "kwargs", "field", "allowed"),
    [
        (RectanglePattern, {"width_m": -1e-6}, "width_m", "greater than 0"),
        (RectanglePattern, {"height_m": 0.0}, "height_m", "greater than 0"),
        (RectanglePattern, {"depth_m": 0.0}, "depth_m", "greater than 0"),
        (RectanglePattern, {"width_m": float("nan")}, "width_m", "finite"),
        (RectanglePattern, {"x_m": float("inf")}, "x_m", "finite"),
        (RectanglePattern, {"rotation_deg": 400.0}, "rotation_deg", "less than or equal to 360"),
        (RectanglePattern, {"rotation_deg": -361.0}, "rotation_deg", "-360"),
        (RectanglePattern, {"width_m": "10 um"}, "width_m", "valid number"),
        (RectanglePattern, {"scan_direction": "Diagonal"}, "scan_direction", "TopToBottom"),
        (CirclePattern, {"radius_m": -2e-6}, "radius_m", "greater than 0"),
        (CirclePattern, {"thickness_m": -1e-9}, "thickness_m", "greater than or equal to 0"),
        (CirclePattern, {"radius_m": 1e-6, "thickness_m": 2e-6}, "thickness_m", "radius_m"),
        (LinePattern, {"length_m": 0.0}, "length_m", "greater than 0"),
        (TrenchPattern, {"spacing_m": -0.3e-6}, "spacing_m", "greater than 0"),
        (TrenchPattern, {"trench_height_m": float("nan")}, "trench_height_m", "finite"),
        (BitmapPattern, {"bitmap": [[0.5, 2.0]]}, "bitmap", "less than or equal to 1"),
        (BitmapPattern, {"bitmap": [[0.5, 1.0], [1.0]]}, "bitmap", "equally long"),
        (BitmapPattern, {}, "bitmap", "exactly one"),
        (RectanglePattern, {"colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_invalid_pattern_names_field(cls, kwargs, field, allowed) -> None:
    with pytest.raises(ValidationError) as info:
        cls(**kwargs)
    text = str(info.value)
    assert field in text and allowed in text


def test_polygon_self_intersection_refused() -> None:
    bowtie = [(0, 0), (2e-6, 2e-6), (2e-6, 0), (0, 2e-6)]
    with pytest.raises(ValidationError, match=r"vertices_m.*edges 0 and 2 intersect"):
        PolygonPattern(vertices_m=bowtie)


@pytest.mark.parametrize(
    "vertices",
    [
        [(0, 0), (1e-6, 0)],  # too few
        [(0, 0), (1e-6, 0), (2e-6, 0)],  # collinear
        [(0, 0), (2e-6, 0), (1e-6, 0), (1e-6, 1e-6)],  # folds back on itself
    ],
)
def test_degenerate_polygon_refused(vertices) -> None:
    with pytest.raises(ValidationError, match="vertices_m"):
        PolygonPattern(vertices_m=vertices)


def test_concave_polygon_accepted() -> None:
    arrow = PolygonPattern(vertices_m=[(0, 0), (4e-6, 0), (2e-6, 1e-6), (4e-6, 2e-6), (0, 2e-6)])
    assert arrow.area_m2() == pytest.approx(8e-12 - 2e-12)


def test_validate_in_field() -> None:
    rect = RectanglePattern(x_m=10e-6, width_m=4e-6, height_m=2e-6, name="right cut")
    rect.validate_in_field(hfw_m=30e-6)  # 6..14 µm of ±15 µm: inside
    with pytest.raises(ValueError) as info:
        rect.validate_in_field(hfw_m=20e-6)
    text = str(info.value)
    assert "rectangle 'right cut'" in text and "hfw_m = 2e-05 m" in text
    assert "2e-06 m beyond the right edge" in text
    tall = RectanglePattern(height_m=12e-6)
    tall.validate_in_field(hfw_m=18e-6, aspect=1.5)  # vertical field 12 µm: just fits
    with pytest.raises(ValueError, match="beyond the top edge"):
        tall.validate_in_field(hfw_m=15e-6, aspect=1.5)


def test_pattern_list_loads_from_yaml() -> None:
    text = """
    - {kind: rectangle, width_m: 2.0e-6, height_m: 1.0e-6, rotation_deg: 10.0}
    - {kind: trench, spacing_m: 0.5e-6}
    - {kind: array, base: {kind: circle, radius_m: 1.0e-6}, n_columns: 3, pitch_x_m: 3.0e-6}
    """
    patterns = load_patterns(yaml.safe_load(text))
    assert [p.kind for p in patterns] == ["rectangle", "trench", "array"]
    with pytest.raises(ValidationError, match="kind"):
        load_patterns([{"kind": "hexagon"}])
