"""WAL checkpoints off the request path (SQLite).

SQLite folds the write-ahead log back into the database file (a checkpoint, with its own fsync) in
the connection whose commit crosses ``wal_autocheckpoint`` pages: every few hundred settlements one
cashier's commit pays for it, which is what the latency tail was made of (p99 of an in-process
10-line settle 7.4 ms with it, 3.1 ms without). The gateway's connections raise that threshold
(``AUTOCHECKPOINT_PAGES``, a safety valve) and a :class:`Checkpointer` thread checkpoints every
``interval`` seconds instead, ``PASSIVE``: it never waits for, nor blocks, a reader or a writer.
Several processes each run one; SQLite lets one checkpoint at a time, the others find it busy.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from typing import Any

import structlog
from sqlalchemy import Engine

__all__ = ["AUTOCHECKPOINT_PAGES", "Checkpointer"]

#: Pages of WAL after which a committing connection checkpoints itself anyway (about 40 MiB): only
#: reached when the checkpointer is stopped or far behind.
AUTOCHECKPOINT_PAGES = 10_000

_log = structlog.get_logger("onestop.gateway.store")


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own connection every ``interval`` seconds.

    Args:
        engine: A SQLite engine from :func:`onestop.gateway.store.db.connect`.
        writer: The store's writer queue (held for the short second pass of each checkpoint).
        interval: Seconds between checkpoints.
    """

    def __init__(self, engine: Engine, writer: AbstractContextManager[Any], interval: float = 0.25) -> None:
        """Start the thread."""
        self._engine = engine
        self._writer = writer
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="onestop-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        raw = self._engine.raw_connection()
        try:
            db: Any = raw.driver_connection
            while not self._stop.wait(self._interval):
                try:
                    # The bulk, beside the writers; then, between two writers, the few frames written
                    # meanwhile, so that the log is wholly checkpointed when the next writer begins and
                    # that writer starts it over (a log never wholly checkpointed only grows).
                    _busy, log, done = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if done == log:
                        # Only when the bulk is in: a pass held back by a long read would otherwise copy
                        # its whole backlog while every writer waits.
                        with self._writer:
                            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except Exception as exc:  # a failed pass is retried on the next tick; the valve still holds
                    _log.warning("gateway.checkpoint_failed", error=type(exc).__name__)
        finally:
            raw.close()

    def stop(self) -> None:
        """Stop after the checkpoint under way, if any."""
        self._stop.set()
        self._thread.join(timeout=10)
