"""Pattern geometry: masks, areas, bounding boxes, composite patterns."""

from __future__ import annotations

import numpy as np
import pytest

from fibsem_ophyd.milling import (
    ArrayPattern,
    BitmapPattern,
    CirclePattern,
    FiducialPattern,
    LinePattern,
    MicroExpansionPattern,
    NotchPattern,
    PolygonPattern,
    RectanglePattern,
    TrenchPattern,
    UndercutPattern,
)

SHAPE = (1024, 1536)  # rows, cols
PS = 10e-9  # 10 nm pixels: a 15.36 × 10.24 µm field


def _gap_rows(mask: np.ndarray, col: int) -> int:
    """Unmilled rows between the first and last milled row of one column."""
    milled = np.flatnonzero(mask[:, col])
    return int((~mask[milled[0] : milled[-1] + 1, col]).sum())


@pytest.mark.parametrize("spacing_m", [0.3e-6, 0.8e-6, 1.6e-6])
def test_trench_leaves_exactly_spacing(spacing_m: float) -> None:
    trench = TrenchPattern(width_m=10e-6, trench_height_m=2e-6, spacing_m=spacing_m)
    mask = trench.mask(SHAPE, PS)
    assert _gap_rows(mask, SHAPE[1] // 2) == round(spacing_m / PS)
    # Each trench is exactly trench_height_m tall and width_m wide.
    assert mask[:, SHAPE[1] // 2].sum() == 2 * round(2e-6 / PS)
    assert mask[SHAPE[0] // 2 - round((spacing_m / 2 + 1e-6) / PS)].sum() == round(10e-6 / PS)


def test_trench_shapes_face_the_lamella() -> None:
    upper, lower = TrenchPattern(spacing_m=1e-6, trench_height_m=3e-6).shapes()
    assert upper.y_m == pytest.approx(2e-6) and lower.y_m == pytest.approx(-2e-6)
    assert upper.scan_direction == "TopToBottom" and lower.scan_direction == "BottomToTop"
    assert upper.bounding_box().min_y_m - lower.bounding_box().max_y_m == pytest.approx(1e-6)


@pytest.mark.parametrize("rotation_deg", [0.0, 17.0, 30.0, 45.0, 90.0, -123.0])
def test_rectangle_mask_area(rotation_deg: float) -> None:
    rect = RectanglePattern(width_m=8e-6, height_m=3e-6, rotation_deg=rotation_deg)
    mask = rect.mask(SHAPE, PS)
    assert mask.dtype == bool and mask.shape == SHAPE
    expected = rect.area_m2() / PS**2
    assert mask.sum() == pytest.approx(expected, rel=0.01)


def test_mask_follows_image_conventions() -> None:
    # A small square up and to the right lands in the upper-right quadrant (row down).
    mask = RectanglePattern(x_m=3e-6, y_m=2e-6, width_m=1e-6, height_m=1e-6).mask(SHAPE, PS)
    rows, cols = np.nonzero(mask)
    assert cols.mean() == pytest.approx((SHAPE[1] - 1) / 2 + 300, abs=0.6)
    assert rows.mean() == pytest.approx((SHAPE[0] - 1) / 2 - 200, abs=0.6)


def test_circle_and_annulus_area() -> None:
    disc = CirclePattern(radius_m=3e-6)
    ring = CirclePattern(radius_m=3e-6, thickness_m=1e-6)
    assert disc.mask(SHAPE, PS).sum() == pytest.approx(disc.area_m2() / PS**2, rel=0.01)
    assert ring.mask(SHAPE, PS).sum() == pytest.approx(ring.area_m2() / PS**2, rel=0.01)
    assert not ring.mask(SHAPE, PS)[SHAPE[0] // 2, SHAPE[1] // 2]


def test_polygon_mask_and_box() -> None:
    tri = PolygonPattern(x_m=1e-6, vertices_m=[(0, 0), (4e-6, 0), (0, 3e-6)])
    assert tri.area_m2() == pytest.approx(6e-12)
    assert tri.mask(SHAPE, PS).sum() == pytest.approx(6e-12 / PS**2, rel=0.01)
    assert tri.bounding_box() == pytest.approx((1e-6, 0.0, 5e-6, 3e-6))


def test_line_endpoints_and_mask() -> None:
    line = LinePattern.from_points((-2e-6, -1e-6), (2e-6, 2e-6), depth_m=0.5e-6, width_m=0.1e-6)
    assert line.start_m == pytest.approx((-2e-6, -1e-6))
    assert line.end_m == pytest.approx((2e-6, 2e-6))
    assert line.length_m == pytest.approx(5e-6)
    assert line.mask(SHAPE, PS).sum() == pytest.approx(5e-6 * 0.1e-6 / PS**2, rel=0.05)


def test_bounding_boxes() -> None:
    assert RectanglePattern(x_m=1e-6, width_m=4e-6, height_m=2e-6).bounding_box() == (
        pytest.approx((-1e-6, -1e-6, 3e-6, 1e-6))
    )
    box = RectanglePattern(width_m=2e-6, height_m=2e-6, rotation_deg=45).bounding_box()
    assert box.width_m == pytest.approx(2 * np.sqrt(2) * 1e-6)
    trench = TrenchPattern(width_m=10e-6, trench_height_m=5e-6, spacing_m=1e-6)
    assert trench.bounding_box() == pytest.approx((-5e-6, -5.5e-6, 5e-6, 5.5e-6))


def test_array_replicates() -> None:
    base = CirclePattern(radius_m=0.5e-6)
    arr = ArrayPattern(base=base, n_columns=4, n_rows=3, pitch_x_m=2e-6, pitch_y_m=3e-6)
    assert len(arr.shapes()) == 12
    assert arr.area_m2() == pytest.approx(12 * base.area_m2())
    assert arr.bounding_box() == pytest.approx((-3.5e-6, -3.5e-6, 3.5e-6, 3.5e-6))
    mask = arr.mask(SHAPE, PS)
    assert mask.sum() == pytest.approx(12 * base.mask(SHAPE, PS).sum(), rel=0.01)
    # Centres of the copies are milled, the middle between columns is not.
    assert mask[SHAPE[0] // 2 - 300, SHAPE[1] // 2 - 100]  # copy at (-1, +3) µm
    assert not mask[SHAPE[0] // 2, SHAPE[1] // 2]


def test_array_loads_from_mapping() -> None:
    arr = ArrayPattern.model_validate(
        {"base": {"kind": "rectangle", "width_m": 1e-6, "height_m": 1e-6}, "n_columns": 2}
    )
    assert isinstance(arr.base, RectanglePattern)


def test_microexpansion_cuts_beside_the_lamella() -> None:
    me = MicroExpansionPattern(lamella_width_m=10e-6, width_m=0.5e-6, distance_m=1e-6)
    left, right = sorted(me.shapes(), key=lambda s: s.x_m)
    assert right.bounding_box().min_x_m == pytest.approx(6e-6)
    assert left.bounding_box().max_x_m == pytest.approx(-6e-6)


def test_notch_and_flip_mirror() -> None:
    notch, flipped = NotchPattern(), NotchPattern(flip=True)
    a, b = notch.bounding_box(), flipped.bounding_box()
    assert a.min_x_m == pytest.approx(-b.max_x_m) and a.max_x_m == pytest.approx(-b.min_x_m)
    gap = notch.mask(SHAPE, PS)[:, SHAPE[1] // 2]
    assert _gap_rows(gap[:, None], 0) == round(notch.distance_m / PS)


def test_undercut_below_lamella_and_fiducial_cross() -> None:
    cut = UndercutPattern(offset_m=5e-6, height_m=2e-6)
    assert cut.bounding_box().max_y_m == pytest.approx(-4e-6)
    cross = FiducialPattern(rotation_deg=0, length_m=6e-6, width_m=1e-6)
    assert len(cross.shapes()) == 2
    assert cross.bounding_box() == pytest.approx((-3e-6, -3e-6, 3e-6, 3e-6))
    assert len(FiducialPattern(shape="bar").shapes()) == 1


def test_bitmap_dose_values() -> None:
    bmp = BitmapPattern(bitmap=[[1.0, 0.5], [0.0, 1.0]], width_m=4e-6, height_m=4e-6)
    dose = bmp.dose(SHAPE, PS)
    cy, cx = SHAPE[0] // 2, SHAPE[1] // 2
    assert dose[cy - 100, cx - 100] == pytest.approx(1.0)  # top-left
    assert dose[cy - 100, cx + 100] == pytest.approx(0.5)  # top-right
    assert dose[cy + 100, cx - 100] == 0.0  # bottom-left
    assert bmp.area_m2() == pytest.approx(16e-12 * 2.5 / 4)


def test_bitmap_from_png(tmp_path) -> None:
    cv2 = pytest.importorskip("cv2")
    img = np.zeros((4, 4), np.uint8)
    img[:2] = 255
    path = tmp_path / "b.png"
    cv2.imwrite(str(path), img)
    bmp = BitmapPattern(path=str(path))
    assert bmp.array[0, 0] == 1.0 and bmp.array[3, 0] == 0.0


def test_rotated_bitmap_follows_rotation() -> None:
    bmp = BitmapPattern(
        bitmap=[[1.0, 0.5], [0.0, 1.0]], width_m=4e-6, height_m=2e-6, rotation_deg=90
    )
    dose = bmp.dose(SHAPE, PS)
    cy, cx = SHAPE[0] // 2, SHAPE[1] // 2
    # Rotated 90° counter-clockwise: the bitmap's right half now points up.
    assert dose[cy - 150, cx + 50] == pytest.approx(1.0)  # bottom-right cell
    assert dose[cy - 150, cx - 50] == pytest.approx(0.5)  # top-right cell
    assert dose[cy + 150, cx - 50] == pytest.approx(1.0)  # top-left cell
    assert dose[cy + 150, cx + 50] == 0.0  # bottom-left cell
    assert dose.sum() == pytest.approx(bmp.area_m2() / PS**2, rel=0.01)
