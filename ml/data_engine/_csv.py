"""CSV files of a dataset: read as rows of text, appended to (the header grows when
rows bring new columns)."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else repr(value)
    return str(value)


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file ([] when it does not exist)."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def append_rows(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    """Append rows (a new file gets the header even with no rows); a file written with
    fewer columns is rewritten with the union."""
    rows = [{k: _cell(v) for k, v in row.items()} for row in rows]
    if not rows and path.exists():
        return
    header: list[str] = list(columns)
    if path.exists():
        with path.open(newline="") as f:
            existing = next(csv.reader(f), [])
        if existing and existing != header:
            header = existing + [c for c in header if c not in existing]
            old = read_rows(path)
            _write_all(path, header, old)
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, restval="")
        if new:
            writer.writeheader()
        writer.writerows(rows)


def _write_all(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
