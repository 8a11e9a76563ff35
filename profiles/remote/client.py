"""A client of the fibsem-ophyd queueserver: queue plans, pause/resume/abort, follow
progress, answer the supervisor — from another process or machine.

    from profiles.remote.client import RemoteClient
    rc = RemoteClient()                       # tcp://127.0.0.1:60615 / 60625
    rc.open_environment()
    rc.use_supervisor("remote")
    rc.autolamella(["lamella_01"], protocol="on-grid")
    rc.supervise(lambda q: Answer(action="accept"))   # until the queue is done

Console lines (the session's progress lines, `SUPERVISOR-QUESTION ...`) arrive through
the manager's 0MQ console publisher; questions and answers go through
`function_execute` (functions of `profiles/remote/functions.py`).

Where the queueserver is: ``$FIBSEM_OPHYD_QUEUESERVER`` (`QUEUESERVER_ENV`), the
manager's control address (``tcp://host:60615`` or ``host:60615``), optionally followed
by ``,`` and its console address (default: the control port + 10, as the manager's
defaults). When it is set, the napari widgets run their plans there
(`napari_plugins.control.session`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from fibsem_ophyd.supervision import Answer, Question

from .manager import HOST

IDLE_POLL_S = 0.2
STATUS_POLL_S = 0.1
QUEUESERVER_ENV = "FIBSEM_OPHYD_QUEUESERVER"


def _tcp(address: str) -> str:
    return address if "://" in address else f"tcp://{address}"


def configured_addresses(environ: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(control, console) addresses of the queueserver named by ``$FIBSEM_OPHYD_QUEUESERVER``,
    or None when it is unset or empty. A malformed value is refused with the format."""
    value = (os.environ if environ is None else environ).get(QUEUESERVER_ENV, "").strip()
    if not value:
        return None
    parts = [_tcp(p.strip()) for p in value.split(",") if p.strip()]
    try:
        if len(parts) > 2:
            raise ValueError
        port = int(parts[0].rsplit(":", 1)[1])
        info = parts[1] if len(parts) == 2 else f"{parts[0].rsplit(':', 1)[0]}:{port + 10}"
        int(info.rsplit(":", 1)[1])
    except (ValueError, IndexError):
        raise ValueError(
            f"{QUEUESERVER_ENV}={value!r}: expected the manager's control address "
            "'tcp://host:port' (optionally ',tcp://host:console_port')"
        ) from None
    return parts[0], info


class RemoteError(RuntimeError):
    """The manager refused a request or a remote function failed."""


