"""Model guidance (profiles/guidance.py): a keypoint model's feature stands in for a
classical finder. Its detections carry the model's id into the run's documents, and the
workflows' checks judge them as they judge classical ones: a far-off or wrong model
detection is refused, never used. Without guidance the finders are the classical ones."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import numpy as np
import pytest

from fibsem_ophyd.geometry import chamber_to_image
from ml.detection.model_keypoints import ModelKeypoints, file_sha256
from ml.segmentation.shipped import (
    averaging_setup,
    load_shipped_model,
    shipped_info,
    shipped_model_path,
)
from plans.manipulator import ManipulatorCalibrationFailed, calibrate_manipulator
from plans.site_finding import centre_in_beam
from plans.stubs import call
from plans.supervision import SupervisorAbort
from profiles.detectors import wire_detectors
from profiles.guidance import MODEL_FEATURES, ModelFinder, guide_with_model
from profiles.session import start_session

from ._scope import scope

TIP_OFFSET_M = (2e-6, -1e-6, 1e-6)  # the twin's hidden needle miss


class FarOff:
    """A keypoint source sure (score 0.95) of every feature near the image's top-left
    corner, whatever the image shows."""

    features = ("NeedleTip", "LandingPost", "LamellaCentre")
    model_id = "test:far-off"

    def __init__(self) -> None:
        self.calls = 0
        self.hints: list[dict] = []

    def __call__(self, image, pixel_size_m, near_px, **hints):
        self.calls += 1
        self.hints.append(hints)
        return {f: (5.0, 5.0, 0.95) for f in self.features}


def _twin(frames_dir, **wiring):
    m = scope(frames_dir, twin={"manipulator_tip_offset_m": TIP_OFFSET_M})
    wire_detectors(m, **wiring)
    return m


def _tip_miss_m(m) -> float:
    """The true tip's largest distance from the image centres (the twin's truth)."""
    w = m.backend.world.manipulator
    tip = np.array([w.x_m, w.y_m, w.z_m])
    return max(
        float(np.hypot(*chamber_to_image(tip, m.geometry.column_tilt_deg(beam))))
        for beam in ("electron", "ion")
    )


def _needle_events(docs):
    return [
        d["data"]
        for n, d in docs
        if n == "event" and ("sem_needle-x_px" in d["data"] or "fib_needle-x_px" in d["data"])
    ]


def test_the_shipped_model_guiding_the_needle_is_recorded_and_never_silently_trusted(
    RE, frames_dir
):
    path = shipped_model_path()
    model = ModelKeypoints(load_shipped_model(), file_sha256(path))
    m = _twin(frames_dir, model=model, model_targets=["needle"])
    docs: list[tuple[str, dict]] = []
    try:
        RE(calibrate_manipulator(m), lambda n, d: docs.append((n, d)))
    except ManipulatorCalibrationFailed as err:
        # Refused by the plan's own checks, with the reason.
        assert "detection" in str(err) or "not found" in str(err)
        assert not RE(bps.rd(m.manipulator.calibrated)).plan_result
    else:  # trusted: then a eucentric insertion truly puts the tip at the image centres
        RE(call(lambda: m.manipulator.insert("eucentric")))
        assert _tip_miss_m(m) < 1e-6
        RE(call(lambda: m.manipulator.retract()))
    events = _needle_events(docs)
    assert events
    expected = f"model NeedleTip {model.model_id}"
    assert model.model_id.startswith("sha256:")
    for data in events:
        beam = "sem" if "sem_needle-x_px" in data else "fib"
        assert data[f"{beam}_needle-finder_id"] == expected
    assert not m.backend.manipulator.inserted  # retracted, whatever the outcome


def test_a_far_off_model_needle_tip_is_refused(RE, frames_dir):
    source = FarOff()
    m = _twin(frames_dir, model=source, model_targets=["needle"])
    docs: list[tuple[str, dict]] = []
    with pytest.raises(ManipulatorCalibrationFailed, match="more than a miscalibration"):
        RE(calibrate_manipulator(m), lambda n, d: docs.append((n, d)))
    assert source.calls >= 1
    assert not RE(bps.rd(m.manipulator.calibrated)).plan_result
    assert not m.backend.manipulator.inserted
    (event,) = _needle_events(docs)  # the first detection already fails the check
    assert event["sem_needle-finder_id"] == "model NeedleTip test:far-off"
    assert event["sem_needle-x_px"] == 5.0


@pytest.mark.parametrize("target", ["landing_post", "landed_lamella"])
def test_a_far_off_model_site_is_retried_then_fails_and_the_stage_stays(RE, frames_dir, target):
    m = _twin(frames_dir, model=FarOff(), model_targets=[target])
    before = m.backend.world.true_pose()
    docs: list[tuple[str, dict]] = []

    @bpp.stage_decorator([m.sem])
    @bpp.run_decorator()
    def centre():
        yield from bps.mv(m.sem_features.target, target)
        yield from centre_in_beam(m, "electron", "lamella-1", "landing")

    with pytest.raises(SupervisorAbort, match="correction, more than the stage can be wrong"):
        RE(centre(), lambda n, d: docs.append((n, d)))
    assert m.backend.world.true_pose() == before  # never moved on it
    found = [d["data"] for n, d in docs if n == "event" and "sem_features-x_px" in d["data"]]
    assert len(found) == 3  # a fresh image, then a wider one, before the supervisor
    assert {d["sem_features-finder_id"] for d in found} == {
        f"model {MODEL_FEATURES[target]} test:far-off"
    }


def _finder_ids(m) -> set[str]:
    ids = {f.finder_id for d in (m.sem_features, m.fib_features) for f in d.finders.values()}
    return ids | {m.sem_needle.finder.finder_id, m.fib_needle.finder.finder_id}


def test_without_guidance_the_finders_are_classical_and_recorded_so(RE, frames_dir):
    m = _twin(frames_dir)
    classical = _finder_ids(m)
    assert all(i.startswith("classical ") for i in classical)
    assert "classical find_needle_tip" in classical
    # A model handed in with the default targets guides nothing (the shipped model
    # measures worse than the classical finders on every target).
    with_model = _twin(frames_dir, model=FarOff())
    assert _finder_ids(with_model) == classical
    # Guiding one target leaves the others classical.
    guided = _twin(frames_dir, model=FarOff(), model_targets=["landing_post"])
    assert isinstance(guided.fib_features.finders["landing_post"], ModelFinder)
    assert _finder_ids(guided) - classical == {"model LandingPost test:far-off"}
    # A classical detection records its finder in the event.
    docs: list[tuple[str, dict]] = []

    @bpp.stage_decorator([m.sem])
    @bpp.run_decorator()
    def detect():
        yield from bps.trigger(m.sem, wait=True)
        yield from bps.trigger_and_read([m.sem_features])

    RE(detect(), lambda n, d: docs.append((n, d)))
    (event,) = [d for n, d in docs if n == "event"]
    assert event["data"]["sem_features-finder_id"] == "classical find_grid_square_centre"


def test_bad_guidance_is_refused_by_name(RE, frames_dir):
    m = scope(frames_dir)
    with pytest.raises(ValueError, match=r"cannot guide \['grid_square'\]"):
        wire_detectors(m, model=FarOff(), model_targets=["grid_square"])
    with pytest.raises(ValueError, match="need a keypoint model"):
        wire_detectors(m, model_targets=["needle"])
    with pytest.raises(ValueError, match="needs a keypoint_model"):
        start_session(store=False, progress=False, model_guidance=["needle"])
    with pytest.raises(ValueError, match="gives no 'NeedleTip'"):
        ModelFinder(ModelKeypoints(load_shipped_model(), "x", ["LandingPost"]), "NeedleTip")


def test_a_session_guided_by_its_keypoint_model():
    path = shipped_model_path()
    session = start_session(
        store=False, progress=False, keypoint_model="shipped", model_guidance=["landing_post"]
    )
    try:
        m = session.microscope
        model_id = file_sha256(path)
        # run as measured: every frame reduced to the card's input widths, views averaged
        setup = averaging_setup(m.sem_keypoints.source.predictor)
        info = shipped_info()
        assert setup["input_widths_px"] == list(
            info.get("test_time_input_widths_px") or [info["input_size_px"][1]]
        )
        assert setup["flips"] == list(info.get("test_time_flips") or ["none"])
        assert m.sem_keypoints is not None
        assert _value(session, m.sem_keypoints.model_id) == model_id
        for features in (m.sem_features, m.fib_features):
            assert features.finders["landing_post"].finder_id == f"model LandingPost {model_id}"
            assert features.finders["landed_lamella"].finder_id == "classical find_landed_lamella"
        assert m.sem_needle.finder.finder_id == "classical find_needle_tip"
    finally:
        session.close()


def _value(session, signal):
    return session.RE(bps.rd(signal)).plan_result


class Fixed:
    """A finder (or keypoint source) answering the same point every time."""

    features = ("LandingPost",)
    model_id = "test:fixed"

    def __init__(self, x: float, y: float, score: float = 0.9) -> None:
        self.answer = (x, y, score)
        self.finder_id = f"classical fixed {x:g},{y:g}"
        self.calls = 0

    def __call__(self, image, pixel_size_m, near_px_or_scale):
        self.calls += 1
        if isinstance(near_px_or_scale, float):  # a finder: (image, pixel, vertical scale)
            return self.answer
        return {"LandingPost": self.answer}


def test_refinement_places_the_model_answer_only_where_the_two_agree():
    image = np.zeros((64, 96), np.uint8)
    model = Fixed(40.0, 30.0, 0.7)
    near = ModelFinder(model, "LandingPost", refine=Fixed(45.5, 38.25, 0.95), agree_px=25.0)
    assert near(image, 1e-7, 1.0) == (45.5, 38.25, 0.7)  # placed; the lower score
    assert near.finder_id == "model LandingPost test:fixed refined by classical fixed 45.5,38.25"
    far = ModelFinder(model, "LandingPost", refine=Fixed(80.0, 60.0, 0.95), agree_px=25.0)
    assert far(image, 1e-7, 1.0) == (40.0, 30.0, 0.7)  # the classical one is elsewhere
    lost = ModelFinder(model, "LandingPost", refine=Fixed(np.nan, np.nan, 0.0))
    assert lost(image, 1e-7, 1.0) == (40.0, 30.0, 0.7)
    with pytest.raises(ValueError, match="agree_px must be > 0"):
        ModelFinder(model, "LandingPost", refine=Fixed(1.0, 1.0), agree_px=0.0)


def test_a_far_off_model_is_not_rescued_by_refinement(RE, frames_dir):
    m = _twin(frames_dir, model=FarOff(), model_targets=["landing_post"], model_refinement=True)
    finder = m.sem_features.finders["landing_post"]
    assert isinstance(finder, ModelFinder) and finder.refine is not None
    refined = "model LandingPost test:far-off refined by classical find_landing_post"
    assert finder.finder_id == refined
    before = m.backend.world.true_pose()

    @bpp.stage_decorator([m.sem])
    @bpp.run_decorator()
    def centre():
        yield from bps.mv(m.sem_features.target, "landing_post")
        yield from centre_in_beam(m, "electron", "lamella-1", "landing")

    with pytest.raises(SupervisorAbort, match="correction, more than the stage can be wrong"):
        RE(centre())
    assert m.backend.world.true_pose() == before


def test_the_model_is_given_what_the_workflow_knows_of_its_target(RE, frames_dir):
    """As the classical finders are given the target's size, the model gets it as its
    hints: a post's size (its length foreshortened by the frame's vertical scale) and
    that it is seen from above; a landed lamella's length. The needle gets none."""
    source = FarOff()
    targets = ["needle", "landing_post", "landed_lamella"]
    m = _twin(
        frames_dir,
        model=source,
        model_targets=targets,
        chunk_size_m=(12e-6, 3e-6),
        post_size_m=(25e-6, 50e-6),
    )
    image = np.zeros((64, 96), np.uint8)
    m.fib_features.finders["landing_post"](image, 1e-7, 0.5)
    m.sem_features.finders["landing_post"](image, 1e-7, 1.0)
    m.sem_features.finders["landed_lamella"](image, 1e-7, 0.9)
    m.sem_needle.finder(image, 1e-7, 1.0)
    assert source.hints == [
        {"post_view": "top", "post_size_m": (25e-6, 25e-6)},
        {"post_view": "top", "post_size_m": (25e-6, 50e-6)},
        {"lamella_length_m": 12e-6},
        {},
    ]


