"""Manipulator and GIS (insert, retract, calibrate, deposit) and the chamber (vacuum,
temperature): buttons that submit plans and read-outs refreshed from `read_status`."""

from __future__ import annotations

import napari
from qtpy.QtWidgets import QComboBox, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..runner import PlanOutcome, PlanRequest, PlanRunner
from .common import StatusLine, number, submit
from .context import control_context


class _StatusPanel(QWidget):
    """Buttons in a grid, a read-out line and a status line."""

    def __init__(self, napari_viewer: napari.Viewer, runner: PlanRunner | None) -> None:
        super().__init__()
        self.context = control_context(napari_viewer, runner)
        self.readout = QLabel("(refresh)")
        self.readout.setWordWrap(True)
        self.status = StatusLine()
        self.grid = QGridLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.readout)
        layout.addLayout(self.grid)
        layout.addWidget(self.status)
        layout.addStretch()

    def button(self, text: str, row: int, col: int, action) -> QPushButton:
        b = QPushButton(text)
        b.clicked.connect(action)
        self.grid.addWidget(b, row, col)
        return b

    def run(self, plan: str, label: str, **kwargs: object) -> None:
        submit(self, PlanRequest(plan, dict(kwargs), label), lambda _o: self.refresh())

    def refresh(self) -> None:
        self.context.bridge.submit(PlanRequest("read_status", {}, "read status"), self._show)

    def _show(self, outcome: PlanOutcome) -> None:
        if outcome.ok:
            self.readout.setText(self.describe(outcome.result))
        else:
            self.status.error(f"read-out failed: {outcome.error}")

    def describe(self, status: dict) -> str:
        raise NotImplementedError


class NeedlesWidget(_StatusPanel):
    def __init__(self, napari_viewer: napari.Viewer, runner: PlanRunner | None = None) -> None:
        super().__init__(napari_viewer, runner)
        self.insert_to = QComboBox()
        self.insert_to.addItems(["park", "eucentric"])
        self.grid.addWidget(QLabel("manipulator"), 0, 0)
        self.grid.addWidget(self.insert_to, 0, 1)
        self.insert_button = self.button(
            "Insert",
            0,
            2,
            lambda: self.run(
                "insert_manipulator", "insert manipulator", position=self.insert_to.currentText()
            ),
        )
        self.retract_button = self.button(
            "Retract", 0, 3, lambda: self.run("retract_manipulator", "retract manipulator")
        )
        self.calibrate_button = self.button(
            "Calibrate", 0, 4, lambda: self.run("calibrate_manipulator", "calibrate manipulator")
        )
        self.grid.addWidget(QLabel("GIS"), 1, 0)
        self.duration_s = number(10.0, 0.1, 600.0, 1, "s")
        self.grid.addWidget(self.duration_s, 1, 1)
        self.gis_insert_button = self.button(
            "Insert", 1, 2, lambda: self.run("insert_gis", "insert GIS")
        )
        self.gis_retract_button = self.button(
            "Retract", 1, 3, lambda: self.run("retract_gis", "retract GIS")
        )
        self.deposit_button = self.button("Deposit", 1, 4, lambda: self.run(
            "gis_deposition", "GIS deposition", duration_s=self.duration_s.value()))  # fmt: skip
        self.refresh()

    def describe(self, s: dict) -> str:
        needle = "inserted" if s["manipulator_inserted"] else "retracted"
        cal = "calibrated" if s["manipulator_calibrated"] else "not calibrated"
        gis = "inserted" if s["gis_inserted"] else "retracted"
        return (f"manipulator: {needle}, {cal} | GIS: {gis}, gas {s['gis_gas']}, "
                f"{s['gis_temperature_k']:.1f} K")  # fmt: skip


class ChamberWidget(_StatusPanel):
    def __init__(self, napari_viewer: napari.Viewer, runner: PlanRunner | None = None) -> None:
        super().__init__(napari_viewer, runner)
        self.pump_button = self.button("Pump", 0, 0, lambda: self.run("pump", "pump"))
        self.vent_button = self.button("Vent", 0, 1, lambda: self.run("vent", "vent"))
        self.target_k = number(93.0, 1.0, 400.0, 1, "K")
        self.grid.addWidget(self.target_k, 1, 0)
        self.cool_button = self.button(
            "Cool down",
            1,
            1,
            lambda: self.run("cool_down", "cool down", target_k=self.target_k.value()),
        )
        self.warm_button = self.button("Warm up", 1, 2, lambda: self.run(
            "warm_up", "warm up", target_k=self.target_k.value()))  # fmt: skip
        self.refresh()

    def describe(self, s: dict) -> str:
        return (f"vacuum: {s['chamber_state']}, {s['pressure_pa']:.3g} Pa | stage "
                f"{s['cryo_temperature_k']:.1f} K (target {s['cryo_target_k']:.1f} K)")  # fmt: skip
