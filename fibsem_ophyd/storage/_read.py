"""Reading runs back: images with their metadata, and the event log of recent runs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

# Start-document keys our plans use for where a run happened (first found wins).
SITE_KEYS = ("site", "site_name", "lamella", "lamella_name")
POSITION_KEYS = ("stage_position",)


@dataclass
class RunImages:
    """Frames of one stream of a run, with what is needed to interpret them."""

    uid: str
    start: dict[str, Any]
    stop: dict[str, Any] | None
    images: dict[str, np.ndarray]  # data key -> (n_events, ...) frames
    readings: dict[str, np.ndarray]  # scalar/small data keys, plus time and seq_num
    configuration: dict[str, Any]  # device name -> {"data", "timestamps", "data_keys"}
    data_keys: dict[str, Any] = field(default_factory=dict)


def _is_image(data_key: dict[str, Any]) -> bool:
    shape = [n for n in data_key.get("shape") or [] if n != 1]
    return len(shape) >= 2


def _v3(client: Any) -> Any:
    """The v3 (SQL) view of a catalog. Asked for explicitly: `catalog.v2` in
    bluesky-tiled-plugins 2.0.12 switches the process-wide default to v2."""
    return client.v3 if getattr(client, "is_sql", False) else client


def _child(container: Any, key: str) -> Any:
    """`container[key]`, or None if it has no such child: one request (`key in
    container` then `container[key]` asks the server twice)."""
    try:
        return container[key]
    except KeyError:
        return None


def read_images(client: Any, uid: str, stream: str = "primary") -> RunImages:
    """Read every frame of `stream` of run `uid` (full or partial uid, or scan id)."""
    run = _v3(client)[uid]
    metadata = run.metadata
    node = run[stream]
    stream_md = dict(node.metadata)
    data_keys: dict[str, Any] = dict(stream_md.get("data_keys", {}))
    images: dict[str, np.ndarray] = {}
    readings: dict[str, np.ndarray] = {}
    base = node.base
    if (internal := _child(base, "internal")) is not None:
        table = internal.read()
        readings.update({str(col): table[col].to_numpy() for col in table.columns})
    for key, data_key in data_keys.items():
        if key in readings or (child := _child(base, key)) is None:
            continue
        values = np.asarray(child.read())
        (images if _is_image(data_key) else readings)[key] = values
    return RunImages(
        uid=metadata["start"]["uid"],
        start=dict(metadata["start"]),
        stop=dict(metadata["stop"]) if metadata.get("stop") else None,
        images=images,
        readings=readings,
        configuration=dict(stream_md.get("configuration", {})),
        data_keys=data_keys,
    )


@dataclass
class RunRow:
    """One line of the event log."""

    uid: str
    time: float
    plan_name: str
    site: str | None
    stage: str | None  # the workflow stage and/or the milling stages the run milled
    stage_position: Any
    exit_status: str | None  # None: still running, or killed and not recovered yet
    reason: str
    num_events: int


def _first(mapping: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((mapping[k] for k in keys if mapping.get(k) is not None), None)


def _stage_name(start: dict[str, Any]) -> str | None:
    """What stage of the work a run did: `workflow_stage` (lamella workflows), the names
    of the milling stages (`run_milling`'s `milling_stages`), both, or a plain "stage"."""
    workflow = start.get("workflow_stage")
    milled = [
        str(s["name"])
        for s in start.get("milling_stages") or []
        if isinstance(s, dict) and s.get("name")
    ]
    names = ", ".join(milled)
    if workflow and names and names != workflow:
        return f"{workflow} ({names})"
    if workflow or names:
        return str(workflow or names)
    stage = start.get("stage")
    return stage if isinstance(stage, str) else None


def _row(metadata: dict[str, Any]) -> RunRow:
    start = metadata.get("start") or {}
    stop = metadata.get("stop") or {}
    site = _first(start, SITE_KEYS)
    return RunRow(
        uid=start.get("uid", ""),
        time=float(start.get("time", math.nan)),
        plan_name=str(start.get("plan_name", "")),
        site=None if site is None else str(site),
        stage=_stage_name(start),
        stage_position=_first(start, POSITION_KEYS),
        exit_status=stop.get("exit_status"),
        reason=str(stop.get("reason") or ""),
        num_events=sum((stop.get("num_events") or {}).values()),
    )


def recent_runs(client: Any, limit: int = 20) -> list[RunRow]:
    """The `limit` most recent runs, newest first."""
    newest_first = client.sort(("start.time", -1))
    return [_row(dict(run.metadata)) for run in newest_first.values().head(limit)]


def _stage_text(stage: Any) -> str:
    if isinstance(stage, dict):
        return " ".join(
            f"{k}={v:.4g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in stage.items()
        )
    return "" if stage is None else str(stage)


def format_runs(rows: list[RunRow]) -> str:
    """A plain-text table of `rows` for a terminal."""
    header = ("time", "uid", "plan", "site", "stage", "position", "status", "events", "reason")
    lines = [header]
    for row in rows:
        when = datetime.fromtimestamp(row.time).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(
            (
                when,
                row.uid[:8],
                row.plan_name,
                row.site or "",
                row.stage or "",
                _stage_text(row.stage_position),
                row.exit_status or "open",
                str(row.num_events),
                row.reason,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
