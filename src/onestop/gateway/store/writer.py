"""The SQLite writer queue: one write transaction at a time, handed over without SQLite's busy sleeps.

SQLite admits one writer. A writer that finds the database locked is retried by SQLite's busy
handler, which sleeps 1, 2, 5, 10, 15, 20, 25… ms between tries, so under load a writer waits long
after the lock is free. Writers here queue instead: threads of one process on a lock, processes on
an advisory ``flock`` of a file beside the database (``<db>-writer``), both woken by the kernel the
moment the previous writer lets go. The kernel drops a killed process's ``flock``, so a crash never
leaves the queue stuck; SQLite's own lock stays what guarantees one writer.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: threads still queue, processes meet the busy handler
    fcntl = None  # type: ignore[assignment]

__all__ = ["WriterQueue"]


class WriterQueue:
    """A re-entrant context manager held around each SQLite write transaction.

    Args:
        database: The database file, or None (in-memory database: threads only).
    """

    def __init__(self, database: str | None) -> None:
        """Queue writers of ``database``."""
        self._lock = threading.RLock()
        self._path = f"{database}-writer" if database and database != ":memory:" and fcntl is not None else None
        self._depth = 0
        self._fd: int | None = None

    def __enter__(self) -> None:
        """Wait for the turn of this thread (and process)."""
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1 and self._path is not None:
            try:
                fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # a read-only directory: SQLite's busy handler still orders processes
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:
                os.close(fd)
                return
            self._fd = fd

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Hand the turn to the next writer."""
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor releases the flock
        self._lock.release()
