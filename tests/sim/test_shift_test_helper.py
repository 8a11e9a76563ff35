"""The shift helper itself: a known roll must be measured with the right sign."""

import numpy as np
from twin_helpers import content_shift, make_world


def test_content_shift_sign_convention() -> None:
    img = make_world().render("electron")
    moved = np.roll(img, (3, -5), axis=(0, 1))
    d_row, d_col = content_shift(img, moved)
    assert abs(d_row - 3) < 0.1 and abs(d_col + 5) < 0.1
