"""The SQLite writer queue: writers of any process hold one advisory lock per database, re-entrantly."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from onestop.gateway.store.writer import WriterQueue


def _held_elsewhere(path: Path) -> bool:
    """Whether another open file description holds the lock (a separate descriptor, as another process has)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_writer_holds_the_database_lock_until_it_leaves(tmp_path: Path) -> None:
    """While a write transaction runs, a writer of another process cannot take its turn; after it, it can."""
    db = tmp_path / "gw.db"
    queue = WriterQueue(str(db))
    lock = Path(f"{db}-writer")
    with queue:
        assert _held_elsewhere(lock)
    assert not _held_elsewhere(lock)


def test_a_nested_write_keeps_the_lock_until_the_outermost_leaves(tmp_path: Path) -> None:
    """Re-entering from the same thread neither deadlocks nor lets the lock go at the inner exit."""
    db = tmp_path / "gw.db"
    queue = WriterQueue(str(db))
    lock = Path(f"{db}-writer")
    with queue:
        with queue:
            assert _held_elsewhere(lock)
        assert _held_elsewhere(lock)
    assert not _held_elsewhere(lock)


def test_a_killed_writer_leaves_no_stuck_lock(tmp_path: Path) -> None:
    """A process killed inside its turn releases it (the kernel drops its flock), so the next writer runs."""
    db = tmp_path / "gw.db"
    code = (
        "import os, signal, sys\n"
        "from onestop.gateway.store.writer import WriterQueue\n"
        "q = WriterQueue(sys.argv[1])\n"
        "q.__enter__()\n"
        "print('held', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "held"
    assert proc.returncode == -9
    with WriterQueue(str(db)):
        pass
    assert not _held_elsewhere(Path(f"{db}-writer"))


@pytest.mark.parametrize("database", [None, ":memory:"])
def test_an_in_memory_database_queues_threads_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: str | None
) -> None:
    """An in-memory database has no file beside it: the queue creates none and still nests."""
    monkeypatch.chdir(tmp_path)
    queue = WriterQueue(database)
    with queue, queue:
        pass
    assert list(tmp_path.iterdir()) == []
