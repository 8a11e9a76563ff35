# IPython startup for fibsem-ophyd: RunEngine, microscope, store, plans.
# Started by `fibsem-ophyd ipython`; the config file comes from FIBSEM_OPHYD_CONFIG.
import os

import bluesky.plan_stubs as bps  # noqa: F401
import bluesky.plans as bp  # noqa: F401

from fibsem_ophyd.backend import StagePosition  # noqa: F401
from plans import *  # noqa: F403
from profiles.session import start_session

session = start_session(os.environ.get("FIBSEM_OPHYD_CONFIG") or None)
RE = session.RE
microscope = session.microscope
catalog = session.catalog()
print(
    f"fibsem-ophyd: {microscope.fingerprint.manufacturer} {microscope.fingerprint.model}; "
    f"store {session.store.uri if session.store else 'off'}"
)
print("Try: RE(acquire_image(microscope, 'ion')); catalog.values().last()")
