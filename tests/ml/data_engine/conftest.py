"""Fixtures for the data engine: the twin at a small resolution (fast frames), small
runs made with the project's own plan stubs; replay uses tests/conftest.py's
`shared_store` (a real tiled server on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import pytest
from bluesky.utils import MsgGenerator

from fibsem_ophyd.storage import EmbeddedStore
from plans._md import plan_md
from plans._run import run_decorator
from plans.imaging import read_image, set_imaging
from plans.site_finding import find_site

RESOLUTION = "384x256"
SITE = "lamella_01"


@pytest.fixture
def small_microscope(RE, microscope):
    """The twin at the first lamella site, both beams at 384x256."""
    m = microscope
    RE(bps.mv(m.stage, m.sites[SITE]))
    for beam in ("electron", "ion"):
        RE(set_imaging(m, beam, resolution=RESOLUTION))
    return m


def images_run(m, beam: str, num: int, md: dict) -> MsgGenerator[str]:
    """`num` images of one beam in one run (stream 'primary')."""
    det = m.detector(beam)

    @bpp.stage_decorator([det])
    @run_decorator(md=plan_md(m, "images_run", {"beam": beam, "num": num}, md))
    def inner() -> MsgGenerator[None]:
        for _ in range(num):
            yield from read_image(m, beam)

    return (yield from inner())


def site_run(m, beam: str, md: dict) -> MsgGenerator[tuple[float, float]]:
    """Find the site in `beam` (detection + supervisor's answer as event data)."""
    det = m.detector(beam)
    site, stage = md.get("lamella", SITE), md.get("workflow_stage", "select")

    @bpp.stage_decorator([det])
    @run_decorator(md=plan_md(m, "site_run", {"beam": beam}, md))
    def inner() -> MsgGenerator[tuple[float, float]]:
        return (yield from find_site(m, beam, site, stage))

    return (yield from inner())


@pytest.fixture
def store_microscope(RE, shared_store: EmbeddedStore):
    """The twin writing its frames where the store's server may read them."""
    from fibsem_ophyd.connect import connect_microscope
    from profiles.detectors import wire_detectors

    m = connect_microscope(path_provider=shared_store.path_provider())
    wire_detectors(m)
    RE(bps.mv(m.stage, m.sites[SITE]))
    for beam in ("electron", "ion"):
        RE(set_imaging(m, beam, resolution=RESOLUTION))
    return m


def csv_text(folder: Path, name: str) -> str:
    return (folder / name).read_text()
