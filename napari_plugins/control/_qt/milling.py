"""Milling: rectangles drawn and edited as shapes over the FIB image (metres), the
stage's parameters in a form, the estimated time, run / stop with progress from the
run's documents (the milling device's progress is monitored as event data)."""

from __future__ import annotations

import napari
from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fibsem_ophyd.milling import (
    APPLICATION_FILES,
    MillingParameters,
    MillingStage,
    RectanglePattern,
)

from ..image_plane import rectangle_from_world, rectangle_world_corners
from ..runner import PlanOutcome, PlanRequest, PlanRunner
from .common import StatusLine, number, submit
from .context import control_context

PATTERNS = "milling patterns"


class MillingWidget(QWidget):
    def __init__(self, napari_viewer: napari.Viewer, runner: PlanRunner | None = None) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.context = control_context(napari_viewer, runner)
        self.current_na = number(0.74, 0.001, 65.0, 3, "nA")
        self.depth_um = number(1.0, 0.01, 100.0, 2, "µm")
        self.application = QComboBox()
        self.application.addItems(list(APPLICATION_FILES))
        self.estimate = QLabel("estimated time: –")
        form = QFormLayout()
        form.addRow("milling current", self.current_na)
        form.addRow("depth", self.depth_um)
        form.addRow("application", self.application)
        self.add_button = QPushButton("Add rectangle")
        self.run_button = QPushButton("Run")
        self.stop_button = QPushButton("Stop")
        self.add_button.clicked.connect(self.add_rectangle)
        self.run_button.clicked.connect(self.run)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.run_button, self.stop_button):
            buttons.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.status = StatusLine()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.estimate)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch()
        for box in (self.current_na, self.depth_um):
            box.valueChanged.connect(self.update_estimate)
        self.context.bridge.document.connect(self._on_document)

    # --- layers <-> patterns ------------------------------------------------------------
    def _fib(self):
        try:
            return self.context.presenter.detector_of_beam("ion")
        except ValueError as err:
            raise ValueError(f"{err} (patterns are drawn over the FIB image)") from None

    def shapes_layer(self):
        if PATTERNS not in self.viewer.layers:
            layer = self.viewer.add_shapes(
                name=PATTERNS, edge_color="#ffd000", face_color="#ffd00040", ndim=2,
                units=("m", "m"),
                edge_width=self.context.presenter.frames[self._fib()].pixel_size_m * 2,
            )  # fmt: skip
            layer.events.data.connect(self.update_estimate)
        return self.viewer.layers[PATTERNS]

    def add_rectangle(self) -> None:
        try:
            detector = self._fib()
        except ValueError as err:
            self.status.error(str(err))
            return
        centre = self.context.presenter.centre(detector)
        pattern = RectanglePattern(
            width_m=10e-6, height_m=5e-6, depth_m=self.depth_um.value() * 1e-6
        )
        self.shapes_layer().add_rectangles(rectangle_world_corners(pattern, centre))
        self.update_estimate()

    def patterns(self) -> list[RectanglePattern]:
        """The drawn rectangles as patterns (ion image plane, metres from its centre)."""
        if PATTERNS not in self.viewer.layers or not len(self.viewer.layers[PATTERNS].data):
            raise ValueError("no milling pattern: add a rectangle over the FIB image first")
        detector = self._fib()
        centre = self.context.presenter.centre(detector)
        depth = self.depth_um.value() * 1e-6
        layer = self.viewer.layers[PATTERNS]
        return [rectangle_from_world(c[:, -2:], centre, depth) for c in layer.data]

    def stage(self) -> MillingStage:
        frame = self.context.presenter.frames[self._fib()]
        parameters = MillingParameters(
            milling_current_a=round(self.current_na.value() * 1e-9, 15),
            hfw_m=float(frame.settings.get("hfw_m", frame.pixel_size_m * frame.image.shape[1])),
            application_file=self.application.currentText(),
        )
        return MillingStage(name="napari", patterns=self.patterns(), parameters=parameters)

    def update_estimate(self, *_: object) -> None:
        try:
            seconds = self.stage().estimated_time_s()
        except ValueError as err:
            self.estimate.setText(f"estimated time: – ({str(err).splitlines()[0]})")
            return
        self.estimate.setText(f"estimated time: {seconds:.1f} s")

    # --- run / stop --------------------------------------------------------------------
    def run(self) -> None:
        try:
            stage = self.stage()
            stage.validate_in_field()
        except ValueError as err:
            self.status.error(str(err))
            return
        self.progress.setValue(0)
        request = PlanRequest("run_milling", {"stages": [stage.model_dump(mode="json")]}, "milling")
        submit(self, request, self._finished)

    def stop(self) -> None:
        self.context.runner.stop("milling stopped from the widget")

    def _finished(self, outcome: PlanOutcome) -> None:
        if outcome.ok:
            self.progress.setValue(100)

    def _on_document(self, name: str, doc: dict) -> None:
        if name != "event":
            return
        for key, value in doc["data"].items():
            if key.endswith("-progress") and key.startswith("milling"):
                self.progress.setValue(round(100 * float(value)))
