"""Small Qt helpers shared by the widgets: a status line that shows errors as a message
(never a traceback) and a path row with a Browse button."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from qtpy.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget


class StatusLine(QLabel):
    def __init__(self) -> None:
        super().__init__("")
        self.setWordWrap(True)

    def info(self, text: str) -> None:
        self.setStyleSheet("")
        self.setText(text)

    def error(self, text: str) -> None:
        self.setStyleSheet("color: #ff6060;")
        self.setText(text)


def reported(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a widget action; an expected error (bad input, missing file or weights) becomes
    the widget's status message instead of a traceback."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (ValueError, KeyError, IndexError, OSError, RuntimeError) as error:
            text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
            self.status.error(text)
            return None

    return wrapper


class PathRow(QWidget):
    def __init__(self, placeholder: str, folder: bool) -> None:
        super().__init__()
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self._folder = folder
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(browse)

    def _browse(self) -> None:
        if self._folder:
            chosen = QFileDialog.getExistingDirectory(self, "Choose a folder")
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose a file")
        if chosen:
            self.edit.setText(chosen)

    @property
    def text(self) -> str:
        return self.edit.text().strip()
