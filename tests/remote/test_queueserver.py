"""The queueserver on the twin: Redis and the RE manager started with the project's
profile (`fibsem-ophyd queueserver`, the `remote` fixture of conftest.py), driven
through bluesky-queueserver-api."""

from __future__ import annotations

import time

import pytest
import yaml

from fibsem_ophyd.experiment import Experiment
from fibsem_ophyd.milling.protocol import SHIPPED_PROTOCOLS
from fibsem_ophyd.supervision import Answer, Question

pytestmark = pytest.mark.slow  # tens of seconds: started first (tests/conftest.py)

pytest.importorskip("bluesky_queueserver")
pytest.importorskip("bluesky_queueserver_api")

SITE = "lamella_01"


@pytest.fixture(scope="module")
def short_protocol(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shipped on-grid protocol with only 'setup' milled: one short milling run."""
    data = yaml.safe_load(SHIPPED_PROTOCOLS["on-grid"].read_text())
    data["stages"]["rough"]["enabled"] = False
    data["stages"]["polish"]["enabled"] = False
    path = tmp_path_factory.mktemp("protocol") / "setup-only.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_every_plan_is_offered_bound_to_the_microscope(remote) -> None:
    from bluesky.utils import is_plan

    import plans

    offered = remote.api.plans_allowed()["plans_allowed"]
    expected = {n for n in plans.__all__ if is_plan(getattr(plans, n))}
    assert expected <= set(offered), expected - set(offered)
    params = [p["name"] for p in offered["autolamella"]["parameters"]]
    assert params == ["sites", "protocol", "experiment"]  # microscope given by the profile
    assert "microscope" not in [p["name"] for p in offered["acquire_image"]["parameters"]]


def test_autolamella_completes_with_remote_supervision(remote, short_protocol, tmp_path) -> None:
    assert remote.use_supervisor("remote") == "remote"
    asked: list[Question] = []

    def decide(question: Question) -> Answer:
        asked.append(question)
        return Answer(action="accept", note="remote client")

    lines: list[str] = []
    remote.autolamella([SITE], protocol=short_protocol, experiment=str(tmp_path / "exp"))
    answered = remote.supervise(decide, timeout_s=240, on_line=lines.append)
    remote.use_supervisor("automatic")

    item = remote.history()[-1]
    assert item["name"] == "autolamella"
    assert item["result"]["exit_status"] == "completed", item["result"]
    exp = Experiment.load(tmp_path / "exp")
    assert exp.lamellae[SITE].stages_done == ["select", "setup"]
    assert exp.lamellae[SITE].failed is None
    # Every question reached the client and was answered there.
    assert answered == len(asked) >= 2
    assert {q.kind for q in asked} >= {"point", "patterns"}
    assert any(line.startswith("SUPERVISOR-QUESTION") for line in lines)
    # The session's progress lines reached the client: one per run, with its outcome.
    assert any("run_milling" in line and SITE in line for line in lines), lines
    assert any(line.strip().startswith("success") for line in lines)
    assert len(item["result"]["run_uids"]) >= 4


def _wait_for_line(remote, text: str, timeout_s: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while not any(text in line for line in seen):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no console line with {text!r} in {timeout_s} s: {seen[-5:]}")
        seen += remote.progress()
        time.sleep(0.1)
    return seen


def test_pause_resume_abort_through_the_api(remote, short_protocol, tmp_path) -> None:
    remote.progress()  # forget earlier lines
    remote.autolamella([SITE], protocol=short_protocol, experiment=str(tmp_path / "exp"))
    _wait_for_line(remote, "run_milling", 120)

    remote.pause(immediate=True)
    remote.api.wait_for_idle_or_paused(timeout=60)
    status = remote.status()
    assert status["manager_state"] == "paused" and status["re_state"] == "paused"

    remote.resume()
    remote.api.wait_for_condition(lambda s: s["manager_state"] == "executing_queue", timeout=30)
    remote.pause(immediate=True)
    remote.api.wait_for_idle_or_paused(timeout=60)
    remote.abort()
    remote.wait_idle(timeout_s=60)

    item = remote.history()[-1]
    assert item["result"]["exit_status"] == "aborted", item["result"]
    lam = Experiment.load(tmp_path / "exp").lamellae[SITE]
    assert "setup" not in lam.stages_done
    assert lam.history[-1].outcome == "interrupted", lam.history
    assert remote.status()["worker_environment_exists"]  # ready for the next plan
