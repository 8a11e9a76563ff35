"""The napari widgets' `QueueServerRunner` on the project's queueserver (the `remote`
fixture: Redis and the RE manager with the twin): catalogue plans by name, documents
and frames from the worker's document stream, refusals as one line, the supervision
desk answering through the queueserver, stop as an abort, and the runner chosen from
``$FIBSEM_OPHYD_QUEUESERVER``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from napari_plugins.control import PlanRequest, current_runner, use_runner
from napari_plugins.control.frames import FrameCollector
from tests.servers import HOST, free_port

pytestmark = pytest.mark.slow  # shares the manager of tests/remote/conftest.py

pytest.importorskip("bluesky_queueserver_api")

from napari_plugins.control.queue_server import QueueServerRunner  # noqa: E402
from profiles.remote.client import QUEUESERVER_ENV, RemoteClient  # noqa: E402


@pytest.fixture
def runner(remote) -> Iterator[QueueServerRunner]:
    """A runner with its own client of the fixture's manager (as a napari process)."""
    client = RemoteClient(remote.control_addr, remote.info_addr)
    r = QueueServerRunner(client)
    r.docs = []  # type: ignore[attr-defined]
    r.subscribe(lambda name, doc: r.docs.append((name, doc)))  # type: ignore[attr-defined]
    yield r
    r.close()
    client.close()


def _run(runner: QueueServerRunner, *requests: PlanRequest, timeout_s: float = 120) -> list:
    outcomes: list = []
    for request in requests:
        runner.submit(request, outcomes.append)
    runner.wait_idle(timeout_s)
    return outcomes


def test_catalogue_plans_run_with_their_documents_results_and_frames(runner, remote) -> None:
    frames: list = []
    runner.subscribe(FrameCollector(on_frame=frames.append))
    status, acquired = _run(
        runner,
        PlanRequest("read_status"),
        PlanRequest("set_and_acquire", {"beam": "ion", "resolution": "384x256", "hfw_m": 80e-6}),
    )
    # a read-out plan's return value comes back (the queue's history has none)
    assert status.ok and status.exit_status == "success", status
    assert "lamella_01" in status.result["positions"]
    assert status.result["ion"]["hfw_m"] > 0 and set(status.result["stage"]) >= {"x_m", "t_deg"}
    # a run: its documents reached the subscribers live, before `done`
    assert acquired.ok, acquired
    names = [name for name, _ in runner.docs]
    assert {"start", "descriptor", "event", "stop"} <= set(names), names
    (start,) = [d for n, d in runner.docs if n == "start"]
    (stop,) = [d for n, d in runner.docs if n == "stop"]
    assert stop["run_start"] == start["uid"] and stop["exit_status"] == "success"
    assert remote.history()[-1]["result"]["run_uids"] == [start["uid"]]
    # ... and the live view's collector made the frame from them (the worker's HDF5 file)
    (frame,) = frames
    assert frame.detector == "fib" and frame.image.shape == (256, 384) and frame.image.std() > 0
    assert frame.pixel_size_m == pytest.approx(80e-6 / 384)
    assert runner.received[0].plan == "read_status" and not runner.busy


def test_bad_input_and_unknown_plans_are_one_line_and_leave_the_queue_empty(runner, remote):
    refused = _run(
        runner,
        PlanRequest("set_imaging", {"beam": "ion", "hfw_m": 5.0}),  # the device refuses
        PlanRequest("move_absolute", {"x_m": 1.0}),  # beyond the stage's limits
        PlanRequest("read_status", {"bogus": 1}),  # the manager refuses it at the door
        PlanRequest("no_such_plan"),
    )
    assert [o.ok for o in refused] == [False] * 4
    for outcome in refused:
        assert outcome.exit_status == "fail" and outcome.error, outcome
        assert "\n" not in outcome.error and "Traceback" not in outcome.error, outcome.error
        assert len(outcome.error) < 400, outcome.error
    # the plan's own message, as in process; the manager's refusal without its wrapping
    assert refused[0].error.startswith("ion.hfw_m=5.0 m is outside the allowed range")
    assert refused[1].error.startswith("stage.x_m=1.0 m is outside the soft limits")
    assert refused[2].error == "got an unexpected keyword argument 'bogus'"
    assert refused[3].error == "Plan 'no_such_plan' is not in the list of allowed plans."
    # the manager puts a failed item back in the queue; the runner takes it out again
    assert remote.api.queue_get()["items"] == []
    (ok,) = _run(runner, PlanRequest("read_status"))
    assert ok.ok, ok


