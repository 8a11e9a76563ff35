"""A needle whose end touches a copper adaptor is attached to it: its tip is hidden
behind it and not found (ml/detection/needle_mask.py ``hidden_by_adaptor``). A speck of
the adaptor class is no adaptor; contact is judged at the region's outermost point, so a
wide shaft cut by the adaptor (a zoomed-in view) is hidden too."""

from __future__ import annotations

import numpy as np

from ml.classes import COPPER_ADAPTOR, LAMELLA, MANIPULATOR
from ml.detection.mask_features import FoundFeature, NotFound, features_from_mask
from ml.detection.needle_mask import ADAPTOR_MIN_AREA_M2

from .test_mask_features import _tapered_needle


def test_a_needle_ending_at_the_copper_adaptor_has_its_tip_hidden():
    """A needle attached to an adaptor ends behind it: the end of its region is the
    adaptor's edge, not its tip — not found, with the reason. The same needle ending
    beside a lamella (welded to it, its tip in view) is found."""
    ps = 150e-9  # the 30 x 24 px adaptor is 4.5 x 3.6 um: one of the smaller real ones
    mask = _tapered_needle((80.0, 50.0), (1.0, -0.6), r_tip=4.0)
    mask[45:75, 50:74] = COPPER_ADAPTOR  # 2 px short of the end of the needle
    f = features_from_mask(mask, ps, ["NeedleTip", "CopperAdapterCentre"])
    tip = f["NeedleTip"]
    assert isinstance(tip, NotFound) and "copper adaptor" in tip.reason
    assert isinstance(f["CopperAdapterCentre"], FoundFeature)
    mask[mask == COPPER_ADAPTOR] = LAMELLA
    kp = features_from_mask(mask, ps, ["NeedleTip"]).require("NeedleTip").keypoint
    assert np.hypot(kp.x_px - 80.0, kp.y_px - 50.0) < 1.5
    far = _tapered_needle((80.0, 50.0), (1.0, -0.6), r_tip=4.0)
    far[85:99, 10:40] = COPPER_ADAPTOR  # an adaptor elsewhere in the image
    assert isinstance(features_from_mask(far, ps, ["NeedleTip"])["NeedleTip"], FoundFeature)


def test_a_speck_of_adaptor_class_at_the_needle_end_hides_no_tip():
    """The model leaves specks of the adaptor class on a needle's end; a speck is no
    adaptor (under ADAPTOR_MIN_AREA_M2): the tip is found where it is. What counts is
    the area in square metres, not in pixels: the same 30 x 24 px region hides the tip
    at 150 nm per pixel (16 um^2) and not at 60 nm (2.6 um^2)."""
    speck = _tapered_needle((80.0, 50.0), (1.0, -0.6), r_tip=4.0)
    speck[52:58, 74:79] = COPPER_ADAPTOR  # 30 px: 0.7 um^2 at 150 nm per pixel
    kp = features_from_mask(speck, 150e-9, ["NeedleTip"]).require("NeedleTip").keypoint
    assert np.hypot(kp.x_px - 80.0, kp.y_px - 50.0) < 1.5
    region = _tapered_needle((80.0, 50.0), (1.0, -0.6), r_tip=4.0)
    region[45:75, 50:74] = COPPER_ADAPTOR
    assert ADAPTOR_MIN_AREA_M2 / 150e-9**2 < 720 < ADAPTOR_MIN_AREA_M2 / 60e-9**2
    assert isinstance(features_from_mask(region, 150e-9, ["NeedleTip"])["NeedleTip"], NotFound)
    kp = features_from_mask(region, 60e-9, ["NeedleTip"]).require("NeedleTip").keypoint
    assert np.hypot(kp.x_px - 80.0, kp.y_px - 50.0) < 1.5


def test_a_wide_shaft_cut_by_an_adaptor_is_hidden():
    """Zoomed in, the shaft is 80 px wide where the adaptor cuts it: the tip taken inside
    that flat end lies about 40 px from the adaptor, beyond the reach around it; from the
    region's outermost point the contact is seen and the tip is hidden."""
    h, w = 300, 400
    yy, xx = np.mgrid[:h, :w].astype(float)
    mask = np.zeros((h, w), np.uint8)
    shaft = (xx >= 200) & (np.abs(yy - 150.0) <= 40.0 + 0.14 * (xx - 200.0))
    mask[shaft] = MANIPULATOR
    mask[60:240, 80:200] = COPPER_ADAPTOR  # 120 x 180 px: 54 um^2 at 50 nm per pixel
    found = features_from_mask(mask, 50e-9, ["NeedleTip", "CopperAdapterCentre"])
    assert isinstance(found["NeedleTip"], NotFound)
    assert "copper adaptor" in found["NeedleTip"].reason
    mask[mask == COPPER_ADAPTOR] = 0  # the same flat end with nothing at it: found
    assert isinstance(features_from_mask(mask, 50e-9, ["NeedleTip"])["NeedleTip"], FoundFeature)


def test_a_needle_whose_mask_stops_short_of_its_adaptor_is_hidden():
    """The model lost the needle's last 20 px before the adaptor (a gap, no contact): an
    adaptor this near the needle's end still holds it, and the tip is hidden; 60 px
    away it does not."""
    h, w = 300, 400
    yy, xx = np.mgrid[:h, :w].astype(float)
    for gap_px, hidden in ((20, True), (60, False)):
        mask = np.zeros((h, w), np.uint8)
        mask[(xx >= 200 + gap_px) & (np.abs(yy - 150.0) <= 6.0 + 0.14 * (xx - 200.0))] = MANIPULATOR
        mask[60:240, 80:200] = COPPER_ADAPTOR
        tip = features_from_mask(mask, 50e-9, ["NeedleTip"])["NeedleTip"]
        assert isinstance(tip, NotFound) is hidden, gap_px
