"""One run's documents gathered in one place, in any order (live runs emit a frame's
stream datum before its event; a run exported from tiled emits events first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FrameRef:
    """Where one frame of one external data key lives: row `index` of the dataset
    `dataset` in the resource file `uri` (as the StreamResource says), and `row`, its
    place among the frames of that data key in its stream (how tiled stacks them)."""

    uri: str
    dataset: str
    index: int
    row: int


@dataclass
class RunDocuments:
    """The documents of one run. Events are kept in the order they were taken (time)."""

    start: dict[str, Any]
    descriptors: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    stream_resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    stream_datums: list[dict[str, Any]] = field(default_factory=list)
    stop: dict[str, Any] | None = None

    @property
    def uid(self) -> str:
        return str(self.start["uid"])

    def add(self, name: str, doc: dict[str, Any]) -> None:
        """File one document of this run (start is given at construction)."""
        if name == "descriptor":
            self.descriptors[doc["uid"]] = doc
        elif name == "event":
            self.events.append(doc)
        elif name == "event_page":
            self.events.extend(_unpack_page(doc))
        elif name == "stream_resource":
            self.stream_resources[doc["uid"]] = doc
        elif name == "stream_datum":
            self.stream_datums.append(doc)
        elif name == "stop":
            self.stop = doc
        elif name in ("resource", "datum", "datum_page"):
            # Legacy (pre-StreamResource) assets: our detectors never write them.
            raise ValueError(
                f"run {self.uid}: {name} documents (legacy external assets) are not "
                "supported; frames must be StreamResource/StreamDatum"
            )

    def ordered_events(self) -> list[dict[str, Any]]:
        """Events by time, then stream, then seq_num: the order they were taken."""
        return sorted(
            self.events,
            key=lambda e: (
                e["time"],
                self.descriptors[e["descriptor"]].get("name", ""),
                e["seq_num"],
            ),
        )

    def frame_refs(self) -> dict[tuple[str, str, int], FrameRef]:
        """(descriptor uid, data key, seq_num) -> where that event's frame is."""
        refs: dict[tuple[str, str, int], FrameRef] = {}
        rows: dict[tuple[str, str], int] = {}
        ordered = sorted(
            self.stream_datums, key=lambda d: (d["descriptor"], d["seq_nums"]["start"])
        )
        for datum in ordered:
            resource = self.stream_resources.get(datum["stream_resource"])
            if resource is None:
                raise ValueError(
                    f"run {self.uid}: stream datum {datum['uid']} names stream resource "
                    f"{datum['stream_resource']}, which is not in the run"
                )
            key = resource["data_key"]
            seq0, seq1 = datum["seq_nums"]["start"], datum["seq_nums"]["stop"]
            i0, i1 = datum["indices"]["start"], datum["indices"]["stop"]
            if seq1 - seq0 != i1 - i0:
                raise ValueError(
                    f"run {self.uid}: stream datum {datum['uid']} covers events "
                    f"{seq0}..{seq1 - 1} with frames {i0}..{i1 - 1}; the data engine needs "
                    "exactly one frame per event"
                )
            row_key = (datum["descriptor"], key)
            for offset in range(seq1 - seq0):
                row = rows.get(row_key, 0)
                rows[row_key] = row + 1
                refs[(datum["descriptor"], key, seq0 + offset)] = FrameRef(
                    uri=resource["uri"],
                    dataset=str(resource.get("parameters", {}).get("dataset", "")),
                    index=i0 + offset,
                    row=row,
                )
        return refs


def _unpack_page(page: dict[str, Any]) -> list[dict[str, Any]]:
    n = len(page["seq_num"])
    return [
        {
            "uid": page["uid"][i],
            "time": page["time"][i],
            "seq_num": page["seq_num"][i],
            "descriptor": page["descriptor"],
            "data": {k: v[i] for k, v in page["data"].items()},
            "timestamps": {k: v[i] for k, v in page.get("timestamps", {}).items()},
        }
        for i in range(n)
    ]
