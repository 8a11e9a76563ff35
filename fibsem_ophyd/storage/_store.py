"""`EmbeddedStore`: the default data store — a local tiled server, or a configured one."""

from __future__ import annotations

import atexit
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._private import make_dir, restrict_tree
from ._process import ServerHandle
from ._settings import StorageSettings, ensure_api_key, setup_logging
from ._sharing import release_server, start_server

if TYPE_CHECKING:
    from ._writer import RunWritten

logger = logging.getLogger("fibsem_ophyd.storage")


class EmbeddedStore:
    """Serve (or connect to) the tiled catalog that every run is written to.

    >>> with EmbeddedStore() as store:
    ...     store.subscribe(RE)
    ...     (uid,) = RE(count([det], num=3))
    ...     store.flush()  # runs reach tiled in the background: wait before reading
    ...     run = store.client()[uid]

    Documents are journaled before the RunEngine's callback returns, and written
    to tiled by a background thread, so a run's close does not wait for tiled.
    `flush()` waits until everything emitted so far is in tiled; `stop()` (and
    interpreter exit) drain the same way.

    Sessions on one data folder share its server: the first starts it, the others
    adopt it, and it runs until the last of them stops (or dies). With
    `private` settings (the default) the folder and all it holds are 0700/0600.
    """

    def __init__(self, settings: StorageSettings | None = None, **overrides: Any):
        self.settings = settings or StorageSettings(**overrides)
        self._server: ServerHandle | None = None
        self._writers: list[Any] = []

    # -- lifecycle -------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.settings.remote or self._server is not None

    @property
    def api_key(self) -> str:
        if self.settings.remote:
            return self.settings.api_key or ""
        return ensure_api_key(self.settings.api_key_path)

    @property
    def browse_key(self) -> str:
        """The local server's read-only key (GET only), for browsing and the web UI."""
        if self.settings.remote:
            raise RuntimeError("a remote server's read-only keys come from its administrator")
        return ensure_api_key(self.settings.browse_key_path)

    def web_ui_url(self, path: str = "") -> str:
        """tiled's web UI at `path` (e.g. a run's uid), opened with the read-only key."""
        base = self.uri.removesuffix("/api/v1")
        return f"{base}/ui/browse/{path.strip('/')}?api_key={self.browse_key}"

    @property
    def uri(self) -> str:
        """The tiled API URI (without the key)."""
        if self.settings.uri is not None:
            return self.settings.uri
        if self._server is None:
            raise RuntimeError("the store is not started; call start() first")
        return f"{self._server.base_url}/api/v1"

    def start(self, recover: bool = True) -> EmbeddedStore:
        """Start (or adopt) the local server and wait until it answers; replay
        journals of killed runs when `recover`. Remote settings start nothing."""
        if self._server is not None:
            return self
        if self.settings.remote:
            if recover:
                self.recover()
            return self
        self.settings.make_dirs()
        if self.settings.private:
            restrict_tree(self.settings.data_dir)  # what older versions left readable
        setup_logging(self.settings)
        self._server = start_server(self.settings, self.api_key)  # holds a lease
        atexit.register(self.stop)
        if recover:
            self.recover()
        return self

    def stop(self, timeout_s: float = 60.0) -> None:
        """Write what the writers still hold to tiled (up to `timeout_s` each; the
        journals keep the rest), then give the server back: it is stopped if no
        other session uses it, whichever session started it."""
        for writer in self._writers:
            writer.close(timeout_s)
        server, self._server = self._server, None
        if server is not None:
            atexit.unregister(self.stop)
            release_server(self.settings, server)

    def __enter__(self) -> EmbeddedStore:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- use ---------------------------------------------------------------
    def client(self, structure_clients: str = "numpy") -> Any:
        """A tiled client of the catalog (a databroker `CatalogOfBlueskyRuns`)."""
        from tiled.client import from_uri

        return from_uri(
            self.uri,
            structure_clients=structure_clients,
            api_key=self.api_key,
            trust_env=self.settings.remote,  # never send 127.0.0.1 traffic to a proxy
        )

    def writer(self) -> Any:
        """A document callback writing runs to this store (journal + TiledWriter)."""
        from ._writer import DurableTiledWriter

        journal_dir = self.settings.journal_dir if self.settings.journal else None
        if journal_dir is not None:
            make_dir(journal_dir, self.settings.private)
        private = self.settings.private
        writer = DurableTiledWriter(
            self.client().include_data_sources(),
            journal_dir,
            self.settings.fsync_every_document,
            private_frames=self.settings.frames_dir if private else None,
            private_journal=private,
            # the local server is built without streaming or webhooks (_serve.py):
            # there, declaring a run's streams closed is a request each that does nothing
            close_streams=self.settings.remote,
        )
        self._writers.append(writer)
        return writer

    def flush(self, timeout_s: float = 60.0) -> None:
        """Wait until every document emitted so far is written to tiled (or, if a
        write failed, kept in its journal for `recover()`). Call it before reading
        back runs just taken. Raises TimeoutError if `timeout_s` passes first."""
        deadline = time.monotonic() + timeout_s
        for writer in self._writers:
            if not writer.flush(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(
                    f"{writer.pending} document(s) not written to tiled within {timeout_s} s"
                )

    def wait_for_run(self, run_uid: str, timeout_s: float = 60.0) -> RunWritten:
        """Wait until the run `run_uid` is written to tiled by this store's writer;
        returns when and whether it landed (`in_tiled` False: a write failed and the
        run waits in its journal for `recover()`). Raises TimeoutError after
        `timeout_s`, or at once if no writer of this store has seen the run start."""
        deadline = time.monotonic() + timeout_s
        for writer in self._writers:
            if writer.has_seen(run_uid):
                return writer.wait_for_run(run_uid, max(0.0, deadline - time.monotonic()))
        raise TimeoutError(f"run {run_uid}: no writer of this store has seen it start")

    def subscribe(self, RE: Any) -> int:
        """Write every run of `RE` to this store; returns the subscription token."""
        return RE.subscribe(self.writer())

    def recover(self) -> list[str]:
        """Replay journals of runs that never reached tiled; returns their uids."""
        from ._recover import recover

        if not self.settings.journal:
            return []
        return recover(self.client().include_data_sources(), self.settings.journal_dir)

    def path_provider(self, subfolder: str | None = None) -> Any:
        """An ophyd-async PathProvider writing one uniquely named file per detector
        per run under `frames/` (which the server may read). The folder is 0700 when
        private; each file is made 0600 when the writer sees its stream resource."""
        from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

        folder: Path = self.settings.frames_dir
        if subfolder:
            folder = folder / subfolder
        make_dir(self.settings.frames_dir, self.settings.private)
        make_dir(folder, self.settings.private)
        return StaticPathProvider(UUIDFilenameProvider(), folder)

    def __repr__(self) -> str:
        where = self.settings.uri or str(self.settings.data_dir)
        return f"<EmbeddedStore {where} {'running' if self.running else 'stopped'}>"
