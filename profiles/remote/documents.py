"""The worker's documents, live, for remote clients (the napari widgets).

bluesky-queueserver publishes the worker's console, not its documents. The startup
profile therefore subscribes a `DocumentPublisher` to the worker's RunEngine: a 0MQ PUB
socket on 127.0.0.1 (a free port, chosen when the environment opens; the worker
function `document_address` tells clients where). A `DocumentSubscriber` in the client
receives them on its own thread. Each message is ``name`` and the document as JSON
(numpy values as lists and numbers), never a pickle.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from enum import Enum
from typing import Any

import zmq

from .manager import HOST

POLL_MS = 100
logger = logging.getLogger(__name__)


def to_json(value: Any) -> Any:
    """`value` with numpy arrays and scalars, enums, paths and pydantic models in their
    JSON form (what a queueserver reply or a 0MQ message can carry)."""
    return json.loads(json.dumps(value, default=_plain))


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)  # paths, datetimes, anything else: its text


class DocumentPublisher:
    """A RunEngine callback that sends every document to the clients subscribed."""

    def __init__(self, host: str = HOST) -> None:
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.PUB)
        port = self._socket.bind_to_random_port(f"tcp://{host}")
        self.address = f"tcp://{host}:{port}"
        self._lock = threading.Lock()

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        message = json.dumps(doc, default=_plain).encode()
        with self._lock:
            self._socket.send_multipart([name.encode(), message])

    def close(self) -> None:
        with self._lock:
            self._socket.close(linger=0)
            self._context.term()


class DocumentSubscriber:
    """Receives a `DocumentPublisher`'s documents on a thread and hands each to
    `callback(name, doc)`; `connect` (again) when the address changes."""

    def __init__(self, callback: Callable[[str, dict[str, Any]], None]) -> None:
        self._callback = callback
        self._context = zmq.Context()
        self._address: str | None = None
        self._wanted: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="documents", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str | None:
        return self._wanted

    def connect(self, address: str) -> None:
        self._wanted = address

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._context.term()

    def _receive(self) -> None:
        socket: zmq.Socket | None = None
        try:
            while not self._stop.is_set():
                if self._wanted != self._address:
                    if socket is not None:
                        socket.close(linger=0)
                    socket = self._context.socket(zmq.SUB)
                    socket.setsockopt(zmq.SUBSCRIBE, b"")
                    self._address = self._wanted
                    if self._address is not None:
                        socket.connect(self._address)
                if socket is None or not socket.poll(POLL_MS):
                    self._stop.wait(POLL_MS / 1000 if socket is None else 0)
                    continue
                name, message = socket.recv_multipart()
                try:
                    self._callback(name.decode(), json.loads(message))
                except Exception:  # a subscriber's bug must not end the stream
                    logger.exception("document callback failed")
        finally:
            if socket is not None:
                socket.close(linger=0)


__all__ = ["DocumentPublisher", "DocumentSubscriber", "to_json"]
