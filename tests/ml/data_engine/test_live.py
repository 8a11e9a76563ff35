"""The data engine subscribed to a real RunEngine on the twin: frames, provenance,
detections and the supervisor's answers end up in the dataset."""

from __future__ import annotations

from urllib.parse import urlparse

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import h5py
import numpy as np
import pytest
import tifffile

from fibsem_ophyd.supervision import Answer, CallbackSupervisor
from ml.data_engine import DETECTIONS_CSV, SUPERVISION_CSV, DataEngine, read_rows
from ml.layout import IMAGES_DIR, KEYPOINTS_CSV, METADATA_COLUMNS, METADATA_CSV
from plans._md import plan_md
from plans._run import run_decorator
from plans.imaging import read_image
from plans.supervision import SupervisorAbort

from .conftest import SITE, images_run, site_run


@pytest.fixture
def engine(RE, tmp_path):
    engine = DataEngine(tmp_path / "dataset")
    RE.subscribe(engine)
    yield engine
    engine.close()


@pytest.fixture
def docs(RE):
    collected: list[tuple[str, dict]] = []
    RE.subscribe(lambda name, doc: collected.append((name, doc)))
    return collected


def _hfw(RE, beam) -> float:
    return RE(bps.rd(beam.hfw_m)).plan_result


def test_a_run_of_frames_is_in_the_dataset_with_its_provenance(RE, small_microscope, engine, docs):
    m = small_microscope
    md = {"lamella": SITE, "workflow_stage": "rough", "experiment": "exp-A"}
    (uid,) = RE(images_run(m, "ion", 3, md)).run_start_uids
    (added,) = engine.flush()
    assert (added.uid, added.written, added.images) == (uid, True, 3)

    root = engine.dataset.root
    rows = read_rows(root / METADATA_CSV)
    assert set(METADATA_COLUMNS) <= set(rows[0])
    assert [int(r["seq_num"]) for r in rows] == [1, 2, 3]
    pixel_m = _hfw(RE, m.ion_beam) / 384
    for r in rows:
        where = (r["beam"], r["site"], r["stage"], r["experiment"])
        assert where == ("ion", SITE, "rough", "exp-A")
        assert (r["run_uid"], r["source"]) == (uid, f"run:{uid}")
        assert (int(r["height_px"]), int(r["width_px"])) == (256, 384)
        assert float(r["pixel_size_m"]) == pytest.approx(pixel_m, rel=1e-12)
        assert (r["review"], r["flag"]) == ("", "")  # nobody was asked
    # The images are the frames the detector wrote, in order.
    (resource,) = [d for n, d in docs if n == "stream_resource"]
    with h5py.File(urlparse(resource["uri"]).path, "r", swmr=True) as f:
        written = f[resource["parameters"]["dataset"]][()]
    stored = np.stack([tifffile.imread(root / IMAGES_DIR / r["image"]) for r in rows])
    assert stored.dtype == np.uint8
    np.testing.assert_array_equal(stored, written)
    assert engine.seconds_after_stop[uid] < 2.0


