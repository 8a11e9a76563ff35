"""`QueueServerRunner`: the widgets' plans run by a bluesky-queueserver (the project's
RE manager, `fibsem-ophyd queueserver`), through `profiles.remote.client.RemoteClient`.

A request goes into the queue by its catalogue name with its keyword arguments (the
worker offers the catalogue bound to its microscope: `profiles.remote.bound`); the
worker's documents arrive live from its document publisher
(`profiles.remote.documents`); when the item has left the queue its history entry
gives the outcome, and a catalogue plan's return value comes from the worker's
`plan_result`. `stop` pauses the run at once and aborts it. One item at a time, in
order, from one worker thread: a click never waits for the server.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from profiles.remote.client import RemoteClient
from profiles.remote.documents import DocumentSubscriber

from .queued import QueuedRunner
from .runner import PlanOutcome, PlanRequest

POLL_S = 0.1
SLOW_POLL_S, SLOW_AFTER_S = 0.5, 10.0
DOCUMENTS_WAIT_S = 5.0  # after the item ends, for its runs' last documents to arrive
_ABORTED = {"aborted": "aborted", "halted": "halted", "stopped": "stopped"}
# the manager's wrapping of a refusal, which says nothing to a user
_PREFIXES = ("Request failed:", "Failed to add an item:", "Plan validation failed:",
             "Plan failed:", "Error:")  # fmt: skip


def one_line(error: BaseException | str, where: str = "") -> str:
    """The first meaningful line of a manager's or plan's message: what the widget shows."""
    from bluesky_queueserver_api.comm_base import CommTimeoutError, RequestTimeoutError

    if isinstance(error, RequestTimeoutError | CommTimeoutError | TimeoutError):
        return f"queueserver{' at ' + where if where else ''} not reachable (no reply)"
    text = str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(error).__name__ if isinstance(error, BaseException) else "failed"
    line = lines[0]
    stripped = True
    while stripped:
        stripped = False
        for prefix in _PREFIXES:
            if line.startswith(prefix) and line[len(prefix) :].strip():
                line, stripped = line[len(prefix) :].strip(), True
    return line


class QueueServerRunner(QueuedRunner):
    """Runs catalogue plans on the queueserver `client` talks to; opens the worker's
    environment on the first plan when it is closed."""

    wait_timeout_s = 120.0

    def __init__(self, client: RemoteClient, open_environment: bool = True) -> None:
        super().__init__()
        self.client = client
        self._open_environment = open_environment
        self._item_uid: str | None = None
        self._ended_runs: set[str] = set()
        self._ended = threading.Condition()
        self._documents = DocumentSubscriber(self._dispatch)
        self._documents_known = False
        self._start_worker("queue-runner")

    def stop(self, reason: str = "stopped from the widget") -> None:
        """Pause the running plan at once, then abort it (cleanup runs; 'abort')."""
        if not self._running.is_set() or self._item_uid is None:
            return
        self._stop_reason = reason
        threading.Thread(target=self._abort, name="queue-runner-stop", daemon=True).start()

    def close(self) -> None:
        """Stop the worker thread and the document stream (the client stays open)."""
        self._end_worker()
        self._documents.close()

    def _dispatch(self, name: str, doc: dict) -> None:
        super()._dispatch(name, doc)
        if name == "stop":
            with self._ended:
                self._ended_runs.add(doc.get("run_start", ""))
                self._ended.notify_all()

    def _abort(self) -> None:
        try:
            self.client.pause(immediate=True)
            self.client.api.wait_for_idle_or_paused(timeout=60)
            if self.client.status()["manager_state"] == "paused":
                self.client.abort()
        except Exception:  # the plan ended meanwhile, or the server went: _run reports it
            pass

    def _outcome(self, request: PlanRequest) -> PlanOutcome:
        try:
            return self._run(request)
        except Exception as error:  # never a traceback for the widget
            return PlanOutcome(request, False, error=one_line(error), exit_status="fail")
        finally:
            self._item_uid = None

    # --- one plan -------------------------------------------------------------------
    def _prepare(self) -> None:
        """The worker's environment open and its document stream followed (asked for
        again after the environment opened, or when a run's documents did not come)."""
        if not self.client.api.status(reload=True)["worker_environment_exists"]:
            if not self._open_environment:
                raise RuntimeError("the queueserver's worker environment is not open")
            self.client.open_environment()
            self._documents_known = False
        if self._documents_known:
            return
        address = self.client.call("document_address")
        if address and address != self._documents.address:
            self._documents.connect(address)
            time.sleep(0.2)  # 0MQ: a subscription takes a moment to reach the publisher
        self._documents_known = True

    def _run(self, request: PlanRequest) -> PlanOutcome:
        self._stop_reason = ""
        where = self.client.control_addr
        try:
            self._prepare()
            self._item_uid = self._queue_item(request)
            item = self._wait_for_history(self._item_uid)
        except Exception as error:  # unreachable, refused at the door (bad input)
            return PlanOutcome(request, False, error=one_line(error, where), exit_status="fail")
        result = item.get("result", {})
        if not self._wait_for_documents(result.get("run_uids", [])):
            self._documents_known = False  # a new worker publishes elsewhere: ask again
        status = result.get("exit_status", "")
        if status not in ("completed", "stopped"):
            self._take_back(item)
        if status == "completed":
            try:
                value = self.client.call("plan_result", plan=request.plan)
            except Exception:  # the plan ran; only its read-out value is missing
                value = None
            return PlanOutcome(request, True, result=value)
        if status in _ABORTED or self._stop_reason:
            reason = self._stop_reason or _ABORTED.get(status, status)
            return PlanOutcome(request, False, error=reason, exit_status="abort")
        message = result.get("msg") or (result.get("traceback") or "").strip().split("\n")[-1]
        return PlanOutcome(request, False, error=one_line(message or status), exit_status="fail")

    def _queue_item(self, request: PlanRequest) -> str:
        """Add the plan to the queue (the manager checks its parameters) and start the
        queue unless it runs; the item's uid."""
        from bluesky_queueserver_api import BPlan

        api = self.client.api
        reply = api.item_add(BPlan(request.plan, **request.kwargs))
        if api.status(reload=True)["manager_state"] == "idle":
            api.queue_start()
        return str(reply["item"]["item_uid"])

    def _wait_for_history(self, item_uid: str) -> dict[str, Any]:
        """The history entry of `item_uid`, once the item has left the queue."""
        seen, started = None, time.monotonic()
        while True:
            status = self.client.api.status(reload=True)
            if status["plan_history_uid"] != seen:
                seen = status["plan_history_uid"]
                items = self.client.api.history_get()["items"]
                for item in reversed(items):
                    if item.get("item_uid") == item_uid:
                        return dict(item)
            if status["manager_state"] == "idle":
                self._restart_or_refuse(item_uid)
            # quick plans end quickly; a workflow need not be asked ten times a second
            time.sleep(POLL_S if time.monotonic() - started < SLOW_AFTER_S else SLOW_POLL_S)

    def _restart_or_refuse(self, item_uid: str) -> None:
        """The manager is idle with the item not run: start the queue again if the item
        waits there (another client's failure stopped it); if it is gone, say so."""
        queued = [i["item_uid"] for i in self.client.api.queue_get()["items"]]
        if item_uid in queued:
            with contextlib.suppress(Exception):  # it started meanwhile
                self.client.api.queue_start()
        elif item_uid not in [i.get("item_uid") for i in self.client.api.history_get()["items"]]:
            raise RuntimeError("the plan was removed from the queue before it ran")

    def _take_back(self, ended: dict[str, Any]) -> None:
        """The manager puts a failed or aborted item back at the front of the queue (with a
        new uid): remove it, or the next plan submitted would run it again first."""
        try:
            items = self.client.api.queue_get()["items"]
            if items and all(items[0].get(k) == ended.get(k) for k in ("name", "args", "kwargs")):
                self.client.api.item_remove(uid=items[0]["item_uid"])
        except Exception:  # nothing to take back, or the server went: the outcome says it
            pass

    def _wait_for_documents(self, run_uids: list[str]) -> bool:
        """Wait until the stop documents of `run_uids` arrived; False if they did not."""
        deadline = time.monotonic() + DOCUMENTS_WAIT_S
        with self._ended:
            while not set(run_uids) <= self._ended_runs:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._ended.wait(left)
        return True


__all__ = ["QueueServerRunner", "one_line"]
