"""fibsem-ophyd: Bluesky-native control of FIB-SEM microscopes, with a digital twin."""

from ._cancellation import patch_ophyd_async

__version__ = "0.1.0"

# Before any device is used: pause/abort must never be lost in a signal read (3.11).
patch_ophyd_async()