def test_the_supervision_desk_answers_remotely_and_stop_aborts_the_run(
    runner, remote, tmp_path
) -> None:
    """The supervision widget's desk on a queueserver: the workflow's first question
    reaches it and its answer lets the plan go on to the next; `stop` while the plan
    waits for that one aborts the run."""
    from fibsem_ophyd.supervision import Answer
    from napari_plugins.supervision.remote import RemoteDesk

    desk = RemoteDesk(RemoteClient(remote.control_addr, remote.info_addr), poll_s=0.2)
    asked: list = []
    desk.on_question = asked.append
    outcomes: list = []
    try:
        request = PlanRequest("autolamella", {"sites": ["lamella_01"],
                              "experiment": str(tmp_path / "exp")})  # fmt: skip
        runner.submit(request, outcomes.append)
        _wait(lambda: len(asked) == 1, 120, "the first question")
        assert desk.pending is asked[0] and asked[0].site == "lamella_01"
        desk.answer(Answer(action="accept", note="napari, remote"))
        _wait(lambda: len(asked) == 2, 120, "the next question")
        assert desk.history == [(asked[0], Answer(action="accept", note="napari, remote"))]
        assert runner.busy
        runner.stop("stopped in the test")
        runner.wait_idle(60)
    finally:
        desk.close()
        desk.client.use_supervisor("automatic")
        desk.client.close()
    (outcome,) = outcomes
    assert not outcome.ok and outcome.exit_status == "abort", outcome
    assert outcome.error == "stopped in the test"
    stops = [d for n, d in runner.docs if n == "stop"]
    assert stops and stops[-1]["exit_status"] == "abort"
    # the accepted answer is event data of the run, as with a local desk
    events = [d for n, d in runner.docs if n == "event"]
    assert any("accept" in str(d["data"].values()) for d in events)
    assert remote.history()[-1]["result"]["exit_status"] == "aborted"
    assert remote.api.queue_get()["items"] == []  # not run again by the next plan
    assert remote.status()["manager_state"] == "idle"


def _wait(ready, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert time.monotonic() < deadline, f"no {what} in {timeout_s} s"
        time.sleep(0.1)


def test_an_unreachable_queueserver_is_a_one_line_error() -> None:
    address = f"tcp://{HOST}:{free_port()}"
    client = RemoteClient(address, f"tcp://{HOST}:{free_port()}", timeout_s=0.5)
    runner = QueueServerRunner(client)
    try:
        (outcome,) = _run(runner, PlanRequest("read_status"), timeout_s=30)
    finally:
        runner.close()
        client.close()
    assert not outcome.ok and outcome.exit_status == "fail"
    assert outcome.error == f"queueserver at {address} not reachable (no reply)"


def test_the_widgets_use_the_configured_queueserver(monkeypatch) -> None:
    use_runner(None)
    monkeypatch.setenv(QUEUESERVER_ENV, f"{HOST}:60715")
    try:
        runner = current_runner()
        assert isinstance(runner, QueueServerRunner) and current_runner() is runner
        assert runner.client.control_addr == f"tcp://{HOST}:60715"
        assert runner.client.info_addr == f"tcp://{HOST}:60725"  # the manager's default step
        runner.close()
        runner.client.close()
    finally:
        use_runner(None)
    monkeypatch.setenv(QUEUESERVER_ENV, "somewhere")
    with pytest.raises(ValueError, match=f"{QUEUESERVER_ENV}='somewhere': expected"):
        current_runner()
    monkeypatch.setenv(QUEUESERVER_ENV, "")
    from napari_plugins.control.session import configured_runner

    assert configured_runner() is None  # unset or empty: the in-process runner
