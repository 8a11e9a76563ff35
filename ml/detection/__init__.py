"""Keypoint detectors on FIB-SEM images (numpy in, pixel keypoints out): classical ones on
grey levels, and ``features_from_mask`` on a segmentation model's class mask."""

from .grid_square import find_grid_square_centre
from .keypoints import Keypoint
from .landed_lamella import find_landed_lamella
from .landing_post import find_landing_post
from .mask_features import (
    FeatureNotFound,
    FeatureResult,
    FoundFeature,
    MaskFeatures,
    NotFound,
    features_from_mask,
)
from .needle_tip import find_needle_tip

__all__ = [
    "FeatureNotFound",
    "FeatureResult",
    "FoundFeature",
    "Keypoint",
    "MaskFeatures",
    "NotFound",
    "features_from_mask",
    "find_grid_square_centre",
    "find_landed_lamella",
    "find_landing_post",
    "find_needle_tip",
]
