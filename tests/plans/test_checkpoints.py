"""A pause between two runs of one plan: resume replays nothing of the closed run."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import pytest
from bluesky.utils import IllegalMessageSequence, RunEngineInterrupted
from ophyd_async.core import soft_signal_rw
from ophyd_async.plan_stubs import ensure_connected

from plans.checkpoints import checkpoint_each_run


def _two_runs_paused_between(signal):
    yield from ensure_connected(signal)
    for name in ("first", "second"):
        yield from bps.open_run(md={"name": name})
        yield from bps.trigger_and_read([signal])
        yield from bps.close_run()
        if name == "first":
            yield from bps.pause()  # as a Ctrl-C landing right after a run ends


def _run(RE, plan) -> list[dict]:
    docs: list[tuple[str, dict]] = []
    with pytest.raises(RunEngineInterrupted):
        RE(plan, lambda n, d: docs.append((n, d)))
    assert RE.state == "paused"
    RE.resume()
    return docs


def test_without_checkpoints_the_closed_run_is_replayed_and_fails(RE) -> None:
    signal = soft_signal_rw(float, 1.0, name="x")
    with pytest.raises(IllegalMessageSequence, match="open run"):
        _run(RE, _two_runs_paused_between(signal))


def test_checkpoint_each_run_resumes_into_the_next_run(RE) -> None:
    signal = soft_signal_rw(float, 1.0, name="x")
    docs = _run(RE, checkpoint_each_run(_two_runs_paused_between(signal)))
    starts = [d["name"] for n, d in docs if n == "start"]
    stops = [d["exit_status"] for n, d in docs if n == "stop"]
    events = [d for n, d in docs if n == "event"]
    assert starts == ["first", "second"]
    assert stops == ["success", "success"]
    assert len(events) == 2  # one reading per run: nothing replayed twice
