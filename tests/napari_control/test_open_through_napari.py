"""The control, live-view and supervision widgets open through napari's plugin
machinery (as *Plugins → fibsem-ophyd → …* or ``napari -w fibsem-ophyd …`` open them)
and share the installed runner."""

from __future__ import annotations

import npe2

from fibsem_ophyd.supervision import AutoSupervisor
from napari_plugins.control import InProcessRunner, use_runner
from napari_plugins.control._qt.context import control_context

from ..labelling.test_manifest import MANIFEST


def test_control_widgets_open_through_napari(display, npe2pm, make_napari_viewer, twin, qtbot):
    RE, m = twin
    npe2pm.register(npe2.PluginManifest.from_file(MANIFEST))
    runner = InProcessRunner(RE, m)
    use_runner(runner)  # what an IPython session does before opening the widgets
    try:
        viewer = make_napari_viewer()
        widgets = {}
        for name in ("Microscope control", "Live view", "Supervision"):
            _dock, widgets[name] = viewer.window.add_plugin_dock_widget("fibsem-ophyd", name)
        assert type(widgets["Live view"]).__name__ == "LiveViewWidget"
        # one context (runner, layers) for the viewer, though napari hands each widget
        # its own proxy of the viewer
        context = control_context(viewer)
        assert context.runner is runner
        assert widgets["Live view"].context is context is widgets["Supervision"].context
        assert widgets["Microscope control"].movement.context is context
        # double-clicks on the images reach the presenter (napari's zoom is its fallback)
        names = [c.__name__ for c in viewer.mouse_double_click_callbacks]
        assert names == ["_double_click"]
        imaging = widgets["Microscope control"].imaging
        qtbot.waitUntil(lambda: imaging.resolution.currentText() == "384x256")  # read-out ran
        assert m.supervisor.backend is widgets["Supervision"].desk  # questions come here
    finally:
        use_runner(None)
        runner.close()
        m.supervisor.use(AutoSupervisor())
