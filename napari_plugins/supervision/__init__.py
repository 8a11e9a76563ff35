"""The workflow's supervisor as a napari widget: `SupervisionDesk` (no Qt) is the
supervisor backend that hands each question to the widget and waits for its answer;
the widget (``_qt/``) shows the image, the proposal and the patterns as layers."""

from .desk import SupervisionDesk, correction_from_moves, pattern_outlines

__all__ = ["SupervisionDesk", "correction_from_moves", "pattern_outlines"]
