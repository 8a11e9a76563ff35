"""The data folder is private to the user: folders 0700, files 0600 (catalog, frames,
journals, logs, server files), even under a permissive umask, unless configured shared."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from bluesky import RunEngine
from bluesky.plans import count

from fibsem_ophyd.storage import EmbeddedStore, StorageSettings
from fibsem_ophyd.storage._journal import RunJournal


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask that would make every new file world-readable (0644 / 0755)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _readable_by_others(root: Path) -> list[str]:
    found = [] if not _mode(root) & 0o077 else [f"{root} {_mode(root):o}"]
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if not path.is_symlink() and _mode(path) & 0o077:
                found.append(f"{path.relative_to(root)} {_mode(path):o}")
    return found


def test_everything_the_store_writes_is_private(
    tmp_path: Path, loose_umask: None, RE: RunEngine, detector_for
) -> None:
    data = tmp_path / "data"
    (data / "frames" / "old").mkdir(parents=True, mode=0o755)
    (data / "frames" / "old" / "frame.h5").write_bytes(b"")  # 0644, from an older version
    os.chmod(data, 0o755)
    store = EmbeddedStore(data_dir=data).start()
    try:
        det = detector_for(store)
        store.subscribe(RE)
        (uid,) = RE(count([det], num=2))
        store.flush()
        assert len(store.client()[uid]["primary"]) > 0
        s = store.settings
        frames = [p for p in s.frames_dir.rglob("*.h5") if p.parent == s.frames_dir]
        assert frames, "the run wrote no frame file"
        for path in (s.data_dir, s.frames_dir, s.writable_dir, s.logs_dir, s.journal_dir):
            assert _mode(path) == 0o700, path
        files = [s.catalog_path, s.api_key_path, s.server_file, *frames]
        files += [s.logs_dir / "server.log", s.logs_dir / "fibsem-ophyd.log"]
        for path in files:
            assert _mode(path) == 0o600, path
        assert _mode(data / "frames" / "old" / "frame.h5") == 0o600  # tightened at start
        assert _readable_by_others(data) == []  # nothing else slipped through either
    finally:
        store.stop()
    assert _readable_by_others(data) == []


def test_journal_is_private(tmp_path: Path, loose_umask: None) -> None:
    journal = RunJournal(tmp_path, "run-1")
    journal.append("start", {"uid": "run-1"})
    assert _mode(journal.path) == 0o600
    journal.close()


def test_shared_setting_leaves_modes_to_the_umask(tmp_path: Path, loose_umask: None) -> None:
    settings = StorageSettings(data_dir=tmp_path / "data", private=False)
    settings.make_dirs()
    provider = EmbeddedStore(settings).path_provider("det")
    journal = RunJournal(settings.journal_dir, "run-1", private=False)
    assert _mode(settings.data_dir) == 0o755 and _mode(settings.frames_dir) == 0o755
    assert _mode(provider(None).directory_path) == 0o755
    assert _mode(journal.path) == 0o644
    journal.close()
    assert StorageSettings(data_dir=tmp_path).private  # private unless configured otherwise
