"""ophyd-async devices of a FIB-SEM, one file each, built on the backend protocols."""

from .aligner import ImageAligner
from .beam import Beam
from .chamber import Chamber
from .electron_beam import ElectronBeam
from .fluorescence import FluorescenceMicroscope
from .frame_detector import FrameDetector
from .gas_injection import GasInjection
from .imaging_detector import ImagingDetector
from .interlocks import InterlockError, Interlocks
from .ion_beam import IonBeam
from .manipulator import Manipulator
from .microscope import Microscope
from .milling import Milling
from .sputter_coater import SputterCoater
from .stage import Stage

__all__ = [
    "Beam",
    "Chamber",
    "ElectronBeam",
    "FluorescenceMicroscope",
    "FrameDetector",
    "GasInjection",
    "ImageAligner",
    "ImagingDetector",
    "InterlockError",
    "Interlocks",
    "IonBeam",
    "Manipulator",
    "Microscope",
    "Milling",
    "SputterCoater",
    "Stage",
]
