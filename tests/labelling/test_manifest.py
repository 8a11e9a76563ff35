"""The npe2 manifest: valid, registered by the napari.manifest entry point, and each
widget command opens its widget through napari's plugin machinery."""

from __future__ import annotations

import tomllib
from pathlib import Path

import npe2

import napari_plugins

MANIFEST = Path(napari_plugins.__file__).with_name("napari.yaml")
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_manifest_is_valid_and_named_in_the_entry_point():
    manifest = npe2.PluginManifest.from_file(MANIFEST)
    entry_points = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"]
    assert entry_points["napari.manifest"] == {manifest.name: "napari_plugins:napari.yaml"}
    names = {w.display_name for w in manifest.contributions.widgets}
    assert names == {"Segmentation labelling", "Keypoint labelling", "Microscope control",
                     "Live view", "Supervision"}  # fmt: skip


def test_widgets_open_through_napari(_display, npe2pm, make_napari_viewer):
    # npe2pm: napari's plugin manager, mocked to know only the plugins registered here
    manifest = npe2.PluginManifest.from_file(MANIFEST)
    npe2pm.register(manifest)
    viewer = make_napari_viewer()
    for name in ("Segmentation labelling", "Keypoint labelling"):
        _dock, widget = viewer.window.add_plugin_dock_widget(manifest.name, name)
        assert type(widget).__module__.startswith("napari_plugins._qt")
