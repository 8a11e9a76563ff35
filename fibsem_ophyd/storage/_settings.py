"""Where the embedded store keeps its files, its API key, and its log."""

from __future__ import annotations

import logging
import logging.handlers
import os
import secrets
import stat
import tempfile
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._private import PrivateRotatingFileHandler, make_dir

DATA_ENV_VAR = "FIBSEM_OPHYD_DATA"
# The catalog database reaches the server process through its environment (not argv,
# which other users can see: a database URI may hold a password).
CATALOG_ENV_VAR = "FIBSEM_OPHYD_CATALOG_URI"
CATALOG_SCHEMES = ("sqlite", "postgresql")
LOCALHOST = "127.0.0.1"
LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5

logger = logging.getLogger("fibsem_ophyd.storage")


def default_data_dir() -> Path:
    """`$FIBSEM_OPHYD_DATA` if set, else the platform's user data folder."""
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("fibsem-ophyd"))


class StorageSettings(BaseModel):
    """Settings of the default data store.

    With `uri` (and `api_key`) set, the store connects to that tiled server
    (a facility's) and starts nothing; otherwise it serves `data_dir` on
    127.0.0.1. An explicit `data_dir` wins over `$FIBSEM_OPHYD_DATA`, which
    wins over the platform default.

    `private` (default True): the data folder and everything the store writes
    in it (catalog, frames, journals, logs) is readable by this user only —
    folders 0700, files 0600 — and modes found looser are tightened at start.
    False leaves modes to the umask of each process (e.g. for a group-readable
    folder); the API key file is always 0600.
    """

    model_config = ConfigDict(frozen=True)

    data_dir: Path = Field(default_factory=default_data_dir)
    port: int = Field(0, ge=0, le=65535, description="0 picks a free port")
    uri: str | None = Field(None, description="a remote tiled server; nothing is started")
    api_key: str | None = Field(None, description="key for `uri`; local key lives in a file")
    journal: bool = True
    fsync_every_document: bool = Field(
        False, description="fsync each journal line (power-loss safety; costs ms per frame)"
    )
    startup_timeout_s: float = 60.0
    private: bool = Field(True, description="folders 0700 and files 0600 (owner only)")
    catalog_uri: str | None = Field(
        None,
        description="the catalog database: None for SQLite in data_dir, or "
        "postgresql://user[:password]@host:port/database (frames stay in data_dir)",
    )

    @field_validator("catalog_uri")
    @classmethod
    def _known_database(cls, uri: str | None) -> str | None:
        if uri is not None and uri.split(":", 1)[0].split("+", 1)[0] not in CATALOG_SCHEMES:
            raise ValueError(
                f"catalog_uri: {uri.split(':', 1)[0]!r} is not a catalog database; "
                f"allowed: {', '.join(s + '://...' for s in CATALOG_SCHEMES)}"
            )
        return uri

    @property
    def catalog_database(self) -> str:
        """The catalog's database URI (SQLite in `data_dir` unless `catalog_uri`)."""
        return self.catalog_uri or f"sqlite:///{self.catalog_path}"

    @property
    def remote(self) -> bool:
        return self.uri is not None

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.db"

    @property
    def frames_dir(self) -> Path:
        return self.data_dir / "frames"

    @property
    def writable_dir(self) -> Path:
        return self.data_dir / "writable"

    @property
    def journal_dir(self) -> Path:
        return self.data_dir / "journal"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def api_key_path(self) -> Path:
        return self.data_dir / "api_key"

    @property
    def browse_key_path(self) -> Path:
        """A second key, read-only: for browsing (tiled's web UI); see `_browse.py`."""
        return self.data_dir / "browse_key"

    @property
    def server_file(self) -> Path:
        return self.data_dir / "server.json"

    @property
    def leases_dir(self) -> Path:
        """One lease file per session using the local server (see `_lease.py`)."""
        return self.data_dir / "leases"

    def make_dirs(self) -> None:
        make_dir(self.data_dir, self.private)
        for folder in (
            self.frames_dir,
            self.writable_dir,
            self.journal_dir,
            self.logs_dir,
            self.leases_dir,
        ):
            make_dir(folder, self.private)


def ensure_api_key(path: Path) -> str:
    """Read the API key at `path`, creating it (0600, 256 random bits) the first time.

    A key file owned by someone else is refused; group/other permission bits
    are removed (and logged), since the key guards every image in the store.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written in full to a private temporary file, then linked into place:
        # a session starting at the same moment sees either no key or the whole
        # key, never an empty file (O_EXCL on the key itself left that window).
        fd, temporary = tempfile.mkstemp(prefix=".api_key.", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
            os.chmod(temporary, 0o600)
            os.link(temporary, path)
        except FileExistsError:
            pass  # another session made it first; use theirs
        else:
            logger.info("created API key file %s", path)
        finally:
            os.unlink(temporary)
    info = path.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise PermissionError(f"API key file {path} is not owned by this user; refusing it")
    if stat.S_IMODE(info.st_mode) & 0o077:
        logger.warning("API key file %s was readable by others; setting mode 0600", path)
        os.chmod(path, 0o600)
    key = path.read_text().strip()
    if len(key) < 32:
        raise ValueError(f"API key in {path} is too short; delete the file to make a new one")
    return key


def setup_logging(settings: StorageSettings, level: int = logging.INFO) -> logging.Handler:
    """Log `fibsem_ophyd` to `logs/fibsem-ophyd.log` (rotating, 5 MB x 5). Idempotent."""
    make_dir(settings.logs_dir, settings.private)
    log_file = str(settings.logs_dir / "fibsem-ophyd.log")
    root = logging.getLogger("fibsem_ophyd")
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler) and (
            handler.baseFilename == os.path.abspath(log_file)
        ):
            return handler
    kind = PrivateRotatingFileHandler if settings.private else logging.handlers.RotatingFileHandler
    handler = kind(log_file, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s")
    )
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return handler
