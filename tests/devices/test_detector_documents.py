"""SEM/FIB detectors through a real RunEngine: HDF5 frames, StreamResource/StreamDatum,
schema-valid documents, beam settings in the configuration, fingerprint in start."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
from bluesky.plans import count
from event_model import DocumentNames, schema_validators


def _collect(RE, plan):
    docs: list[tuple[str, dict]] = []
    RE(plan, lambda name, doc: docs.append((name, doc)))
    return docs


def test_count_writes_frames_and_valid_documents(RE, microscope, frames_dir: Path):
    m = microscope
    docs = _collect(RE, count([m.sem, m.fib], num=3, md=m.run_metadata()))
    for name, doc in docs:
        schema_validators[DocumentNames(name)].validate(doc)
    names = [n for n, _ in docs]
    assert names.count("stream_resource") == 2
    assert "event" in names
    assert not any(np.ndim(v) >= 2 for n, d in docs if n == "event" for v in d["data"].values()), (
        "frames must be external data, not inline arrays"
    )
    start = next(d for n, d in docs if n == "start")
    assert start["fingerprint"]["manufacturer"] == "Demo"

    # The frames on disk: 3 per detector, the configured resolution, not blank.
    files = sorted(frames_dir.glob("*.h5"))
    assert len(files) == 2
    for f in files:
        with h5py.File(f, "r") as h5:
            data = h5["/entry/data/data"][()]
        assert data.shape == (3, 1024, 1536)
        assert data.dtype == np.uint8
        assert data.std() > 5

    # Datums cover all three frames of each detector.
    datum_ranges = [d["indices"] for n, d in docs if n == "stream_datum"]
    covered = sum(r["stop"] - r["start"] for r in datum_ranges)
    assert covered == 6

    # The descriptor's configuration records how the SEM image was taken.
    desc = next(d for n, d in docs if n == "descriptor")
    sem_cfg = desc["configuration"][m.sem.name]["data"]
    hfw_key = next(k for k in sem_cfg if k.endswith("hfw_m"))
    pixel_key = next(k for k in sem_cfg if k.endswith("pixel_size_m"))
    assert np.isclose(sem_cfg[pixel_key], sem_cfg[hfw_key] / 1536)


def test_resolution_change_applies_to_next_run(RE, microscope, frames_dir):
    from bluesky import plan_stubs as bps

    m = microscope
    RE(bps.mv(m.electron_beam.resolution, "768x512"))
    _collect(RE, count([m.sem], num=1))
    (f,) = frames_dir.glob("*.h5")
    with h5py.File(f, "r") as h5:
        assert h5["/entry/data/data"].shape == (1, 512, 768)
