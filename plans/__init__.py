"""Bluesky plans for FIB-SEM work: imaging, movement, state, alignment, milling,
coatings, lamella workflows. Plans only `yield from` plan stubs; devices hold the logic."""

from .alignment import align
from .cryo import cool_down, warm_up
from .deposition import cryo_deposition, gis_deposition, sputter_coat
from .fluorescence import acquire_channels, acquire_z_stack, move_to_fluorescence
from .focus import autocontrast, autofocus
from .imaging import (
    acquire_both,
    acquire_image,
    acquire_reduced_area,
    reference_images,
    set_imaging,
)
from .manipulator import NeedleCalibrationSettings, calibrate_manipulator
from .milling import run_milling
from .movement import (
    beam_coincidence,
    move_absolute,
    move_flat_to_beam,
    move_relative,
    move_to_milling_angle,
    read_milling_angle,
    safe_move,
    stable_move,
    vertical_move,
)
from .state import load_positions, move_to_position, restore_state, save_positions, save_state
from .workflow import autolamella, mill_lamella

__all__ = [
    "NeedleCalibrationSettings",
    "acquire_both",
    "acquire_channels",
    "acquire_image",
    "acquire_reduced_area",
    "acquire_z_stack",
    "align",
    "autocontrast",
    "autofocus",
    "autolamella",
    "beam_coincidence",
    "calibrate_manipulator",
    "cool_down",
    "cryo_deposition",
    "gis_deposition",
    "load_positions",
    "mill_lamella",
    "move_absolute",
    "move_flat_to_beam",
    "move_relative",
    "move_to_fluorescence",
    "move_to_milling_angle",
    "move_to_position",
    "read_milling_angle",
    "reference_images",
    "restore_state",
    "run_milling",
    "safe_move",
    "save_positions",
    "save_state",
    "set_imaging",
    "sputter_coat",
    "stable_move",
    "vertical_move",
    "warm_up",
]
