"""The supervisor as a napari widget. A plan's question appears with its image (the
newest frame of the beam it is about), the proposed point and the proposed patterns as
editable layers; the person answers from the keyboard: Return accepts (moved layers
become the correction), R resets the layers, Escape aborts. The answer goes back to
the plan through the Supervisor device, so it is event data of the run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import napari
import numpy as np
from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtGui import QKeySequence, QShortcut
from qtpy.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from fibsem_ophyd.supervision import Answer, Question

from ...control._qt.common import StatusLine
from ...control._qt.context import control_context
from ...control.image_plane import world_of_offset
from ...control.runner import PlanRunner
from ..desk import SupervisionDesk, correction_from_moves, pattern_outlines

if TYPE_CHECKING:
    from ..remote import RemoteDesk

PROPOSAL = "proposal"
PATTERNS = "proposed patterns"


def _desk_for(runner: PlanRunner) -> SupervisionDesk | RemoteDesk:
    """A local desk for an in-process runner; for a queueserver's (it has a `client`),
    one that answers the worker's supervisor through that client."""
    client = getattr(runner, "client", None)
    if client is not None:
        from ..remote import RemoteDesk

        return RemoteDesk(client)
    return SupervisionDesk()


class _Relay(QObject):
    question = Signal(object)


class SupervisionWidget(QWidget):
    def __init__(
        self,
        napari_viewer: napari.Viewer,
        runner: PlanRunner | None = None,
        desk: SupervisionDesk | RemoteDesk | None = None,
    ) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.context = control_context(napari_viewer, runner)
        self._relay = _Relay()
        self._relay.question.connect(self.show_question)
        self.desk = desk or _desk_for(self.context.runner)
        self.desk.on_question = self._relay.question.emit
        attach = getattr(self.context.runner, "microscope", None)
        if attach is not None:  # in-process: this desk answers the microscope's questions
            attach.supervisor.use(self.desk)
        self.question: Question | None = None
        self._centre: tuple[float, float] | None = None
        self.title = QLabel("no question")
        self.title.setWordWrap(True)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #ffb000;")
        lines = self.title.fontMetrics().lineSpacing()
        self.title.setMinimumHeight(3 * lines)  # a wrapped label in a dock is sized short
        self.problem.setMinimumHeight(2 * lines)
        self.note = QLineEdit()
        self.note.setPlaceholderText("note (optional)")
        self.accept_button = QPushButton("Accept [Return]")
        self.reset_button = QPushButton("Reset [R]")
        self.abort_button = QPushButton("Abort [Esc]")
        self.accept_button.clicked.connect(self.accept)
        self.reset_button.clicked.connect(self.reset)
        self.abort_button.clicked.connect(self.abort)
        buttons = QHBoxLayout()
        for b in (self.accept_button, self.reset_button, self.abort_button):
            buttons.addWidget(b)
        self.status = StatusLine()
        layout = QVBoxLayout(self)
        for w in (self.title, self.problem, self.note):
            layout.addWidget(w)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addStretch()
        self._shortcuts = []
        keys = ((Qt.Key.Key_Return, self.accept), (Qt.Key.Key_Enter, self.accept),
                (Qt.Key.Key_R, self.reset), (Qt.Key.Key_Escape, self.abort))  # fmt: skip
        for key, action in keys:
            # the widget's window is napari's once docked: the keys work from the canvas
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(action)
            self._shortcuts.append(shortcut)
        self._enable(False)

    def _enable(self, waiting: bool) -> None:
        for w in (self.accept_button, self.reset_button, self.abort_button):
            w.setEnabled(waiting)
        for s in self._shortcuts:  # the keys are napari's again while nothing is asked
            s.setEnabled(waiting)

    # --- showing a question ------------------------------------------------------------
    def show_question(self, question: Question) -> None:
        self.question = question
        where = " ".join(p for p in (question.site, question.stage) if p)
        self.title.setText(f"[{where}] {question.kind}: {question.message}")
        self.problem.setText(f"Problem: {question.problem}" if question.problem else "")
        self.status.info("Return accept · R reset · Esc abort")
        self._centre = None
        if question.beam is not None:
            presenter = self.context.presenter
            try:
                self._centre = presenter.centre(presenter.detector_of_beam(question.beam))
            except ValueError as err:
                self.status.error(f"{err}; the proposal is drawn about the origin")
                self._centre = (0.0, 0.0)
        self.reset()
        self._enable(True)
        self.window().activateWindow()

    def _proposed(self) -> tuple[np.ndarray | None, list[np.ndarray]]:
        q = self.question
        if q is None or self._centre is None:
            return None, []
        point = None
        if q.kind == "point":
            point = np.array([world_of_offset(q.proposal_x_m, q.proposal_y_m, self._centre)])
        outlines = [np.array([world_of_offset(x, y, self._centre) for x, y in outline])
                    for outline in pattern_outlines(q)]  # fmt: skip
        return point, outlines

    def reset(self) -> None:
        """Put the layers back where the plan proposed them."""
        point, outlines = self._proposed()
        self._remove_layers()
        size = self._pixel() * 12
        if point is not None:
            self.viewer.add_points(
                point, name=PROPOSAL, size=size, face_color="#00e0ff", units=("m", "m")
            )
        if outlines:
            self.viewer.add_shapes(outlines, shape_type="polygon", name=PATTERNS,
                                   edge_color="#00e0ff", face_color="#00e0ff30",
                                   edge_width=self._pixel() * 2, units=("m", "m"))  # fmt: skip
        top = self.viewer.layers[PROPOSAL] if point is not None else None
        if top is not None:
            self.viewer.layers.selection.active = top
        elif outlines:
            self.viewer.layers.selection.active = self.viewer.layers[PATTERNS]

    def _pixel(self) -> float:
        frames = self.context.presenter.frames
        return min((f.pixel_size_m for f in frames.values()), default=1e-7)

    def _remove_layers(self) -> None:
        for name in (PROPOSAL, PATTERNS):
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)

    # --- answering ---------------------------------------------------------------------
    def correction_m(self) -> tuple[float, float]:
        """(dx, dy) metres the person moved the proposal or patterns by."""
        point, outlines = self._proposed()
        before, after = [], []
        if point is not None:
            before.append(point[0])
            after.append(self.viewer.layers[PROPOSAL].data[0])
        if outlines:
            before += [o.mean(axis=0) for o in outlines]
            after += [np.asarray(d)[:, -2:].mean(axis=0) for d in self.viewer.layers[PATTERNS].data]
        if not before:
            return 0.0, 0.0
        # world (row, col) -> image plane (x right, y up)
        to_xy = [(c, -r) for r, c in before]
        moved_xy = [(c, -r) for r, c in after]
        return correction_from_moves(to_xy, moved_xy)

    def accept(self) -> None:
        if self.desk.pending is None:
            return
        try:
            dx, dy = self.correction_m()
        except ValueError as err:
            self.status.error(str(err))
            return
        moved = abs(dx) > 0 or abs(dy) > 0
        answer = Answer(action="move" if moved else "accept", dx_m=dx, dy_m=dy,
                        note=self.note.text())  # fmt: skip
        self._answer(answer)

    def abort(self) -> None:
        if self.desk.pending is None:
            return
        self._answer(Answer(action="abort", note=self.note.text() or "aborted in napari"))

    def _answer(self, answer: Answer) -> None:
        try:
            self.desk.answer(answer)
        except ValueError as err:  # the question went (its plan stopped) or the server did
            self.status.error(str(err))
            return
        self._enable(False)
        self._remove_layers()
        text = f"answered: {answer.action}"
        if answer.action == "move":
            text += f" by ({answer.dx_m * 1e6:.2f}, {answer.dy_m * 1e6:.2f}) µm"
        self.status.info(text)
        self.title.setText("no question")
        self.problem.setText("")
        self.question = None
