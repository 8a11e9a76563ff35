"""Settings, API key file and logging of the embedded store (no server needed)."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from fibsem_ophyd.storage import StorageSettings, ensure_api_key, setup_logging


def test_api_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "api_key"
    key = ensure_api_key(path)
    assert len(key) == 64 and int(key, 16) >= 0  # 256 random bits, hex
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_api_key(path) == key


def test_looser_key_permissions_are_repaired(tmp_path: Path) -> None:
    path = tmp_path / "api_key"
    key = ensure_api_key(path)
    path.chmod(0o644)
    assert ensure_api_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_short_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "api_key"
    path.write_text("secret")
    path.chmod(0o600)
    with pytest.raises(ValueError, match="too short"):
        ensure_api_key(path)


def test_data_dir_default_env_and_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIBSEM_OPHYD_DATA", raising=False)
    assert "fibsem-ophyd" in str(StorageSettings().data_dir)
    monkeypatch.setenv("FIBSEM_OPHYD_DATA", str(tmp_path / "env"))
    settings = StorageSettings()
    assert settings.data_dir == tmp_path / "env"
    assert settings.catalog_path == tmp_path / "env" / "catalog.db"
    assert settings.frames_dir == tmp_path / "env" / "frames"
    assert StorageSettings(data_dir=tmp_path / "x").data_dir == tmp_path / "x"


def test_setup_logging_writes_a_rotating_file(tmp_path: Path) -> None:
    settings = StorageSettings(data_dir=tmp_path)
    handler = setup_logging(settings)
    try:
        assert setup_logging(settings) is handler  # idempotent
        assert isinstance(handler, logging.handlers.RotatingFileHandler)
        assert handler.maxBytes == 5 * 1024 * 1024 and handler.backupCount == 5
        logging.getLogger("fibsem_ophyd.storage").warning("hello from the test")
        handler.flush()
        assert "hello from the test" in (tmp_path / "logs" / "fibsem-ophyd.log").read_text()
    finally:
        logging.getLogger("fibsem_ophyd").removeHandler(handler)
        handler.close()


def test_catalog_database_defaults_to_sqlite_and_refuses_unknown_kinds(tmp_path: Path) -> None:
    assert StorageSettings(data_dir=tmp_path).catalog_database == f"sqlite:///{tmp_path}/catalog.db"
    pg = "postgresql://fibsem@127.0.0.1:5432/runs"
    assert StorageSettings(data_dir=tmp_path, catalog_uri=pg).catalog_database == pg
    with pytest.raises(ValueError, match=r"catalog_uri: 'mysql' .*allowed: sqlite://"):
        StorageSettings(data_dir=tmp_path, catalog_uri="mysql://u@h/db")
