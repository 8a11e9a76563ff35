"""Microscope control: the imaging, movement, milling, needles and chamber panels as
tabs of one dock widget (each is also a widget of its own)."""

from __future__ import annotations

import napari
from qtpy.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from ..runner import PlanRunner
from .devices import ChamberWidget, NeedlesWidget
from .imaging import ImagingWidget
from .milling import MillingWidget
from .movement import MovementWidget


class MicroscopeControlWidget(QWidget):
    def __init__(self, napari_viewer: napari.Viewer, runner: PlanRunner | None = None) -> None:
        super().__init__()
        self.tabs = QTabWidget()
        self.imaging = ImagingWidget(napari_viewer, runner)
        self.movement = MovementWidget(napari_viewer, runner)
        self.milling = MillingWidget(napari_viewer, runner)
        self.needles = NeedlesWidget(napari_viewer, runner)
        self.chamber = ChamberWidget(napari_viewer, runner)
        for name, panel in (("Imaging", self.imaging), ("Movement", self.movement),
                            ("Milling", self.milling), ("Needles", self.needles),
                            ("Chamber", self.chamber)):  # fmt: skip
            self.tabs.addTab(panel, name)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
