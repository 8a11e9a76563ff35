"""Classical keypoint detectors on FIB-SEM images (numpy in, pixel keypoints out)."""

from .grid_square import find_grid_square_centre
from .keypoints import Keypoint
from .landed_lamella import find_landed_lamella
from .landing_post import find_landing_post
from .needle_tip import find_needle_tip

__all__ = [
    "Keypoint",
    "find_grid_square_centre",
    "find_landed_lamella",
    "find_landing_post",
    "find_needle_tip",
]
