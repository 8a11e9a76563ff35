"""fibsem-ophyd: Bluesky-native control of FIB-SEM microscopes, with a digital twin."""

__version__ = "0.1.0"
