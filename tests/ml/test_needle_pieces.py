"""A needle whose mask lost a stretch (dark needle over a dark trench) has its tip at the
end of the piece beyond the loss (ml/detection/needle_mask.py ``joined_needle``); needle
pixels off its line, wider than its end, too far past it or behind it are not joined."""

from __future__ import annotations

import numpy as np

from ml.classes import LAMELLA, MANIPULATOR
from ml.detection.mask_features import features_from_mask

H, W = 400, 640
PS = 50e-9
TIP = (420.0, 250.0)
DIRECTION = (-1.0, -0.2)  # from the tip back out of the image: enters at the left border


def _needle() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A tapered needle (rounded tip of 5 px, 8° half-angle as sim/needles.py) at TIP, its
    mask, and each pixel's distance behind the tip along the shaft and across it."""
    yy, xx = np.mgrid[:H, :W].astype(float)
    d = np.asarray(DIRECTION) / np.hypot(*DIRECTION)
    rel = np.stack([xx - TIP[0], yy - TIP[1]], -1)
    behind = rel @ d
    across = rel @ np.array([-d[1], d[0]])
    shaft = (behind >= 0) & (np.abs(across) <= 5.0 + 0.14 * behind)
    cap = (xx - TIP[0]) ** 2 + (yy - TIP[1]) ** 2 <= 25.0
    mask = np.zeros((H, W), np.uint8)
    mask[shaft | cap] = MANIPULATOR
    return mask, behind, across


def _tip(mask: np.ndarray) -> tuple[float, float]:
    kp = features_from_mask(mask, PS, ["NeedleTip"]).require("NeedleTip").keypoint
    return kp.x_px, kp.y_px


def _off(xy: tuple[float, float], to: tuple[float, float]) -> float:
    return float(np.hypot(xy[0] - to[0], xy[1] - to[1]))


def _short_end(behind: np.ndarray, lost_from: float) -> tuple[float, float]:
    """Where the shaft's centre line is ``lost_from`` px behind the tip."""
    d = np.asarray(DIRECTION) / np.hypot(*DIRECTION)
    return TIP[0] + lost_from * d[0], TIP[1] + lost_from * d[1]


def test_a_needle_with_a_stretch_lost_has_its_tip_past_the_loss():
    """Lost 60..200 px behind the tip: the tip is still found at the tip, not where the
    loss begins (200 px short)."""
    mask, behind, _ = _needle()
    mask[(behind > 60) & (behind < 200)] = 0
    assert _off(_tip(mask), TIP) < 2.0


def test_a_needle_cut_short_of_the_border_is_joined_from_its_wide_end():
    """The mask also stops 30 px short of the left border: no entry, so the line runs from
    the wide end to the narrow one; the piece past the loss is still joined."""
    mask, behind, _ = _needle()
    mask[(behind > 60) & (behind < 200)] = 0
    mask[:, :30] = 0
    assert _off(_tip(mask), TIP) < 2.0


def test_a_piece_off_the_needle_line_is_not_joined():
    """The same piece turned 30° about the loss's start (12° off the needle's line seen
    from where it enters) is other needle-class pixels: the tip is where the main piece
    ends."""
    mask, behind, _ = _needle()
    piece = (mask == MANIPULATOR) & (behind <= 60)
    mask[(behind < 200) & (mask == MANIPULATOR)] = 0
    rows, cols = np.nonzero(piece)
    pivot = np.array(_short_end(behind, 200.0))
    angle = np.deg2rad(30.0)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (np.stack([cols, rows], 1) - pivot) @ rot.T + pivot
    mc, mr = np.round(moved).astype(int).T
    keep = (mc >= 0) & (mc < W) & (mr >= 0) & (mr < H)
    mask[mr[keep], mc[keep]] = MANIPULATOR
    assert _off(_tip(mask), TIP) > 150.0  # at the main piece's end, 200 px short


def test_a_wider_piece_in_line_is_not_joined():
    """A block wider than the needle where it was lost (a needle only tapers towards its
    tip) beyond its end: not the needle's tip."""
    mask, behind, across = _needle()
    mask[behind < 200] = 0
    mask[(behind > 20) & (behind < 60) & (np.abs(across) < 60)] = MANIPULATOR
    assert _off(_tip(mask), TIP) > 150.0  # at the main piece's end, 200 px short


def test_a_piece_past_a_gap_longer_than_the_needle_in_view_is_not_joined():
    """The needle in view is cut back to its first 120 px from the border; the tip piece
    lies about 250 px past its end: too far to be the same needle."""
    mask, behind, _ = _needle()
    span = float(behind[mask == MANIPULATOR].max())
    mask[(behind > 40) & (behind < span - 120)] = 0
    assert _off(_tip(mask), TIP) > 200.0


def test_a_loss_near_the_border_leaves_the_tip_where_it_is():
    """Lost near the border instead: the larger piece is the tip's own (it touches no
    border; its narrow end is the tip) and the border piece lies behind it, not beyond."""
    mask, behind, _ = _needle()
    span = float(behind[mask == MANIPULATOR].max())
    mask[(behind > span - 80) & (behind < span - 40)] = 0
    assert _off(_tip(mask), TIP) < 2.0


def test_a_piece_beyond_another_object_is_not_joined():
    """The stretch lost 60..200 px behind the tip is a lamella in the mask (the needle
    ends at a lamella, and needle-class pixels lie beyond it): a needle does not pass
    through a lamella, so the piece beyond is not its tip."""
    mask, behind, across = _needle()
    mask[(behind > 60) & (behind < 200)] = 0
    mask[(behind > 80) & (behind < 180) & (np.abs(across) < 40)] = LAMELLA
    assert _off(_tip(mask), TIP) > 150.0


def test_a_blob_in_line_is_not_joined():
    """A round piece on the line past the end (as wide as it is long) is not a stretch of
    shaft: not joined."""
    mask, behind, across = _needle()
    mask[behind < 200] = 0
    mask[(np.hypot(behind - 120, across) < 12)] = MANIPULATOR
    assert _off(_tip(mask), TIP) > 150.0
