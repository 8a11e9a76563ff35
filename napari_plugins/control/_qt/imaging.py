"""Imaging: beam, field width, resolution, dwell, detector; acquire one or both beams.
Frames land as layers (SEM, FIB) through the presenter."""

from __future__ import annotations

import napari
from qtpy.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ..runner import PlanOutcome, PlanRequest, PlanRunner
from .common import StatusLine, number, submit
from .context import control_context

RESOLUTIONS = ["384x256", "768x512", "1536x1024", "3072x2048", "6144x4096"]


class ImagingWidget(QWidget):
    def __init__(self, napari_viewer: napari.Viewer, runner: PlanRunner | None = None) -> None:
        super().__init__()
        self.context = control_context(napari_viewer, runner)
        self.beam = QComboBox()
        self.beam.addItems(["electron", "ion"])
        self.hfw_um = number(150.0, 0.1, 5000.0, 1, "µm")
        self.resolution = QComboBox()
        self.resolution.setEditable(True)
        self.resolution.addItems(RESOLUTIONS)
        self.resolution.setCurrentText("1536x1024")
        self.dwell_us = number(1.0, 0.025, 25000.0, 3, "µs")
        self.detector = QComboBox()
        self.detector.setEditable(True)
        self.detector.addItems(["", "ETD", "TLD", "ICE", "CDEM"])
        form = QFormLayout()
        for label, w in (("beam", self.beam), ("field width", self.hfw_um),
                         ("resolution", self.resolution), ("dwell", self.dwell_us),
                         ("detector", self.detector)):  # fmt: skip
            form.addRow(label, w)
        self.apply_button = QPushButton("Apply")
        self.acquire_button = QPushButton("Acquire")
        self.both_button = QPushButton("Acquire both")
        self.apply_button.clicked.connect(self.apply)
        self.acquire_button.clicked.connect(self.acquire)
        self.both_button.clicked.connect(self.acquire_both)
        buttons = QHBoxLayout()
        for b in (self.apply_button, self.acquire_button, self.both_button):
            buttons.addWidget(b)
        self.status = StatusLine()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addStretch()
        self._beams: dict[str, dict] = {}  # each beam's settings, from the last read-out
        self.beam.currentTextChanged.connect(self._fill)
        self.context.bridge.submit(PlanRequest("read_status", {}, "read status"), self._show)

    def _show(self, outcome: PlanOutcome) -> None:
        """Start from the microscope's present settings (a read-out plan's result)."""
        if not outcome.ok:
            self.status.error(f"read-out failed: {outcome.error}")
            return
        self._beams = {beam: outcome.result[beam] for beam in ("electron", "ion")}
        self._fill(self.beam.currentText())

    def _fill(self, beam: str) -> None:
        settings = self._beams.get(beam)
        if not settings:
            return
        self.hfw_um.setValue(settings["hfw_m"] * 1e6)
        self.resolution.setCurrentText(str(settings["resolution"]))
        self.dwell_us.setValue(settings["dwell_time_s"] * 1e6)
        self.detector.setCurrentText(str(settings.get("detector_type") or ""))

    def settings(self) -> dict[str, object]:
        out: dict[str, object] = {
            "hfw_m": self.hfw_um.value() * 1e-6,
            "resolution": self.resolution.currentText().strip(),
            "dwell_time_s": self.dwell_us.value() * 1e-6,
        }
        if self.detector.currentText().strip():
            out["detector_type"] = self.detector.currentText().strip()
        return out

    def _set(self) -> PlanRequest:
        beam = self.beam.currentText()
        return PlanRequest("set_imaging", {"beam": beam, **self.settings()}, f"set {beam} imaging")

    def apply(self) -> None:
        submit(self, self._set())

    def acquire(self) -> None:
        beam = self.beam.currentText()
        kwargs = {"beam": beam, **self.settings()}
        submit(self, PlanRequest("set_and_acquire", kwargs, f"acquire {beam} image"))

    def acquire_both(self) -> None:
        submit(self, PlanRequest("acquire_both", {}, "acquire both beams"))