def test_model_hints_are_checked_by_name():
    source = Fixed(1.0, 1.0)
    assert ModelFinder(source, "LandingPost").hints(0.5) == {}  # none set: none passed
    with pytest.raises(ValueError, match=r"post_view must be one of \('auto', 'top', 'side'\)"):
        ModelFinder(source, "LandingPost", post_view="above")
    with pytest.raises(ValueError, match=r"lamella_length_m must be a length in metres in \(0"):
        ModelFinder(source, "LandingPost", lamella_length_m=-1e-6)
    with pytest.raises(ValueError, match=r"post_size_m length must be a length in metres"):
        ModelFinder(source, "LandingPost", post_size_m=(20e-6, float("nan")))
    with pytest.raises(ValueError, match=r"post_size_m must be \(width, length\)"):
        ModelFinder(source, "LandingPost", post_size_m=20e-6)  # type: ignore[arg-type]


def test_a_bad_size_for_a_guided_target_is_refused_by_its_field(RE, frames_dir):
    m = _twin(frames_dir)
    classical = _finder_ids(m)
    guided = ["landing_post", "landed_lamella"]
    with pytest.raises(ValueError, match=r"chunk_size_m thickness must be a length in metres"):
        guide_with_model(m, FarOff(), guided, chunk_size_m=(10e-6, 0.0))
    assert _finder_ids(m) == classical  # nothing half-installed: landing_post came first
    with pytest.raises(ValueError, match=r"post_size_m must be \(width, length\)"):
        wire_detectors(m, model=FarOff(), model_targets=guided, post_size_m=(20e-6,))