class RemoteClient:
    def __init__(
        self,
        control_addr: str = f"tcp://{HOST}:60615",
        info_addr: str = f"tcp://{HOST}:60625",
        timeout_s: float = 10.0,
    ) -> None:
        from bluesky_queueserver_api.zmq import REManagerAPI

        self.control_addr, self.info_addr = control_addr, info_addr
        # The API's waits (a function's result, idle) check the status this often; its
        # default (1 s) made every remote function call take a second.
        self.api = REManagerAPI(
            zmq_control_addr=control_addr,
            zmq_info_addr=info_addr,
            timeout_recv=timeout_s,
            status_polling_period=STATUS_POLL_S,
        )
        self.api.console_monitor.enable()
        self._lines: list[str] = []

    # -- environment and queue -------------------------------------------------------
    def open_environment(self, timeout_s: float = 120.0) -> None:
        """Open the worker (a session on the microscope) and wait until it is ready."""
        if not self.api.status()["worker_environment_exists"]:
            self.api.environment_open()
        self.api.wait_for_idle(timeout=timeout_s)
        if not self.api.status()["worker_environment_exists"]:
            raise RemoteError("the worker environment did not open; see the manager's log")

    def close_environment(self, timeout_s: float = 60.0) -> None:
        if self.api.status()["worker_environment_exists"]:
            self.api.environment_close()
            self.api.wait_for_idle(timeout=timeout_s)

    def queue(self, plan_name: str, *args: Any, start: bool = True, **kwargs: Any) -> str:
        """Add a plan to the queue (and start the queue); returns the item's uid."""
        from bluesky_queueserver_api import BPlan

        reply = self.api.item_add(BPlan(plan_name, *args, **kwargs))
        if start and self.api.status()["manager_state"] == "idle":
            self.api.queue_start()
        return str(reply["item"]["item_uid"])

    def autolamella(
        self,
        sites: list[str] | dict[str, dict[str, float]],
        protocol: str = "on-grid",
        experiment: str | None = None,
        start: bool = True,
    ) -> str:
        """Queue the workflow over `sites` (names of the microscope's sites, or poses)."""
        kwargs: dict[str, Any] = {"sites": sites, "protocol": protocol}
        if experiment is not None:
            kwargs["experiment"] = experiment
        return self.queue("autolamella", start=start, **kwargs)

    def status(self) -> dict[str, Any]:
        return dict(self.api.status())

    def wait_idle(self, timeout_s: float = 300.0) -> None:
        self.api.wait_for_idle(timeout=timeout_s)

    def history(self) -> list[dict[str, Any]]:
        return list(self.api.history_get()["items"])

    # -- interruption: as RE.request_pause / resume / abort / stop / halt -------------
    def pause(self, immediate: bool = False) -> None:
        self.api.re_pause("immediate" if immediate else "deferred")

    def resume(self) -> None:
        self.api.re_resume()

    def abort(self) -> None:
        self.api.re_abort()

    def stop(self) -> None:
        self.api.re_stop()

    def halt(self) -> None:
        self.api.re_halt()

    # -- functions in the worker -------------------------------------------------------
    def call(self, name: str, timeout_s: float = 30.0, **kwargs: Any) -> Any:
        """Run a function of the worker's namespace in the background (also while a plan
        runs) and return its value; its error is raised as RemoteError."""
        from bluesky_queueserver_api import BFunc

        task = self.api.function_execute(BFunc(name, **kwargs), run_in_background=True)
        self.api.wait_for_completed_task(task["task_uid"], timeout=timeout_s)
        result = self.api.task_result(task["task_uid"])["result"]
        if not result.get("success"):
            raise RemoteError(f"{name}: {result.get('msg') or result.get('traceback')}")
        return result.get("return_value")

    def use_supervisor(self, mode: str) -> str:
        return str(self.call("use_supervisor", mode=mode))

    def questions(self) -> list[tuple[str, Question]]:
        """The supervisor's waiting questions: (id, Question)."""
        waiting = self.call("supervisor_questions") or []
        return [(q.pop("id"), Question.model_validate(q)) for q in waiting]

    def answer(self, question_id: str, answer: Answer) -> None:
        self.call("answer_supervisor", question_id=question_id, **answer.model_dump())

    # -- progress ---------------------------------------------------------------------
    def progress(self) -> list[str]:
        """Console lines published since the last call (progress lines, questions)."""
        from bluesky_queueserver_api.comm_base import RequestTimeoutError

        while True:
            try:
                msg = self.api.console_monitor.next_msg(timeout=None)
            except RequestTimeoutError:
                break
            self._lines.extend(line for line in msg["msg"].splitlines() if line.strip())
        lines, self._lines = self._lines, []
        return lines

    def supervise(
        self,
        decide: Callable[[Question], Answer],
        timeout_s: float = 300.0,
        on_line: Callable[[str], None] | None = None,
    ) -> int:
        """Answer every question with `decide` until the queue is done and the manager
        idle; returns how many questions were answered."""
        answered = 0
        deadline = time.monotonic() + timeout_s
        while True:
            for line in self.progress():
                if on_line is not None:
                    on_line(line)
            for question_id, question in self.questions():
                self.answer(question_id, decide(question))
                answered += 1
            status = self.api.status()
            if status["manager_state"] == "idle" and not status["items_in_queue"]:
                return answered
            if time.monotonic() > deadline:
                raise TimeoutError(f"queue not done after {timeout_s} s: {status['manager_state']}")
            time.sleep(IDLE_POLL_S)

    def close(self) -> None:
        self.api.console_monitor.disable()
        self.api.close()


__all__ = ["QUEUESERVER_ENV", "RemoteClient", "RemoteError", "configured_addresses"]
