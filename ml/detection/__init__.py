"""Classical keypoint detectors on FIB-SEM images (numpy in, pixel keypoints out)."""

from .grid_square import find_grid_square_centre
from .keypoints import Keypoint

__all__ = ["Keypoint", "find_grid_square_centre"]
