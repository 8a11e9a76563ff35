"""Bluesky plans for FIB-SEM work: imaging, movement, state, alignment, milling,
lamella workflows. Plans only `yield from` plan stubs; the devices hold the logic."""

from .imaging import acquire_both, acquire_image, set_imaging

__all__ = ["acquire_both", "acquire_image", "set_imaging"]