def test_corrected_detection_is_flagged_for_training_accepted_for_testing(
    RE, small_microscope, engine, docs
):
    m = small_microscope
    move = Answer(action="move", dx_m=0.8e-6, dy_m=0.4e-6, note="the site is right and up")
    answers = iter([move, Answer(action="accept")])
    m.supervisor.use(CallbackSupervisor(lambda question: next(answers)))
    md = {"lamella": SITE, "workflow_stage": "select"}
    RE(site_run(m, "electron", md))
    RE(site_run(m, "ion", md))
    engine.flush()

    root = engine.dataset.root
    sem, fib = read_rows(root / METADATA_CSV)
    assert (sem["beam"], sem["review"], sem["flag"]) == ("electron", "corrected", "train")
    assert (fib["beam"], fib["review"], fib["flag"]) == ("ion", "accepted", "test")
    # The model's position and the one kept: the detection moved by the correction.
    events = [d for n, d in docs if n == "event" and "sem_features-x_px" in d["data"]]
    x, y = events[0]["data"]["sem_features-x_px"], events[0]["data"]["sem_features-y_px"]
    pixel_m = _hfw(RE, m.electron_beam) / 384
    detections = read_rows(root / DETECTIONS_CSV)
    assert detections[0]["feature"] == "LamellaCentre"
    assert float(detections[0]["x_px"]) == pytest.approx(x, abs=1e-9)
    keypoints = {k["image"]: k for k in read_rows(root / KEYPOINTS_CSV)}
    kept = keypoints[sem["image"]]
    assert float(kept["x_px"]) == pytest.approx(x + 0.8e-6 / pixel_m, abs=1e-6)
    assert float(kept["y_px"]) == pytest.approx(y - 0.4e-6 / pixel_m, abs=1e-6)  # y up
    fib_event = next(d for n, d in docs if n == "event" and "fib_features-x_px" in d["data"])
    assert float(keypoints[fib["image"]]["x_px"]) == pytest.approx(
        fib_event["data"]["fib_features-x_px"], abs=1e-9
    )
    answered = read_rows(root / SUPERVISION_CSV)
    assert [(a["action"], a["image"]) for a in answered] == [
        ("move", sem["image"]),
        ("accept", fib["image"]),
    ]
    assert answered[0]["note"] == "the site is right and up"
    assert (answered[0]["site"], answered[0]["stage"]) == (SITE, "select")


def test_an_aborted_detection_is_rejected_and_keeps_no_keypoint(RE, small_microscope, engine):
    m = small_microscope
    m.supervisor.use(CallbackSupervisor(lambda q: Answer(action="abort", note="not a site")))
    with pytest.raises(SupervisorAbort):
        RE(site_run(m, "electron", {"lamella": SITE, "workflow_stage": "select"}))
    engine.flush()
    root = engine.dataset.root
    (row,) = read_rows(root / METADATA_CSV)
    assert (row["review"], row["flag"], row["exit_status"]) == ("rejected", "", "fail")
    assert read_rows(root / KEYPOINTS_CSV) == []
    (detection,) = read_rows(root / DETECTIONS_CSV)
    assert detection["action"] == "abort" and detection["kept_x_px"] == ""


def test_a_session_with_a_dataset_adds_every_run(tmp_path):
    from plans import acquire_image
    from profiles.session import start_session

    s = start_session(store=False, progress=False, dataset_dir=tmp_path / "ds")
    try:
        md = {"site": "lamella_03"}
        (uid,) = s.RE(acquire_image(s.microscope, "electron", md=md)).run_start_uids
    finally:
        s.close()  # finishes the runs already stopped
    (row,) = read_rows(tmp_path / "ds" / METADATA_CSV)
    assert (row["run_uid"], row["site"], row["beam"]) == (uid, "lamella_03", "electron")
    assert (tmp_path / "ds" / IMAGES_DIR / row["image"]).is_file()


def test_frames_are_written_while_the_run_goes_on(RE, small_microscope, engine):
    m = small_microscope
    images = engine.dataset.images_dir
    during: list[tuple[list[str], bool]] = []

    @bpp.stage_decorator([m.fib])
    @run_decorator(md=plan_md(m, "streamed", {}, {"lamella": SITE}))
    def run():
        yield from read_image(m, "ion")
        for _ in range(100):  # up to 10 s for the engine's thread to write it
            # (written to a hidden temporary file, then renamed: wait for the rename)
            if images.exists() and any(p.suffix == ".tif" for p in images.iterdir()):
                break
            yield from bps.sleep(0.1)
        metadata = (engine.dataset.root / METADATA_CSV).exists()
        during.append((sorted(p.name for p in images.iterdir()), metadata))
        yield from read_image(m, "ion")

    (uid,) = RE(run()).run_start_uids
    engine.flush()
    assert during == [([f"{uid}_primary_fib_0001.tif"], False)]  # rows come at the stop
    assert len(read_rows(engine.dataset.root / METADATA_CSV)) == 2
