"""Stage moves shift image content exactly as docs/coordinates.md predicts."""

import numpy as np
import pytest
from twin_helpers import content_shift, set_pose

from fibsem_ophyd.sim import TwinWorld

D_M = 2e-6


def _shift_after(world: TwinWorld, beam: str, **move: float) -> tuple[float, float]:
    before = world.render(beam)
    c = world.commanded_pose
    set_pose(world, **{k: getattr(c, k) + v for k, v in move.items()})
    return content_shift(before, world.render(beam))


def test_x_move_shifts_sem_right_by_d_over_pixel(world: TwinWorld) -> None:
    ps = world.electron.hfw_m / world.electron.resolution_x_px
    d_row, d_col = _shift_after(world, "electron", x_m=D_M)
    assert d_col == pytest.approx(D_M / ps, abs=0.2)
    assert abs(d_row) < 0.2


@pytest.mark.parametrize("tilt_deg", [35.0, 20.0])
def test_y_move_shifts_sem_up_with_cos_tilt(world: TwinWorld, tilt_deg: float) -> None:
    # Rx(t)·(0, d, 0) = (0, d cos t, d sin t); the electron image "up" axis is chamber y.
    set_pose(world, t_deg=tilt_deg)
    ps = world.electron.hfw_m / world.electron.resolution_x_px
    d_row, d_col = _shift_after(world, "electron", y_m=D_M)
    assert d_row == pytest.approx(-D_M * np.cos(np.deg2rad(tilt_deg)) / ps, abs=0.2)
    assert abs(d_col) < 0.2


def test_y_move_in_ion_view(world: TwinWorld) -> None:
    # b = p·(0, cos 52°, sin 52°) -> Δb = d (cos t cos 52° + sin t sin 52°) = d cos(t - 52°).
    ps = world.ion.hfw_m / world.ion.resolution_x_px
    t = world.commanded_pose.t_deg
    d_row, d_col = _shift_after(world, "ion", y_m=D_M)
    assert d_row == pytest.approx(-D_M * np.cos(np.deg2rad(t - 52.0)) / ps, abs=0.2)
    assert abs(d_col) < 0.2


def test_x_move_in_ion_view(world: TwinWorld) -> None:
    ps = world.ion.hfw_m / world.ion.resolution_x_px
    d_row, d_col = _shift_after(world, "ion", x_m=D_M)
    assert d_col == pytest.approx(D_M / ps, abs=0.2)
    assert abs(d_row) < 0.2


def test_z_move_shifts_ion_but_not_sem_at_flat(world: TwinWorld) -> None:
    # Rx(35°)·(0, 0, dz) = (0, -dz sin 35°, dz cos 35°).
    dz = 3e-6
    t = np.deg2rad(world.commanded_pose.t_deg)
    ps = world.ion.hfw_m / world.ion.resolution_x_px
    ion_before, sem_before = world.render("ion"), world.render("electron")
    set_pose(world, z_m=world.commanded_pose.z_m + dz)
    d_row, _ = content_shift(ion_before, world.render("ion"))
    expected_b = dz * (-np.sin(t) * np.cos(np.deg2rad(52)) + np.cos(t) * np.sin(np.deg2rad(52)))
    assert d_row == pytest.approx(-expected_b / ps, abs=0.2)
    sem_row, _ = content_shift(sem_before, world.render("electron"))
    assert sem_row == pytest.approx(dz * np.sin(t) / ps, abs=0.2)
