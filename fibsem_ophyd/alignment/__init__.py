"""Image alignment: fast, sub-pixel translation registration of FIB/SEM images."""

from .filters import circular_mask, rectangular_mask, window_2d
from .registration import Registrar, Registration, register

__all__ = [
    "Registrar",
    "Registration",
    "circular_mask",
    "rectangular_mask",
    "register",
    "window_2d",
]
