"""Asking the supervisor at a decision point: the question and the answer become
event data (stream 'supervision') of the current run."""

from __future__ import annotations

import bluesky.plan_stubs as bps
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.supervision import Answer, Question

from ._md import plan_md
from ._run import run_decorator


class SupervisorAbort(RuntimeError):
    """The supervisor chose to abort."""


@plan
def ask(microscope: Microscope, question: Question) -> MsgGenerator[Answer]:
    """Ask inside an open run; returns the Answer (abort raises SupervisorAbort)."""
    sup = microscope.supervisor
    yield from bps.mv(sup.question, question.model_dump_json())
    yield from bps.trigger_and_read([sup], name="supervision")
    action = yield from bps.rd(sup.action)
    dx = yield from bps.rd(sup.dx_m)
    dy = yield from bps.rd(sup.dy_m)
    note = yield from bps.rd(sup.note)
    answer = Answer(action=action, dx_m=dx, dy_m=dy, note=note)
    if answer.action == "abort":
        raise SupervisorAbort(f"supervisor aborted at {question.site} {question.stage}: {note}")
    return answer


@plan
def ask_in_run(microscope: Microscope, question: Question) -> MsgGenerator[Answer]:
    """`ask` inside a small run of its own (metadata: lamella, workflow stage)."""
    _md = plan_md(microscope, "supervise", {"kind": question.kind},
                  {"lamella": question.site, "workflow_stage": question.stage})  # fmt: skip

    @run_decorator(md=_md)
    def inner() -> MsgGenerator[Answer]:
        return (yield from ask(microscope, question))

    return (yield from inner())
