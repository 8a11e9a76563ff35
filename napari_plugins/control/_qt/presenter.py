"""Frames as napari image layers in metres (SEM at the origin, FIB to its right), the
newest detections as a points layer, and double-clicks on an image turned into an
image-plane offset for whoever listens (the movement widget).

A double-click on one of the microscope's images (with nothing being edited: no layer
active, or the active one in pan/zoom mode) is a request to centre that point; it
replaces napari's double-click zoom there. Elsewhere napari zooms as usual."""

from __future__ import annotations

from collections.abc import Callable

import napari
import numpy as np

from ..frames import Detection, Frame
from ..image_plane import image_centre_world, offset_of_world, placements
from .bridge import RunnerBridge

LAYER_NAMES = {"sem": "SEM", "fib": "FIB"}
DETECTIONS = "detections"

DoubleClick = Callable[[str, float, float, bool], bool]
"""(beam, dx_m, dy_m, alt) of a double-click on an image -> whether it was taken (if
not, napari zooms as usual)."""


class LayerPresenter:
    def __init__(self, viewer: napari.Viewer, bridge: RunnerBridge) -> None:
        self.viewer = viewer
        self.frames: dict[str, Frame] = {}
        self.on_double_click: DoubleClick | None = None
        self.on_error: Callable[[str], None] | None = None
        bridge.frame.connect(self.show_frame)
        bridge.detections.connect(self.show_detections)
        viewer.scale_bar.visible = True
        callbacks = viewer.mouse_double_click_callbacks
        self._napari_zoom = next((c for c in callbacks if c.__name__ == "double_click_to_zoom"),
                                 None)  # fmt: skip
        if self._napari_zoom is not None:
            callbacks.remove(self._napari_zoom)
        callbacks.insert(0, self._double_click)

    def layer_name(self, detector: str) -> str:
        return LAYER_NAMES.get(detector, detector)

    def translate(self, detector: str) -> tuple[float, float]:
        fields = {d: (f.image.shape, f.pixel_size_m) for d, f in self.frames.items()}
        return placements(fields)[detector]

    def centre(self, detector: str) -> tuple[float, float]:
        f = self.frames[detector]
        return image_centre_world(f.image.shape, f.pixel_size_m, self.translate(detector))

    def detector_of_beam(self, beam: str) -> str:
        for d, f in self.frames.items():
            if f.beam == beam:
                return d
        raise ValueError(f"no {beam} image yet: acquire one first")

    def show_frame(self, frame: Frame) -> None:
        first = not self.frames
        self.frames[frame.detector] = frame
        for detector, f in self.frames.items():
            name = self.layer_name(detector)
            scale = (f.pixel_size_m, f.pixel_size_m)
            if name in self.viewer.layers:
                layer = self.viewer.layers[name]
                if detector == frame.detector:
                    layer.data = f.image
                    layer.metadata = f.metadata
                layer.scale, layer.translate = scale, self.translate(detector)
            else:
                layer = self.viewer.add_image(
                    f.image, name=name, scale=scale, translate=self.translate(detector),
                    metadata=f.metadata, colormap="gray", units=("m", "m"),
                )  # fmt: skip
                self.viewer.layers.move(self.viewer.layers.index(layer), 0)
            if detector == frame.detector:
                layer.contrast_limits = (float(np.min(f.image)), float(np.max(f.image)) + 1e-9)
        if first:
            self.viewer.reset_view()

    def show_detections(self, detections: list[Detection]) -> None:
        points, names = [], []
        for d in detections:
            f = self.frames.get(d.detector)
            if f is None:
                continue
            t = self.translate(d.detector)
            points.append((t[0] + d.y_px * f.pixel_size_m, t[1] + d.x_px * f.pixel_size_m))
            names.append(d.name)
        if not points:
            return
        size = 12 * min(f.pixel_size_m for f in self.frames.values())
        if DETECTIONS in self.viewer.layers:
            layer = self.viewer.layers[DETECTIONS]
            layer.data = np.array(points)
            layer.features = {"name": names}
        else:
            self.viewer.add_points(
                np.array(points), name=DETECTIONS, size=size, face_color="#ff3030",
                features={"name": names}, border_color="white",
                text={"string": "{name}", "color": "yellow", "size": 9, "anchor": "lower_left",
                      "translation": (-size, size)},
                units=("m", "m"),
            )  # fmt: skip

    def detector_at(self, world_rc: tuple[float, float]) -> str | None:
        """The detector whose image covers the world point (row, col metres), if any."""
        for detector, f in self.frames.items():
            (top, left), (h, w) = self.translate(detector), f.image.shape
            rows, cols = (
                (top, top + (h - 1) * f.pixel_size_m),
                (left, left + (w - 1) * f.pixel_size_m),
            )
            if rows[0] <= world_rc[0] <= rows[1] and cols[0] <= world_rc[1] <= cols[1]:
                return detector
        return None

    def _double_click(self, viewer, event) -> None:
        world = (float(event.position[-2]), float(event.position[-1]))
        active = viewer.layers.selection.active
        editing = active is not None and active.mode != "pan_zoom"
        detector = self.detector_at(world)
        if editing or detector is None or self.on_double_click is None:
            if self._napari_zoom is not None:
                self._napari_zoom(viewer, event)
            return
        f = self.frames[detector]
        try:
            dx, dy = offset_of_world(world, self.centre(detector), f.image.shape, f.pixel_size_m)
        except ValueError as err:  # rounding at the edge: said, nothing moves
            if self.on_error is not None:
                self.on_error(str(err))
            return
        taken = self.on_double_click(f.beam, dx, dy, "Alt" in event.modifiers)
        if not taken and self._napari_zoom is not None:
            self._napari_zoom(viewer, event)
