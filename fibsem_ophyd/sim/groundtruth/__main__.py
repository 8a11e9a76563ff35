"""``python -m fibsem_ophyd.sim.groundtruth``: see `cli.py`."""

from .cli import main

raise SystemExit(main())
