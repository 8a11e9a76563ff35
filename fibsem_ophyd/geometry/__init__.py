"""Pure FIB-SEM geometry (numpy, no devices), following docs/coordinates.md exactly.

Frames and projections live in ``_frames``, target-pose computations (stable move,
vertical move, beam coincidence, specimen coordinates) in ``_moves``, orientations
(flat to beam, milling angle) in ``_angles``. Lengths in metres, angles in degrees.
"""

from ._angles import RotationName, flat_to_beam, milling_angle, tilt_for_milling_angle
from ._frames import (
    StageGeometry,
    chamber_to_image,
    chamber_to_specimen,
    full_pose,
    image_axes,
    image_to_pixels,
    pixels_to_image_offset,
    rot_2d,
    rot_x,
    rot_z,
    source_direction,
    specimen_normal,
    specimen_rotation,
    specimen_to_chamber,
    stage_translation,
    unrotate_offset,
)
from ._moves import (
    beam_coincidence_move,
    image_to_specimen,
    locate_feature,
    project_stable_move,
    raw_to_specimen,
    specimen_move,
    specimen_to_raw,
    stable_move,
    stable_move_delta,
    translate,
    vertical_move,
)
from ._needle import needle_image_delta

__all__ = [
    "RotationName",
    "StageGeometry",
    "beam_coincidence_move",
    "chamber_to_image",
    "chamber_to_specimen",
    "flat_to_beam",
    "full_pose",
    "image_axes",
    "image_to_pixels",
    "image_to_specimen",
    "locate_feature",
    "milling_angle",
    "needle_image_delta",
    "pixels_to_image_offset",
    "project_stable_move",
    "raw_to_specimen",
    "rot_2d",
    "rot_x",
    "rot_z",
    "source_direction",
    "specimen_move",
    "specimen_normal",
    "specimen_rotation",
    "specimen_to_chamber",
    "specimen_to_raw",
    "stable_move",
    "stable_move_delta",
    "stage_translation",
    "tilt_for_milling_angle",
    "translate",
    "unrotate_offset",
    "vertical_move",
]
