"""Broken files at recovery: a corrupt journal entry, an unreadable journal, a truncated
HDF5 frame file. Each is reported with its run's uid and skipped; none stops the others
from being recovered (so none blocks the store's start-up, which runs `recover`)."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlparse

from bluesky.plans import count

from fibsem_ophyd.storage import EmbeddedStore, read_images
from fibsem_ophyd.storage._journal import dumps, pending_journals, read_journal
from fibsem_ophyd.storage._recover import recover


def test_corrupt_journal_entries_are_skipped_and_named(tmp_path: Path, caplog) -> None:
    path = tmp_path / "run-7.jsonl"
    lines = [
        dumps("start", {"uid": "run-7", "time": 0.0}).encode(),
        b"\xff\xfe not utf-8",
        b'{"name": "event"}',  # no doc
        b'{"name": 3, "doc": {}}',  # not a document entry
        b"[1, 2]",
        dumps("stop", {"uid": "s", "run_start": "run-7", "time": 1.0}).encode(),
        b'{"name": "ev',  # torn by a kill
    ]
    path.write_bytes(b"\n".join(lines))
    with caplog.at_level(logging.WARNING, logger="fibsem_ophyd.storage"):
        docs = read_journal(path)
    assert [name for name, _ in docs] == ["start", "stop"]
    skipped = [r.getMessage() for r in caplog.records if "corrupt" in r.getMessage()]
    assert len(skipped) == 5
    assert all(m.startswith("run run-7: ") for m in skipped)
    assert [int(m.split(" line ")[1].split()[0]) for m in skipped] == [2, 3, 4, 5, 7]


def test_broken_journals_and_frames_never_block_recovery(
    shared_store: EmbeddedStore, RE, det, tmp_path: Path, caplog
) -> None:
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    runs: list[list[tuple[str, dict]]] = []
    for _ in range(2):
        runs.append([])
        RE(count([det], num=2), lambda name, doc: runs[-1].append((name, doc)))
    good, truncated = (docs[0][1]["uid"] for docs in runs)
    # `good`: a whole run whose writer never reached tiled
    (journal_dir / f"{good}.jsonl").write_text("".join(dumps(n, d) + "\n" for n, d in runs[0]))
    # `truncated`: killed before its stop, and its HDF5 file cut short
    killed = [(n, d) for n, d in runs[1] if n != "stop"]
    (journal_dir / f"{truncated}.jsonl").write_text("".join(dumps(n, d) + "\n" for n, d in killed))
    resource = next(d for n, d in killed if n == "stream_resource")
    frames = Path(urlparse(resource["uri"]).path)
    frames.write_bytes(frames.read_bytes()[:2048])
    # `garbage`: not a journal at all
    (journal_dir / "garbage-run.jsonl").write_bytes(b"\x00\x01\x02 not json\n")

    client = shared_store.client().include_data_sources()
    with caplog.at_level(logging.WARNING, logger="fibsem_ophyd.storage"):
        recovered = recover(client, journal_dir)  # returns: nothing raised
    assert good in recovered
    run = read_images(shared_store.client(), good)
    assert run.stop is not None and run.images["det"].shape[0] == 2
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert f"run {truncated}: frame file {resource['uri']} is unreadable" in messages
    assert truncated in recovered  # without its frames, with everything else
    cut = read_images(shared_store.client(), truncated)
    assert cut.stop is not None and cut.stop["exit_status"] == "abort"
    assert "det" not in cut.images
    assert "run garbage-run: journal" in messages and "no start document" in messages
    assert (journal_dir / "unreadable" / "garbage-run.jsonl").exists()
    left = {p.stem for p in pending_journals(journal_dir)}
    assert good not in left and "garbage-run" not in left
