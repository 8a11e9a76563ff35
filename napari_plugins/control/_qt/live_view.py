"""Live view: follows the runner's documents — each new frame replaces its layer (the
presenter does that), the newest detections are drawn over it, and this panel says
which run and frame is shown."""

from __future__ import annotations

import napari
from qtpy.QtWidgets import QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from ..frames import Detection, Frame
from ..runner import PlanRunner
from .common import StatusLine
from .context import control_context


class LiveViewWidget(QWidget):
    def __init__(self, napari_viewer: napari.Viewer, runner: PlanRunner | None = None) -> None:
        super().__init__()
        self.context = control_context(napari_viewer, runner)
        self.run_label = QLabel("no run yet")
        self.frame_label = QLabel("no frame yet")
        self.frame_label.setWordWrap(True)
        self.detections = QListWidget()
        self.stop_button = QPushButton("Stop the running plan")
        self.stop_button.clicked.connect(lambda: self.context.runner.stop("stopped from live view"))
        self.status = StatusLine()
        layout = QVBoxLayout(self)
        for w in (self.run_label, self.frame_label, QLabel("detections"), self.detections,
                  self.stop_button, self.status):  # fmt: skip
            layout.addWidget(w)
        self.frames_seen = 0
        bridge = self.context.bridge
        bridge.frame.connect(self._on_frame)
        bridge.detections.connect(self._on_detections)
        bridge.document.connect(self._on_document)

    def _on_document(self, name: str, doc: dict) -> None:
        if name == "start":
            self.run_label.setText(f"run: {doc.get('plan_name', '?')} ({doc['uid'][:8]})")
        elif name == "stop":
            text = f"ended: {doc['exit_status']}"
            if doc.get("reason"):
                self.status.error(f"{text} — {doc['reason']}")
            else:
                self.status.info(text)

    def _on_frame(self, frame: Frame) -> None:
        self.frames_seen += 1
        hfw = frame.settings.get("hfw_m")
        hfw_text = f"hfw {hfw * 1e6:.1f} µm, " if isinstance(hfw, float) else ""
        pose = ", ".join(
            f"{k} {v * 1e6:.2f} µm" if k in ("x", "y", "z") else f"{k} {v:.2f}°"
            for k, v in sorted(frame.stage.items(), key=lambda kv: "xyzrt".find(kv[0]))
        )  # the stage's readables: x, y, z in metres, r, t in degrees
        self.frame_label.setText(
            f"{frame.detector} ({frame.beam}) {frame.image.shape[1]}x{frame.image.shape[0]}, "
            f"{hfw_text}stream {frame.stream} | stage {pose}"
        )

    def _on_detections(self, detections: list[Detection]) -> None:
        self.detections.clear()
        for d in detections:
            self.detections.addItem(
                f"{d.name}: ({d.x_px:.1f}, {d.y_px:.1f}) px in {d.detector}, score {d.score:.2f}"
            )
