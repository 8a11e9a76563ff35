"""Movement: stage read-out, relative and absolute moves, named positions, and
double-click on an image to centre that point (`stable_move`; Alt + double-click in the
ion image: `vertical_move`)."""

from __future__ import annotations

import napari
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..runner import PlanOutcome, PlanRequest, PlanRunner
from .common import StatusLine, number, submit
from .context import control_context

AXES = (("x_m", "µm", 1e-6), ("y_m", "µm", 1e-6), ("z_m", "µm", 1e-6), ("r_deg", "°", 1.0),
        ("t_deg", "°", 1.0))  # fmt: skip


class MovementWidget(QWidget):
    def __init__(self, napari_viewer: napari.Viewer, runner: PlanRunner | None = None) -> None:
        super().__init__()
        self.context = control_context(napari_viewer, runner)
        self.readout = QLabel("stage: (refresh)")
        self.readout.setWordWrap(True)
        self.status = StatusLine()
        grid = QGridLayout()
        self.relative, self.absolute = {}, {}
        for row, (axis, unit, _) in enumerate(AXES):
            grid.addWidget(QLabel(axis.split("_")[0]), row, 0)
            self.relative[axis] = number(0.0, -1e6, 1e6, 3, unit)
            self.absolute[axis] = number(0.0, -1e6, 1e6, 3, unit)
            grid.addWidget(self.relative[axis], row, 1)
            grid.addWidget(self.absolute[axis], row, 2)
        self.move_by_button = QPushButton("Move by")
        self.move_to_button = QPushButton("Move to")
        self.refresh_button = QPushButton("Refresh")
        self.move_by_button.clicked.connect(self.move_by)
        self.move_to_button.clicked.connect(self.move_to)
        self.refresh_button.clicked.connect(self.refresh)
        moves = QHBoxLayout()
        for b in (self.move_by_button, self.move_to_button, self.refresh_button):
            moves.addWidget(b)
        self.positions = QComboBox()
        self.go_button = QPushButton("Go")
        self.go_button.clicked.connect(self.go)
        self.name = QLineEdit()
        self.name.setPlaceholderText("name for the present position")
        self.remember_button = QPushButton("Remember")
        self.remember_button.clicked.connect(self.remember)
        named = QHBoxLayout()
        for w in (self.positions, self.go_button, self.name, self.remember_button):
            named.addWidget(w)
        self.double_click = QCheckBox("double-click centres (Alt: vertical, ion image)")
        self.double_click.setChecked(True)
        layout = QVBoxLayout(self)
        for w in (self.readout,):
            layout.addWidget(w)
        layout.addWidget(QLabel("relative | absolute"))
        layout.addLayout(grid)
        layout.addLayout(moves)
        layout.addLayout(named)
        layout.addWidget(self.double_click)
        layout.addWidget(self.status)
        layout.addStretch()
        presenter = self.context.presenter
        presenter.on_double_click = self.centre_on
        presenter.on_error = self.status.error
        self.refresh()

    def _after(self, outcome: PlanOutcome) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.context.bridge.submit(PlanRequest("read_status", {}, "read status"), self._show)

    def _show(self, outcome: PlanOutcome) -> None:
        if not outcome.ok:
            self.status.error(f"read-out failed: {outcome.error}")
            return
        pose = outcome.result["stage"]
        self.pose = pose
        self.readout.setText(
            "stage: " + ", ".join(f"{a.split('_')[0]} {pose[a] / s:.3f} {u}" for a, u, s in AXES)
        )
        for axis, _, s in AXES:
            self.absolute[axis].setValue(pose[axis] / s)
        current = self.positions.currentText()
        self.positions.clear()
        self.positions.addItems(outcome.result["positions"])
        if current:
            self.positions.setCurrentText(current)

    def move_by(self) -> None:
        kwargs = {f"d{a}": self.relative[a].value() * s for a, _, s in AXES}
        submit(self, PlanRequest("move_relative", kwargs, "relative move"), self._after)

    def move_to(self) -> None:
        kwargs = {a: self.absolute[a].value() * s for a, _, s in AXES}
        submit(self, PlanRequest("move_absolute", kwargs, "absolute move"), self._after)

    def go(self) -> None:
        name = self.positions.currentText()
        submit(self, PlanRequest("move_to_position", {"name": name}, f"go to {name}"), self._after)

    def remember(self) -> None:
        name = self.name.text()
        submit(self, PlanRequest("remember_position", {"name": name}, f"remember {name!r}"),
               self._after)  # fmt: skip

    def centre_on(self, beam: str, dx_m: float, dy_m: float, alt: bool) -> bool:
        """Centre the double-clicked point (False: centring is off, napari zooms)."""
        if not self.double_click.isChecked():
            return False
        if alt and beam == "ion":
            request = PlanRequest("vertical_move", {"dy_m": dy_m}, "vertical move")
        else:
            request = PlanRequest("stable_move", {"dx_m": dx_m, "dy_m": dy_m, "beam": beam},
                                  f"centre in the {beam} image")  # fmt: skip
        submit(self, request, self._after)
        return True
