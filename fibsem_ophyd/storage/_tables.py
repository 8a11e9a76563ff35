"""One thread at a time on the DuckDB connection that holds the catalog's tables.

tiled keeps a run's table rows (events) in a DuckDB file, through one connection
shared by all its worker threads (a SQLAlchemy `StaticPool`: DuckDB is not pooled).
Two requests at once on that connection — the writer appending a run's rows while
a reader reads another run's table — break each other's transaction ("cannot
commit - no transaction is active", "closed pending query result"): both fail
with 500, and a run's write can fail and be left to its journal.

`OneAtATimePool` is that same single connection, checked out by one thread at a
time: a second request waits until the first gives it back (tiled checks out the
connection only around each table operation, a few milliseconds). A checkout that
waits longer than `WAIT_S` fails with the pool's TimeoutError (one request fails with
500 and says why) rather than hanging the server: a connection never given back, or
a thread asking for it a second time while it holds it.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import StaticPool

WAIT_S = 60.0  # the longest a request waits for the connection


class OneAtATimePool(StaticPool):
    """A `StaticPool` whose one connection is lent to one checkout at a time."""

    def __init__(self, creator: Any, wait_s: float = WAIT_S, **kwargs: Any) -> None:
        super().__init__(creator, **kwargs)
        self._turn = threading.Semaphore(1)  # released by whoever gives it back
        self._wait_s = wait_s

    def _do_get(self) -> Any:
        if not self._turn.acquire(timeout=self._wait_s):
            raise PoolTimeoutError(
                f"the tables' DuckDB connection was not given back within {self._wait_s:g} s"
            )
        try:
            return super()._do_get()
        except BaseException:
            self._turn.release()
            raise

    def _do_return_conn(self, record: Any) -> None:
        try:
            super()._do_return_conn(record)
        finally:
            self._turn.release()


def serialise_table_storage(catalog: Any) -> int:
    """Give each DuckDB storage of `catalog` (a tiled catalog adapter) a
    `OneAtATimePool`; returns how many it changed. Call before the app starts."""
    from tiled.storage import SQLStorage

    changed = 0
    for storage in catalog.context.writable_storage.values():
        if isinstance(storage, SQLStorage) and storage.dialect == "duckdb":
            # the pool tiled would build lazily (a cached property), built now
            storage.__dict__["_connection_pool"] = OneAtATimePool(
                lambda storage=storage: storage._adbc_connection.adbc_clone()
            )
            changed += 1
    return changed
