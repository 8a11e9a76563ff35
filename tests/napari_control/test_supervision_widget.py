"""The supervision widget answers a running plan's questions from the keyboard; the
answer is what the plan receives and is event data of its run."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

from fibsem_ophyd.milling import default_protocol, milling_stages
from fibsem_ophyd.supervision import AutoSupervisor, Question
from ml.data_engine import SUPERVISION_CSV, DataEngine, read_rows
from napari_plugins.control import InProcessRunner, PlanRequest
from napari_plugins.control.catalogue import CATALOGUE
from napari_plugins.supervision._qt.widget import PATTERNS, PROPOSAL, SupervisionWidget
from plans.supervision import ask_in_run
from plans.workflow import _supervise_patterns

from .conftest import save_screenshot

STAGES = milling_stages(default_protocol(), "rough")


def _catalogue():
    point = Question(kind="point", site="lamella_01", stage="select", beam="ion",
                     message="site centre in the ion image", proposal_x_m=3e-6,
                     proposal_y_m=-1e-6, problem="score 0.41 below 0.5")  # fmt: skip
    return {
        **CATALOGUE,
        "supervised_patterns": lambda m: _supervise_patterns(m, "lamella_01", "rough", STAGES),
        "point_question": lambda m: ask_in_run(m, point),
    }


def _key(qtbot, viewer, key):
    """A key pressed with the focus on the canvas, where it is after editing a layer."""
    canvas = viewer.window._qt_viewer.canvas.native
    canvas.setFocus()
    qtbot.keyClick(canvas, key)


def test_supervision_keyboard_accept_reset_abort(viewer, qtbot, twin, tmp_path):
    RE, m = twin
    runner = InProcessRunner(RE, m, catalogue=_catalogue())
    docs: list[tuple[str, dict]] = []
    runner.subscribe(lambda name, doc: docs.append((name, doc)))
    engine = DataEngine(tmp_path / "dataset")  # what a session's data engine receives
    runner.subscribe(engine)
    widget = SupervisionWidget(viewer, runner)
    viewer.window.add_dock_widget(widget, name="Supervision")
    outcomes = []
    try:
        runner.submit(PlanRequest("set_and_acquire", {"beam": "ion", "resolution": "384x256"}))
        runner.submit(PlanRequest("supervised_patterns"), outcomes.append)
        qtbot.waitUntil(lambda: widget.question is not None, timeout=60_000)
        assert "rough" in widget.title.text()
        layer = viewer.layers[PATTERNS]
        n_outlines = sum(len(p.shapes()) for s in STAGES for p in s.patterns)
        assert len(layer.data) == n_outlines > 0
        proposed = [d.copy() for d in layer.data]
        save_screenshot(viewer, widget, "supervision", tmp_path)

        # a drag that goes wrong, undone with R
        layer.data = [d + np.array([0.0, 7e-6]) for d in layer.data]
        _key(qtbot, viewer, Qt.Key.Key_R)
        for a, b in zip(viewer.layers[PATTERNS].data, proposed, strict=True):
            assert a == pytest.approx(b)
        # all patterns dragged 2 µm right and 1 µm down (world rows grow downwards)
        layer = viewer.layers[PATTERNS]
        layer.data = [d + np.array([1e-6, 2e-6]) for d in layer.data]
        _key(qtbot, viewer, Qt.Key.Key_Return)
        runner.wait_idle(60)
        qtbot.waitUntil(lambda: bool(outcomes))
        assert outcomes[0].ok, outcomes[0].error
        moved = outcomes[0].result
        for before, after in zip(STAGES, moved, strict=True):
            for p, q in zip(before.patterns, after.patterns, strict=True):
                assert q.x_m - p.x_m == pytest.approx(2e-6, rel=1e-6)
                assert q.y_m - p.y_m == pytest.approx(-1e-6, rel=1e-6)
        supervision = _events(docs, "supervision")
        assert supervision[-1]["supervisor-action"] == "move"
        assert supervision[-1]["supervisor-dx_m"] == pytest.approx(2e-6, rel=1e-6)
        assert Question.model_validate_json(supervision[-1]["supervisor-asked"]).patterns
        assert PATTERNS not in viewer.layers  # cleared once answered

        # a point question with a problem: the proposed point is shown where the plan
        # put it; dragged 1 µm right and Return: the plan receives that correction
        runner.submit(PlanRequest("point_question"), outcomes.append)
        qtbot.waitUntil(lambda: widget.question is not None, timeout=60_000)
        assert "0.41" in widget.problem.text()
        (point,) = viewer.layers[PROPOSAL].data
        cy, cx = widget.context.presenter.centre("fib")
        assert point[1] - cx == pytest.approx(3e-6) and cy - point[0] == pytest.approx(-1e-6)
        viewer.layers[PROPOSAL].data = [point + np.array([0.0, 1e-6])]
        _key(qtbot, viewer, Qt.Key.Key_Return)
        runner.wait_idle(60)
        qtbot.waitUntil(lambda: len(outcomes) == 2)
        answer = outcomes[1].result
        assert (answer.action, answer.dx_m, answer.dy_m) == ("move", pytest.approx(1e-6), 0.0)
        assert _events(docs, "supervision")[-1]["supervisor-dx_m"] == pytest.approx(1e-6)

        # asked again, left as proposed: Return accepts; then Escape aborts the plan
        runner.submit(PlanRequest("point_question"), outcomes.append)
        qtbot.waitUntil(lambda: widget.question is not None, timeout=60_000)
        _key(qtbot, viewer, Qt.Key.Key_Return)
        runner.submit(PlanRequest("point_question"), outcomes.append)
        qtbot.waitUntil(lambda: len(outcomes) == 3 and widget.question is not None)
        assert outcomes[2].result.action == "accept"
        _key(qtbot, viewer, Qt.Key.Key_Escape)
        runner.wait_idle(60)
        qtbot.waitUntil(lambda: len(outcomes) == 4)
        assert not outcomes[3].ok and "supervisor aborted" in outcomes[3].error
        assert [e["supervisor-action"] for e in _events(docs, "supervision")] == [
            "move", "move", "accept", "abort"]  # fmt: skip
        # the answers reach the data engine (supervision.csv), corrections included
        engine.flush()
        rows = read_rows(tmp_path / "dataset" / SUPERVISION_CSV)
        expected = [
            ("patterns", "move"),
            ("point", "move"),
            ("point", "accept"),
            ("point", "abort"),
        ]
        assert [(r["kind"], r["action"]) for r in rows] == expected
        assert float(rows[1]["dx_m"]) == pytest.approx(1e-6)
    finally:
        runner.close()
        engine.close()
        m.supervisor.use(AutoSupervisor())


def _events(docs, stream):
    uids = {d["uid"] for n, d in docs if n == "descriptor" and d["name"] == stream}
    return [d["data"] for n, d in docs if n == "event" and d["descriptor"] in uids]
