"""The digital twin: a seeded world model of a cryo FIB-SEM and its specimen, rendered
into SEM/FIB/fluorescence images, behind the `MicroscopeBackend` protocols."""

from .backend import TwinBackend, TwinBeam, TwinImaging, TwinStage
from .clock import TwinClock
from .faults import TwinFaults
from .lamella import LamellaReport
from .milling import TwinMilling
from .parameters import TwinParameters
from .patch import PATCH_MATERIALS, LocalPatch
from .projection import (
    ImageGeometry,
    StagePose,
    chamber_to_image,
    depth_m,
    specimen_to_chamber,
    specimen_to_image_affine,
)
from .render import Renderer, Scene
from .specimen import LandingPost, Site, Specimen
from .state import BeamState
from .world import TwinWorld

__all__ = [
    "PATCH_MATERIALS",
    "BeamState",
    "ImageGeometry",
    "LamellaReport",
    "LandingPost",
    "LocalPatch",
    "Renderer",
    "Scene",
    "Site",
    "Specimen",
    "StagePose",
    "TwinBackend",
    "TwinBeam",
    "TwinClock",
    "TwinFaults",
    "TwinImaging",
    "TwinMilling",
    "TwinParameters",
    "TwinStage",
    "TwinWorld",
    "chamber_to_image",
    "depth_m",
    "specimen_to_chamber",
    "specimen_to_image_affine",
]
