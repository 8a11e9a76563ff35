"""`in_run(plan, md)`: a plan inside one run that returns the plan's own value.

bluesky's `run_wrapper` returns the run uid and closes the run itself on every
exception, so the operator's reason given to `RE.abort(reason)` never reaches the stop
document. Here a RunEngine control exception (abort, stop, halt, a failed pause) leaves
the run open: the RunEngine closes it with its exit status and that reason. Any other
error closes the run as failed, with the error as the reason.
"""

from __future__ import annotations

from typing import Any, TypeVar

import bluesky.plan_stubs as bps
from bluesky.utils import (
    FailedPause,
    MsgGenerator,
    RunEngineControlException,
    make_decorator,
    plan,
)

T = TypeVar("T")

CONTROL = (RunEngineControlException, FailedPause)


@plan
def in_run(inner: MsgGenerator[T], md: dict[str, Any] | None = None) -> MsgGenerator[T]:
    yield from bps.open_run(md)
    try:
        result = yield from inner
    except CONTROL:
        raise
    except Exception as err:
        yield from bps.close_run(exit_status="fail", reason=f"{type(err).__name__}: {err}")
        raise
    yield from bps.close_run()
    return result


run_decorator = make_decorator(in_run)
"""`@run_decorator(md=...)` on a generator function: its plan inside `in_run`."""
